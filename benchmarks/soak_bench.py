"""Memory and throughput over a long Play, printed every 10 s (a benchmark, not a test).

    python benchmarks/soak_bench.py [--minutes 3] [--every 10] [--net toy|big|both]
    python benchmarks/soak_bench.py --headless 2000000

The window (offscreen unless a display is set) plays the toy net, then 784-128-10 on
Fashion-MNIST, at full speed with the default step-back history. Every `--every` seconds
it prints the process's resident memory, the steps per second over the last interval,
the steps done, the checkpoints the history keeps and the loss history's length, so
growth can be matched to what grows. It ends with a diagnosis of a checkpoint's real size
against the bytes the history budget counts for it (tracemalloc, outside the window).
Its columns: the window's RSS, the training process's (the process worker), steps per second,
steps done, checkpoints kept and dropped, and the loss points the snapshot holds.

--headless STEPS plays a toy Run (default history budget) without a window for STEPS steps,
pickling a snapshot every 1/15 s as the training process sends one a frame, and prints RSS,
steps per second and the loss history's points and bytes at every tenth of the way.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings

from _common import load_avg
from bpviz.engine.presets import get_preset
from bpviz.gui.main import wait_until


def rss_mb(pid="self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_rss_mb(win) -> float:
    """The training process's resident memory (the process worker), else NaN (thread worker)."""
    process = getattr(win.controller.worker, "process", None)
    try:
        return rss_mb(process.pid)
    except (AttributeError, OSError):
        return float("nan")


def steps_of(snap) -> int:
    """Steps the run has done: the frontier (a folded loss history holds fewer points than steps)."""
    return snap.frontier if snap.frontier is not None else len(snap.losses)


def soak(win, cfg, dataset, minutes: float, every: float) -> list[tuple]:
    c = win.controller
    before = c.latest.run_id if c.latest is not None else None
    c.rebuild(cfg, dataset)
    if not wait_until(lambda: c.latest is not None and c.latest.config == cfg and c.latest.run_id != before, 120):
        raise SystemExit(f"could not load {dataset}: {win.last_error}")
    print(f"\n{dataset} {'-'.join(map(str, cfg.sizes))}: Play for {minutes:g} min; {load_avg()}")
    print(f"{'s':>5} {'RSS MB':>8} {'child MB':>9} {'steps/s':>9} {'steps':>9} {'checkpoints':>12} {'dropped':>8} "
          f"{'losses':>9}")
    c.request_play()
    wait_until(lambda: c.playing, 10)
    rows = []
    t0 = time.perf_counter()
    last_t, last_steps = t0, steps_of(c.latest)
    while time.perf_counter() - t0 < minutes * 60:
        wait_until(lambda: False, every)
        now, snap = time.perf_counter(), c.latest
        steps = steps_of(snap)
        kept, _oldest, dropped = snap.history
        row = (now - t0, rss_mb(), (steps - last_steps) / (now - last_t), steps, kept, dropped, child_rss_mb(win))
        rows.append(row)
        print(f"{row[0]:5.0f} {row[1]:8.1f} {row[6]:9.1f} {row[2]:9.0f} {steps:9d} {kept:12d} {dropped:8d} "
              f"{len(snap.losses):9d}", flush=True)
        last_t, last_steps = now, steps
    c.request_pause()
    wait_until(lambda: not c.playing, 10)
    first, last = rows[0], rows[-1]
    minutes_run = (last[0] - first[0]) / 60
    print(f"growth after the first interval: {last[1] - first[1]:+.1f} MB in {minutes_run:.1f} min "
          f"({(last[1] - first[1]) / max(minutes_run, 1e-9):+.1f} MB/min, "
          f"{(last[1] - first[1]) * 2**20 / max(last[3] - first[3], 1):.0f} bytes a step); "
          f"steps/s first {first[2]:.0f}, last {last[2]:.0f}; training process {last[6] - first[6]:+.1f} MB "
          f"({(last[6] - first[6]) * 2**20 / max(last[3] - first[3], 1):.0f} bytes a step)")
    return rows


