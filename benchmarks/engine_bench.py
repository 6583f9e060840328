"""Engine epoch time against a plain NumPy loop doing the same math, side by side.

    python benchmarks/engine_bench.py [--samples 60000] [--repeats 3] [--torch]

784-128-10, ReLU, softmax + cross-entropy, batch 100, float32, on synthetic uint8
images (the arithmetic does not depend on the pixel values). Prints a table of the
best of `repeats` epochs for each, their ratio, and the machine limit estimated from
the step's FLOPs and the measured peak GEMM rate.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.network import init_params
from bpviz.engine.trainer import Trainer

SIZES = (784, 128, 10)


def plain_numpy_epoch(params, data: ArraySet, batch: int, lr: float, order: np.ndarray) -> float:
    """The textbook loop (seed 000's equations), in-place updates, no stage results."""
    (w1, b1), (w2, b2) = [(w.copy(), b.copy()) for w, b in params]
    dt = w1.dtype
    lr = dt.type(lr)
    t0 = time.perf_counter()
    for s in range(0, data.n_samples, batch):
        x, y = data.batch(order[s:s + batch], dt)  # (m, 784), (m, 10)
        m = len(x)
        z1 = x @ w1 + b1  # (m, 128)
        a1 = np.maximum(z1, 0)
        z2 = a1 @ w2 + b2  # (m, 10)
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        a2 = e / e.sum(axis=1, keepdims=True)
        loss = -np.sum(y * np.log(a2 + 1e-12)) / m
        d2 = a2 - y  # (m, 10)
        dw2 = (a1.T @ d2) / m
        db2 = d2.sum(0) / m
        d1 = (d2 @ w2.T) * (z1 > 0)  # (m, 128)
        dw1 = (x.T @ d1) / m
        db1 = d1.sum(0) / m
        w1 -= lr * dw1; b1 -= lr * db1; w2 -= lr * dw2; b2 -= lr * db2
    float(loss)
    return time.perf_counter() - t0


def engine_epoch(cfg, data) -> float:
    t = Trainer(cfg, data)
    t0 = time.perf_counter()
    t.finish_epoch()
    return time.perf_counter() - t0


def torch_epoch(params, data, batch, lr, order) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    w1, b1, w2, b2 = [torch.tensor(np.array(a), requires_grad=True) for wb in params for a in wb]
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=lr)
    xs = torch.from_numpy(data.x)
    labels = torch.from_numpy(data.labels.astype(np.int64))
    idx_all = torch.from_numpy(order)
    t0 = time.perf_counter()
    for s in range(0, data.n_samples, batch):
        idx = idx_all[s:s + batch]
        x = xs[idx].float() / 255
        logits = torch.relu(x @ w1 + b1) @ w2 + b2
        loss = torch.nn.functional.cross_entropy(logits, labels[idx])
        opt.zero_grad(); loss.backward(); opt.step()
    return time.perf_counter() - t0


def peak_gemm_flops(dtype) -> float:
    a = np.random.default_rng(0).random((1024, 1024)).astype(dtype)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter(); a @ a; best = min(best, time.perf_counter() - t0)
    return 2 * 1024 ** 3 / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch", action="store_true", help="also time PyTorch when installed")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.samples, 784), dtype=np.uint8)  # (N, 784)
    labels = rng.integers(0, 10, args.samples).astype(np.uint8)
    data = ArraySet(x, labels=labels, n_classes=10, scale=1 / 255)
    cfg = NetConfig(SIZES, hidden="relu", output_loss="softmax-ce", init="he", seed=0,
                    dtype="float32", lr=0.1, batch_size=100)
    params = init_params(cfg)
    order = np.random.default_rng([cfg.seed, 0]).permutation(args.samples)
    rows = {"plain NumPy": [], "bpviz engine": [], "PyTorch": []}
    for _ in range(args.repeats):  # interleaved so both see the same machine load
        rows["plain NumPy"].append(plain_numpy_epoch(params, data, 100, cfg.lr, order))
        rows["bpviz engine"].append(engine_epoch(cfg, data))
        if args.torch:
            t = torch_epoch(params, data, 100, cfg.lr, order)
            if t is not None:
                rows["PyTorch"].append(t)
    flops = 0
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        flops += 3 * 2 * args.samples * n_in * n_out  # forward, dW and dA GEMMs
    limit = flops / peak_gemm_flops(np.float32)
    base = min(rows["plain NumPy"])
    print(f"{'':14} {'best epoch s':>12} {'ratio':>7}   ({args.samples} samples, batch 100, float32)")
    for name, ts in rows.items():
        if ts:
            print(f"{name:14} {min(ts):12.3f} {min(ts) / base:7.2f}x")
    print(f"{'GEMM limit':14} {limit:12.3f} {limit / base:7.2f}x   (step FLOPs / peak 1024^3 GEMM rate)")


if __name__ == "__main__":
    main()
