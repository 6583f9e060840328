"""Each panel's redraw time, alone (no window, no worker), offscreen unless a display is set.

    python benchmarks/panels_bench.py [--repeats N] [--size WxH]

For the toy net (3-4-1) and 784-128-10 (synthetic 28x28 uint8 images, batch 100) the
script walks one whole training step stage by stage, as a user pressing Step does, and
times per panel and stage:
- update: show_snapshot(), the panel's own Python work (items, labels, colours);
- frame: update plus painting the panel into a pixmap (widget.grab()), which is what
  the screen then costs; Qt paints lazily, so "update" alone undercounts.
It prints the median and worst frame per panel, best of N walks.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

from bpviz.engine.dataset import ArraySet
from bpviz.engine.presets import get_preset
from bpviz.engine.snapshot import Snapshot
from bpviz.engine.stats import layer_stats
from bpviz.engine.trainer import Trainer
from bpviz.runs import load_run_data, make_trainer

BUDGET_MS = {"toy": 10.0, "784-128-10": 25.0}  # the diagram's budget (ARCHITECTURE.md)


def snapshots(t: Trainer, image_shape=None, classes=None, warm_steps=20) -> list[Snapshot]:
    """One Snapshot per stage of the step after `warm_steps` whole steps (so the loss
    curve and the statistics history have points)."""
    cfg = t.cfg
    history = []
    for _ in range(warm_steps):
        t.finish_step()
        history.append((t.steps_done, layer_stats(t.last.arrays, cfg.n_layers, cfg.hidden, cfg.lr)))
    out = []
    while True:
        r = t.next_stage()
        out.append(Snapshot(stage=r, config=cfg, params=t.params, losses=np.array(t.losses),
                            epoch_losses=np.array(t.epoch_losses), test_accuracy=[],
                            stats=layer_stats(r.arrays, cfg.n_layers, cfg.hidden, cfg.lr),
                            stats_history=list(history), data_name="bench", image_shape=image_shape,
                            class_names=classes, status="", message="", serial=len(out) + 1))
        if r.step_end:
            return out


def toy_snapshots() -> list[Snapshot]:
    return snapshots(make_trainer(get_preset("toy").config, load_run_data("toy")))


def mnist_snapshots(n=1000) -> list[Snapshot]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)  # (n,)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)  # (n, 28, 28) faint noise
    for k, c in enumerate(labels):  # a bright bar whose place is the label
        r0, c0 = 4 + (c // 5) * 12, 2 + (c % 5) * 5
        x[k, r0:r0 + 8, c0:c0 + 5] = 255
    ds = ArraySet(x.reshape(n, 784), labels=labels, n_classes=10, scale=1 / 255, image_shape=(28, 28))
    cfg = get_preset("mnist").config  # 784-128-10, batch 100
    return snapshots(Trainer(cfg, ds), image_shape=(28, 28), classes=[str(c) for c in range(10)])


def measure(app, cls, snaps, size, repeats) -> tuple[float, float, float]:
    """(median update ms, median frame ms, worst frame ms) over the step's stages, best of `repeats` walks."""
    p = cls()
    p.resize(*size)
    p.show()
    app.processEvents()
    p.show_snapshot(snaps[-1])  # first draw builds labels and ranges: not counted
    p.grab()
    best = None
    for _ in range(repeats):
        upd, frame = [], []
        for s in snaps:
            t0 = time.perf_counter()
            p.show_snapshot(s)
            t1 = time.perf_counter()
            p.grab()
            t2 = time.perf_counter()
            upd.append((t1 - t0) * 1e3)
            frame.append((t2 - t0) * 1e3)
        row = (statistics.median(upd), statistics.median(frame), max(frame))
        best = row if best is None or row[1] < best[1] else best
    p.close()
    p.deleteLater()
    app.processEvents()
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", default="1000x600", help="panel size in pixels, WxH")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from bpviz.gui.window import panel_classes
    over = 0
    for net, snaps in (("toy", toy_snapshots()), ("784-128-10", mnist_snapshots())):
        print(f"\n{net}: {len(snaps)} stages, panel {size[0]}x{size[1]}, best of {args.repeats}")
        print(f"  {'panel':<10} {'update ms':>10} {'frame ms':>10} {'worst ms':>10}")
        for cls in panel_classes():
            u, f, w = measure(app, cls, snaps, size, args.repeats)
            print(f"  {cls.object_name:<10} {u:>10.2f} {f:>10.2f} {w:>10.2f}")
            if cls.object_name == "diagram" and f > BUDGET_MS[net]:
                print(f"  diagram over its {BUDGET_MS[net]:.0f} ms budget")
                over += 1
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