def checkpoint_cost(cfg) -> tuple[float, float, float]:
    """(bytes a checkpoint really holds, bytes of its arrays' data, bytes the history budget
    counts for it), measured on 5,000 checkpoints made the way the run model makes them."""
    from bpviz.engine.trainer import Trainer, TrainerState
    from bpviz.runs import load_run_data
    data = load_run_data("toy") if cfg.sizes[0] == 3 else None
    if data is None:
        return float("nan"), float("nan"), float("nan")
    t = Trainer(cfg, data.train)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept, counted = [], 0
    for _ in range(5000):
        r = t.finish_step()
        params = tuple((r.info.base[f"W{l}"], r.info.base.get(f"b{l}")) for l in range(1, cfg.n_layers + 1))
        kept.append(TrainerState(params, r.step, r.epoch, r.batch, (), (), 0))
        counted += sum(w.nbytes + (0 if b is None else b.nbytes) for w, b in params)
    t.reset()  # drops the trainer's own loss history, which is not the checkpoints' memory
    real = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    try:
        from bpviz.engine.run import CHECKPOINT_OVERHEAD  # what the run adds to the arrays' bytes
    except ImportError:
        CHECKPOINT_OVERHEAD = 0
    return real / 5000, counted / 5000, counted / 5000 + CHECKPOINT_OVERHEAD


def headless(steps: int) -> None:
    import pickle
    from bpviz.engine.run import Run
    from bpviz.runs import load_run_data
    run = Run.build(get_preset("toy").config, load_run_data("toy"))
    print(f"toy 3-4-1 headless, {steps} steps at full speed, a snapshot pickled every 1/15 s; {load_avg()}")
    print(f"{'steps':>9} {'RSS MB':>8} {'steps/s':>9} {'points':>9} {'loss MB':>8} {'frame MB':>9}")
    rows, frame_bytes = [], 0
    t0 = last_t = next_frame = time.perf_counter()
    last_steps, mark = 0, steps // 10
    while run.frontier < steps:
        run.play(0.005, paced=False)
        now = time.perf_counter()
        if now >= next_frame:
            frame_bytes = len(pickle.dumps(run.snapshot(playing=True), protocol=pickle.HIGHEST_PROTOCOL))
            next_frame = now + 1 / 15
        if run.frontier >= mark:
            row = (run.frontier, rss_mb(), (run.frontier - last_steps) / (now - last_t))
            rows.append(row)
            # what the run counts for its loss history (before it did: its own two series' buffers)
            loss_mb = (run.loss_bytes if hasattr(run, "loss_bytes") else
                       run.losses._buf.nbytes + run.epoch_losses._buf.nbytes) / 2**20
            print(f"{row[0]:9d} {row[1]:8.1f} {row[2]:9.0f} {len(run.losses):9d} {loss_mb:8.1f} "
                  f"{frame_bytes / 2**20:9.2f}", flush=True)
            last_t, last_steps, mark = now, run.frontier, mark + steps // 10
    first, last = rows[0], rows[-1]
    print(f"after the first tenth: {last[1] - first[1]:+.1f} MB, "
          f"{(last[1] - first[1]) * 2**20 / max(last[0] - first[0], 1):.1f} bytes a step; "
          f"steps/s first {first[2]:.0f}, last {last[2]:.0f}; {time.perf_counter() - t0:.0f} s in all; {load_avg()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--every", type=float, default=10.0)
    ap.add_argument("--net", choices=["toy", "big", "both"], default="both")
    ap.add_argument("--headless", type=int, metavar="STEPS", help="a toy Run without a window for STEPS steps")
    args = ap.parse_args()
    if args.headless:
        headless(args.headless)
        return
    from bpviz.gui.main import _application
    from bpviz.gui.window import MainWindow
    app = _application()  # noqa: F841
    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat))
        win.resize(1600, 1000)
        win.show()
        if args.net in ("toy", "both"):
            soak(win, get_preset("toy").config, "toy", args.minutes, args.every)
        if args.net in ("big", "both"):
            try:
                soak(win, get_preset("mnist").config.with_(lr=0.1), "fashion-mnist", args.minutes, args.every)
            except SystemExit as e:
                print(f"784-128-10 skipped: {e}")
        win.close()
        win.controller.shutdown()
    real, data_bytes, counted = checkpoint_cost(get_preset("toy").config)
    print(f"\ntoy checkpoint: {real:.0f} bytes held (tracemalloc); its arrays' data {data_bytes:.0f} bytes; "
          f"the history budget counts {counted:.0f} bytes ({real / counted:.2f}x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
