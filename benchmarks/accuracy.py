"""Test accuracy and time per epoch on real data for the setups the sources describe.

    python benchmarks/accuracy.py [--quick] [--epochs N] [--steps N] [--only NAME] [--numpy]
                                  [--dataset fashion-mnist|mnist] [--data-dir DIR]

Setups (784 inputs, 10 classes, softmax + cross-entropy, inputs scaled by 1/255):
  relu128-lr0.1   784-128-10 ReLU, He init, batch 100, lr 0.1, 10 epochs
  seed000         the same with seed 000's lr 0.001
  seed003         784-10-10 ReLU, init rand-1/2, full batch, lr 0.1, 1000 steps

The training runs through bpviz's engine (Trainer, stage by stage, as the app does);
--numpy (or an engine that does not import) uses the plain NumPy loop below instead.
The data comes from bpviz.data.load_dataset (Debian's package, the cache, or a download).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bpviz.data.datasets import load_dataset  # noqa: E402
from bpviz.data.errors import DataError  # noqa: E402


@dataclass(frozen=True)
class Setup:
    name: str
    sizes: tuple[int, ...]
    init: str
    lr: float
    batch: int  # 0: the whole training set
    epochs: int | None  # for minibatch runs
    steps: int | None  # for full-batch runs


SETUPS = (
    Setup("relu128-lr0.1", (784, 128, 10), "he", 0.1, 100, 10, None),
    Setup("seed000", (784, 128, 10), "he", 0.001, 100, 10, None),
    Setup("seed003", (784, 10, 10), "uniform-half", 0.1, 0, None, 1000),
)


def run_engine(s: Setup, ds, epochs: int, steps: int, seed: int) -> tuple[float, list[float]]:
    from bpviz.engine.config import NetConfig
    from bpviz.engine.network import predict
    from bpviz.engine.trainer import Trainer
    cfg = NetConfig(s.sizes, hidden="relu", output_loss="softmax-ce", bias=True, reduction="mean",
                    init=s.init, seed=seed, lr=s.lr, batch_size=s.batch)
    tr = Trainer(cfg, ds.train_set())
    times = []
    for _ in range(epochs if s.batch else steps):
        t0 = time.perf_counter()
        tr.finish_epoch() if s.batch else tr.finish_step()  # a full-batch step is one epoch
        times.append(time.perf_counter() - t0)
    test = ds.test_set()
    x, _ = test.batch(slice(None), tr.dtype)  # (10000, 784)
    out = predict(tr.params, x, cfg)  # (10000, 10)
    return float(np.mean(np.argmax(out, axis=1) == test.labels)), times


def run_numpy(s: Setup, ds, epochs: int, steps: int, seed: int) -> tuple[float, list[float]]:
    """The same network in a plain loop: a cross-check on the engine's numbers and speed."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(s.sizes[:-1], s.sizes[1:]):
        if s.init == "he":
            w = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)  # (n_in, n_out)
        else:
            w = rng.random((n_in, n_out)) - 0.5  # (n_in, n_out)
        params.append([w, np.zeros(n_out)])
    x_all = ds.train_x  # (60000, 784) uint8
    y_all = ds.train_labels  # (60000,)
    n = len(x_all)
    bs = s.batch or n

    def forward(x):
        acts = [x]
        for i, (w, b) in enumerate(params):
            z = acts[-1] @ w + b  # (m, n_out)
            acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)  # (m, 10), shifted so exp cannot overflow
        p = np.exp(z)
        acts[-1] = p / p.sum(axis=1, keepdims=True)  # (m, 10) softmax
        return acts

    times = []
    for epoch in range(epochs if s.batch else steps):
        t0 = time.perf_counter()
        order = rng.permutation(n) if s.batch < n else np.arange(n)  # reshuffle per epoch for minibatches
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            x = x_all[idx].astype(np.float64) / 255  # (m, 784)
            acts = forward(x)
            dz = acts[-1].copy()  # (m, 10): softmax + CE gradient p - y
            dz[np.arange(len(idx)), y_all[idx]] -= 1
            dz /= len(idx)
            for i in range(len(params) - 1, -1, -1):
                w, b = params[i]
                dw = acts[i].T @ dz  # (n_in, n_out)
                db = dz.sum(axis=0)  # (n_out,)
                if i:
                    dz = (dz @ w.T) * (acts[i] > 0)  # (m, n_in): back through ReLU
                params[i] = [w - s.lr * dw, b - s.lr * db]
        times.append(time.perf_counter() - t0)
    p = forward(ds.test_x.astype(np.float64) / 255)[-1]  # (10000, 10)
    return float(np.mean(np.argmax(p, axis=1) == ds.test_labels)), times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 epoch and 50 full-batch steps")
    ap.add_argument("--epochs", type=int, help="epochs for the minibatch setups (default 10)")
    ap.add_argument("--steps", type=int, help="steps for the full-batch setup (default 1000)")
    ap.add_argument("--only", choices=[s.name for s in SETUPS], action="append")
    ap.add_argument("--numpy", action="store_true", help="train with the plain NumPy loop, not the engine")
    ap.add_argument("--dataset", default="fashion-mnist", choices=("fashion-mnist", "mnist"))
    ap.add_argument("--data-dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    try:
        ds = load_dataset(args.dataset, args.data_dir)
    except DataError as e:
        print(f"accuracy: error: {e}", file=sys.stderr)
        return 1
    runner, how = run_engine, "bpviz engine"
    if args.numpy:
        runner, how = run_numpy, "plain NumPy"
    else:
        try:
            import bpviz.engine.trainer  # noqa: F401
        except ImportError:
            runner, how = run_numpy, "plain NumPy (the engine did not import)"
    print(f"{args.dataset} from {ds.source}, trained with {how}, seed {args.seed}")
    print(f"{'setup':<15} {'length':>12} {'test acc':>9} {'s/epoch':>9} {'total s':>8}")
    for s in SETUPS:
        if args.only and s.name not in args.only:
            continue
        epochs = args.epochs or (1 if args.quick else s.epochs or 0)
        steps = args.steps or (50 if args.quick else s.steps or 0)
        acc, times = runner(s, ds, epochs, steps, args.seed)
        length = f"{epochs} epochs" if s.batch else f"{steps} steps"
        print(f"{s.name:<15} {length:>12} {acc:>9.4f} {np.mean(times):>9.3f} {sum(times):>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
