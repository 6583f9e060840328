"""Each panel's redraw time, alone (no window, no worker), offscreen unless a display is set.

    python benchmarks/panels_bench.py [--repeats N] [--size WxH]

For the toy net (3-4-1) and 784-128-10 (synthetic 28x28 uint8 images, batch 100) the
script walks one whole training step stage by stage, as a user pressing Step does, and
times per panel and stage:
- update: show_snapshot(), the panel's own Python work (items, labels, colours);
- frame: update plus painting the panel into a pixmap (widget.grab()), which is what
  the screen then costs; Qt paints lazily, so "update" alone undercounts.
It prints min / median / max over N walks (the panels take turns) of each walk's median
and worst frame per panel.
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
from bpviz.engine.trainer import Trainer
from bpviz.engine.run import Run
from bpviz.runs import RunData, load_run_data, make_trainer

BUDGET_MS = {"toy": 10.0, "784-128-10": 25.0}  # the diagram's budget (ARCHITECTURE.md)


def snapshots(t: Trainer, image_shape=None, classes=None, warm_steps=20) -> list[Snapshot]:
    """One Snapshot per stage of the step after `warm_steps` whole steps (so the loss
    curve and the statistics history have points), built by the run model as the window's
    worker builds them."""
    run = Run(t, RunData("bench", t.data, None, None if classes is None else tuple(classes), "bench"))
    for _ in range(warm_steps):
        t.finish_step()  # the run sees every stage (its trainer observer): losses and statistics grow
    out = []
    while True:
        r = t.next_stage()
        out.append(run.snapshot(len(out) + 1))
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


def walk(p, snaps) -> tuple[float, float, float]:
    """One walk over the step's stages: (median update ms, median frame ms, worst frame ms)."""
    upd, frame = [], []
    for s in snaps:
        t0 = time.perf_counter()
        p.show_snapshot(s)
        t1 = time.perf_counter()
        p.grab()
        t2 = time.perf_counter()
        upd.append((t1 - t0) * 1e3)
        frame.append((t2 - t0) * 1e3)
    return statistics.median(upd), statistics.median(frame), max(frame)


def measure(app, classes, snaps, size, repeats) -> dict:
    """{panel: ([update], [frame], [worst])}, one entry a walk; the panels take turns."""
    panels = []
    for cls in classes:
        p = cls()
        p.resize(*size)
        p.show()
        app.processEvents()
        p.show_snapshot(snaps[-1])  # first draw builds labels and ranges: not counted
        p.grab()
        panels.append(p)
    rows = {p.object_name: ([], [], []) for p in panels}
    for _ in range(repeats):
        for p in panels:
            for out, v in zip(rows[p.object_name], walk(p, snaps)):
                out.append(v)
    for p in panels:
        p.close()
        p.deleteLater()
    app.processEvents()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", default="1000x600", help="panel size in pixels, WxH")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from bpviz.gui.window import panel_classes
    over = 0
    from _common import load_avg, spread
    for net, snaps in (("toy", toy_snapshots()), ("784-128-10", mnist_snapshots())):
        print(f"\n{net}: {len(snaps)} stages, panel {size[0]}x{size[1]}, min/median/max of {args.repeats} walks; "
              f"{load_avg()}")
        print(f"  {'panel':<10} {'update ms (median)':>20} {'frame ms (median)':>20} {'worst frame ms':>20}")
        for name, (u, f, w) in measure(app, panel_classes(), snaps, size, args.repeats).items():
            print(f"  {name:<10} {spread(u, '{:.1f}'):>20} {spread(f, '{:.1f}'):>20} {spread(w, '{:.1f}'):>20}")
            if name == "diagram" and statistics.median(f) > BUDGET_MS[net]:
                print(f"  diagram over its {BUDGET_MS[net]:.0f} ms budget")
                over += 1
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
