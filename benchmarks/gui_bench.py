"""The window's figures, measured side by side in one run (offscreen unless a display is set).

    python benchmarks/gui_bench.py [--quick]

- step latency: a Step request to every panel redrawn, toy and 784-128-10
  (Fashion-MNIST, or synthetic images of that shape when it is not installed)
- Play on 784-128-10: frames drawn per second, the GUI thread's longest stall (a 5 ms
  timer's largest gap), and the epoch time with the window playing against the
  headless trainer on the same data, as a ratio
- start-up: process start to the first frame drawn (`bpviz` with BPVIZ_EXIT_WHEN_SHOWN)
- memory: peak resident memory of this process with the 784-128-10 set loaded and
  the step-back history at its default size
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

from bpviz.engine.presets import get_preset
from bpviz.gui.main import wait_until


def pump(app, until, timeout):
    return wait_until(until, timeout)  # the app's own wait: in an event loop, not a busy loop


def make_window(app, tmpdir):
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(os.path.join(tmpdir, "s.ini"), QSettings.IniFormat))
    win.resize(1600, 1000)
    win.show()
    return win


def load(app, win, cfg, dataset):
    c = win.controller
    c.rebuild(cfg, dataset)
    ok = pump(app, lambda: c.latest is not None and c.latest.config == cfg, 120)
    if not ok:
        raise SystemExit(f"could not load {dataset}: {win.last_error}")


def step_latency(app, win, n):
    """ms from request_step to the window's on_snapshot having redrawn every panel."""
    c = win.controller
    drawn = {}
    win.controller.snapshot_changed.connect(lambda s: drawn.__setitem__(s.serial, time.perf_counter()))
    out = []
    for _ in range(n):
        pump(app, lambda: False, 0.05)  # idle, as between a user's key presses
        before = c.latest.serial
        t0 = time.perf_counter()
        c.request_step()
        pump(app, lambda: any(k > before for k in drawn), 10)
        k = min(k for k in drawn if k > before)
        out.append((drawn[k] - t0) * 1000)
        drawn.clear()
    return out


def play_figures(app, win, seconds):
    """(frames per second, longest GUI stall in ms, steps done) while playing."""
    c = win.controller
    frames = [0]
    c.snapshot_changed.connect(lambda _: frames.__setitem__(0, frames[0] + 1))
    gaps = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    steps0 = len(c.latest.losses)
    c.request_play()
    pump(app, lambda: c.playing, 10)
    frames[0] = 0
    timer.start()
    t0 = time.perf_counter()
    pump(app, lambda: False, seconds)
    elapsed = time.perf_counter() - t0
    timer.stop()
    c.request_pause()
    pump(app, lambda: not c.playing, 10)
    pump(app, lambda: False, 0.2)
    return frames[0] / elapsed, max(gaps[3:]) if len(gaps) > 3 else float("nan"), len(c.latest.losses) - steps0, elapsed


def headless_seconds_per_step(cfg, data, steps):
    """The headless trainer on the same data, one BLAS thread like the window's worker."""
    from threadpoolctl import threadpool_limits
    from bpviz.runs import make_trainer
    t = make_trainer(cfg, data)
    t.run_steps(5)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        t.run_steps(steps)
        return (time.perf_counter() - t0) / steps


def startup_seconds(repeats):
    exe = os.path.join(os.path.dirname(sys.executable), "bpviz")
    env = dict(os.environ, BPVIZ_EXIT_WHEN_SHOWN="1")
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([exe], env=env, check=True, capture_output=True, timeout=120)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    import tempfile
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_steps, play_s = (10, 3.0) if args.quick else (30, 8.0)
    from bpviz.gui.main import _application
    app = _application()  # the app's own set-up (style, GIL switch interval)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        win = make_window(app, tmp)
        load(app, win, get_preset("toy").config, "toy")
        toy = step_latency(app, win, n_steps)
        rows.append(("step latency, toy (ms)", f"median {statistics.median(toy):.1f}, max {max(toy):.1f}"))
        cfg = get_preset("mnist").config.with_(lr=0.1)
        try:
            from bpviz.runs import load_run_data
            data = load_run_data("fashion-mnist", allow_download=False)
            dataset = "fashion-mnist"
        except Exception:
            data, dataset = None, None
        if dataset is None:
            rows.append(("784-128-10", "Fashion-MNIST not installed: skipped"))
        else:
            load(app, win, cfg, dataset)
            big = step_latency(app, win, n_steps)
            rows.append(("step latency, 784-128-10 (ms)", f"median {statistics.median(big):.1f}, max {max(big):.1f}"))
            fps, stall, steps, elapsed = play_figures(app, win, play_s)
            window_per_step = elapsed / max(steps, 1)
            headless_per_step = headless_seconds_per_step(cfg, data, max(50, min(steps, 600)))
            epoch = 600  # steps in a 60,000-sample epoch at batch 100
            rows.append(("play: frames drawn per second", f"{fps:.1f}"))
            rows.append(("play: longest GUI-thread stall (ms)", f"{stall:.0f}"))
            rows.append(("epoch, window playing vs headless", f"{window_per_step * epoch:.2f} s vs "
                         f"{headless_per_step * epoch:.2f} s = {window_per_step / headless_per_step:.2f}x"))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(("peak resident memory (MB)", f"{peak:.0f} (784-128-10 set loaded, history at default)"))
        win.close()
    starts = startup_seconds(2 if args.quick else 3)
    rows.append(("start-up to first frame (s)", f"best {min(starts):.2f}, worst {max(starts):.2f}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
