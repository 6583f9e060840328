"""Training on a thread or in a child process, side by side in one run (issue 11's question:
does moving the run out of the window's process pay?).

    python benchmarks/backend_bench.py [--seconds 8] [--runs 3]

For each backend, interleaved (thread, process, thread, ...), the window plays 784-128-10
at full speed on Fashion-MNIST (synthetic images of that shape when it is not installed)
and we count, over the same wall-clock window:
- training steps per second, and its ratio to the headless engine measured in this run
  (the "epoch in the window / headless epoch" figure: lower is better, 1.0 is free);
- frames per second, where a frame is one snapshot drawn by every visible panel;
- the GUI thread's longest stall: the largest gap of a 5 ms timer.
min / median / max over the runs, and the load average at the time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QSettings, QTimer  # noqa: E402

from bpviz.engine.presets import get_preset  # noqa: E402
from bpviz.gui.main import wait_until  # noqa: E402

CFG = get_preset("mnist").config.with_(lr=0.1)  # 784-128-10, batch 100


def dataset() -> str:
    from bpviz.runs import load_run_data
    try:
        load_run_data("fashion-mnist", allow_download=False)
        return "fashion-mnist"
    except Exception:
        sys.exit("benchmarks/backend_bench.py needs Fashion-MNIST (Debian's dataset-fashion-mnist)")


def headless_steps_per_s(name: str, seconds: float) -> float:
    from threadpoolctl import threadpool_limits
    from bpviz.runs import load_run_data, make_trainer
    t = make_trainer(CFG, load_run_data(name, allow_download=False))
    with threadpool_limits(1):  # as the window's training thread or process runs
        t.finish_step()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            t.finish_step()
            n += 1
    return n / (time.perf_counter() - t0)


def window_run(backend: str, name: str, seconds: float, tmp: str) -> dict:
    from bpviz.gui.controller import Controller
    from bpviz.gui.window import MainWindow
    c = Controller(backend=backend)
    win = MainWindow(controller=c, settings=QSettings(os.path.join(tmp, f"{backend}.ini"), QSettings.IniFormat))
    c.setParent(win)
    win.resize(1366, 768)
    win.show()
    c.rebuild(CFG, name)
    if not wait_until(lambda: c.latest is not None and c.latest.data_name == name, 120):
        raise SystemExit(f"{backend}: could not load {name}: {win.last_error}")
    frames = [0]
    c.snapshot_changed.connect(lambda s: frames.__setitem__(0, frames[0] + 1))
    stall = [0.0]
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        stall[0] = max(stall[0], (now - last[0]) / 1e6)
        last[0] = now
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    c.request_play()
    wait_until(lambda: c.playing and c.latest.position > 5, 30)  # past the first frames
    steps0, frames[0], stall[0] = c.latest.position, 0, 0.0
    last[0] = clock.nsecsElapsed()
    timer.start()
    t0 = time.perf_counter()
    wait_until(lambda: False, seconds)
    elapsed = time.perf_counter() - t0
    steps = c.latest.position - steps0
    timer.stop()
    c.request_pause()
    wait_until(lambda: not c.playing, 10)
    c.shutdown()
    win.close()
    win.deleteLater()
    return {"steps_s": steps / elapsed, "fps": frames[0] / elapsed, "stall_ms": stall[0] - 5}


def fmt(xs, f="{:.2f}"):
    return " / ".join(f.format(v) for v in (min(xs), statistics.median(xs), max(xs)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from bpviz.gui.main import _application
    _application()  # the QApplication the windows need
    name = dataset()
    out = {"thread": [], "process": []}
    headless = []
    load = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            headless.append(headless_steps_per_s(name, min(3.0, args.seconds)))
            for backend in ("thread", "process") if k % 2 == 0 else ("process", "thread"):
                load.append(os.getloadavg()[0])
                r = window_run(backend, name, args.seconds, tmp)
                out[backend].append(r)
                print(f"run {k + 1} {backend:7s}: {r['steps_s']:.0f} steps/s, {r['fps']:.1f} frames/s, "
                      f"longest stall {r['stall_ms']:.0f} ms", flush=True)
    print(f"\n784-128-10 on {name}, full-speed Play for {args.seconds:g} s, {args.runs} interleaved runs; "
          f"load average {fmt(load, '{:.1f}')} (min / median / max)")
    print(f"headless engine (1 BLAS thread): {fmt(headless, '{:.0f}')} steps/s")
    print("backend  | steps/s          | headless/window (epoch ratio) | frames/s          | longest stall ms")
    h = statistics.median(headless)
    for backend, rs in out.items():
        steps = [r["steps_s"] for r in rs]
        print(f"{backend:8s} | {fmt(steps, '{:.0f}'):16s} | {fmt([h / s for s in steps]):29s} | "
              f"{fmt([r['fps'] for r in rs], '{:.1f}'):17s} | {fmt([r['stall_ms'] for r in rs], '{:.0f}')}")


if __name__ == "__main__":
    main()
