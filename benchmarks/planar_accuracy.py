"""Accuracy on the 2-D sets: bpviz's engine next to a plain NumPy loop with the same net.

    python benchmarks/planar_accuracy.py [--quick] [--seeds 3] [--noise 0.0] [--only spiral]

For each set (xor, circle, gauss, spiral) and each seed, the set's preset is trained
twice: by the engine (Trainer, stage by stage, as the app does) and by the plain loop
below, starting from the same initial weights and drawing the same batches, so the two
should reach the same accuracy; the time is printed too. Runs are interleaved (seed by
seed, engine then NumPy) and each figure is given as min / median / max over the seeds,
with the load average before and after. --quick trains a fifth of each preset's epochs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bpviz.data.planar import PLANAR_NAMES  # noqa: E402
from bpviz.engine.network import init_params  # noqa: E402
from bpviz.engine.presets import get_preset  # noqa: E402
from bpviz.runs import DataOptions, load_run_data, make_trainer, scores  # noqa: E402


def run_engine(cfg, data, epochs: int) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    trainer = make_trainer(cfg, data)
    trainer.run_steps(epochs * trainer.n_batches)
    seconds = time.perf_counter() - t0
    got = scores(trainer.params, cfg, data)
    return got["train_accuracy"], got.get("test_accuracy", float("nan")), seconds


def run_numpy(cfg, data, epochs: int) -> tuple[float, float, float]:
    """tanh hidden layers, softmax + cross-entropy, mean over the batch, plain SGD."""
    assert cfg.hidden == "tanh" and cfg.output_loss == "softmax-ce" and cfg.reduction == "mean"
    t0 = time.perf_counter()
    params = [[np.array(w), np.array(b)] for w, b in init_params(cfg)]  # the engine's initial weights
    x_all, labels = data.train.x.astype(np.float64), data.train.labels  # (n, 2), (n,)
    n = len(x_all)
    bs = cfg.batch_size or n

    def forward(x):
        acts = [x]
        for i, (w, b) in enumerate(params):
            z = acts[-1] @ w + b  # (m, n_out)
            acts.append(np.tanh(z) if i < len(params) - 1 else z)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)  # (m, classes), shifted so exp cannot overflow
        p = np.exp(z)
        acts[-1] = p / p.sum(axis=1, keepdims=True)  # (m, classes) softmax
        return acts

    for epoch in range(epochs):
        # the engine's shuffle: one permutation per epoch from (seed, epoch)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(n) if bs < n else np.arange(n)
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            acts = forward(x_all[idx])
            dz = acts[-1].copy()  # (m, classes): softmax + cross-entropy gradient P - Y
            dz[np.arange(len(idx)), labels[idx]] -= 1
            dz /= len(idx)
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                dw = acts[i].T @ dz  # (n_in, n_out)
                db = dz.sum(axis=0)  # (n_out,)
                if i:
                    dz = (dz @ w.T) * (1 - acts[i] ** 2)  # (m, n_in): back through tanh
                params[i] = [w - cfg.lr * dw, b - cfg.lr * db]
    seconds = time.perf_counter() - t0

    def accuracy(s):
        return float(np.mean(np.argmax(forward(s.x.astype(np.float64))[-1], axis=1) == s.labels))
    return accuracy(data.train), accuracy(data.test) if data.test is not None else float("nan"), seconds


def spread(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.min():.3f} / {np.median(v):.3f} / {v.max():.3f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a fifth of each preset's epochs")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per set, at least 3 (default 3)")
    ap.add_argument("--noise", type=float, default=0.0, help="Playground's noise, 0 to 0.5")
    ap.add_argument("--only", choices=PLANAR_NAMES, action="append")
    args = ap.parse_args()
    if args.seeds < 3:
        ap.error("--seeds must be at least 3 (min / median / max)")
    names = args.only or PLANAR_NAMES
    results = {(name, how): [] for name in names for how in ("engine", "numpy")}
    load_before = os.getloadavg()
    for seed in range(args.seeds):
        for name in names:
            preset = get_preset(name)
            data = load_run_data(name, options=DataOptions(noise=args.noise, seed=seed))
            cfg = preset.config.with_(seed=seed)
            epochs = max(1, preset.epochs // 5) if args.quick else preset.epochs
            results[(name, "engine")].append(run_engine(cfg, data, epochs))
            results[(name, "numpy")].append(run_numpy(cfg, data, epochs))
    load_after = os.getloadavg()
    print(f"2-D sets, noise {args.noise:g}, {args.seeds} seeds (points and weights), each preset's network; "
          f"min / median / max over the seeds")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(f"{'set':<7} {'network':<9} {'epochs':>6}  {'trained by':<11} {'train accuracy':>23} "
          f"{'test accuracy':>23} {'seconds':>23}")
    for name in names:
        preset = get_preset(name)
        epochs = max(1, preset.epochs // 5) if args.quick else preset.epochs
        net = "-".join(map(str, preset.config.sizes))
        for how in ("engine", "numpy"):
            rows = results[(name, how)]
            print(f"{name:<7} {net:<9} {epochs:>6}  {'bpviz' if how == 'engine' else 'plain NumPy':<11} "
                  f"{spread([r[0] for r in rows]):>23} {spread([r[1] for r in rows]):>23} "
                  f"{spread([r[2] for r in rows]):>23}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
