"""What a user of the window feels, measured to the end of painting (offscreen unless a
display is set), over interleaved runs.

    python benchmarks/gui_bench.py [--runs 3] [--steps 50] [--play 10] [--quick]

Painting is timed by the application's event dispatch (QApplication.notify): a widget's
paint event is over when notify returns for it, so "the end of the last paint" is when Qt
has really drawn the frame, not when Python code returned.

- Step latency: the Right key (the real shortcut) to the end of the last paint it caused
  anywhere in the window, toy and 784-128-10 (median and worst of --steps presses a run;
  each run also prints its three slowest presses by number, 1 being the first after the
  network loaded, to tell a one-off from a kind of press).
- Play on 784-128-10, started right after loading the network: the first --play seconds
  and the --play seconds after them, separately. A frame is one `snapshot_changed`; it is
  complete when every visible panel painted before the next frame. Reported: complete
  frames a second, each panel's repaints a second, the GUI thread's longest stall (the
  largest gap of a 5 ms timer), the epoch time while playing against the headless
  trainer on the same data in the same run (same BLAS thread count; the mean of a measure
  before the network is loaded and one after Play), and the CPU time the
  window's process and the training process used (a share of one core; the window's also
  per frame).
- Start-up: `bpviz` from process start to the end of painting its first frame, with an
  empty typesetting cache (a machine's first start, as every start was before the cache)
  and with the cache filled by an earlier start.
- Peak resident memory of this process.

Each run measures every figure once, in turn, so all see the same machine load; the table
gives min / median / max over the runs, beside the figures the issue and the old
RESULTS.md gave, and the load average at each run.
"""
from __future__ import annotations

import argparse
import os
from array import array
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEvent, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from _common import json_of, load_avg, spread
from bpviz.engine import threads
from bpviz.engine.presets import get_preset
from bpviz.gui.main import wait_until

EPOCH_STEPS = 600  # a 60,000-sample epoch at batch 100


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PaintLog:
    """(end time, panel name or None) of every paint, in two flat arrays: a list of tuples
    would hand the garbage collector 600 new objects a second, and its full collections
    (15-20 ms) would be counted as the window's stalls."""

    def __init__(self):
        self.times = array("d")
        self.owners = array("h")  # index into self.names
        self.names: list[str | None] = [None]

    def append(self, item: tuple[float, str | None]) -> None:
        t, name = item
        if name not in self.names:
            self.names.append(name)
        self.times.append(t)
        self.owners.append(self.names.index(name))

    def clear(self) -> None:
        del self.times[:]
        del self.owners[:]

    def __iter__(self):
        return ((t, self.names[k]) for t, k in zip(self.times, self.owners))


class GapClock:
    """A 5 ms timer's gaps: how long the event loop could not run it (the GUI thread's
    stalls), kept in flat arrays (see PaintLog)."""

    def __init__(self):
        self.at, self.ms = array("d"), array("d")  # when each gap ended; its length
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.at.append(time.perf_counter())
        self.ms.append((now - self._last) / 1e6)
        self._last = now

    def longest(self, a: float, b: float, skip: float | None = None) -> float:
        """The longest gap ending in [a, b), leaving out the one around the moment `skip`."""
        return max((g for t, g in zip(self.at, self.ms) if a <= t < b
                    and not (skip is not None and t - g / 1000 <= skip <= t)), default=float("nan"))


class PaintClock(QApplication):
    """Records when each paint event in the window finished, and which panel it was in:
    paints that reach the screen only (a hidden widget painted into a pixmap, as a
    Placeholder prepares its plot, shows nothing; the paint it delays is counted)."""

    def __init__(self, argv):
        super().__init__(argv)
        self.paints = PaintLog()  # (end time, panel name or None)
        self.window = None
        self._owner: dict[int, str | None] = {}

    def notify(self, receiver, event):
        if event.type() != QEvent.Paint or self.window is None:
            return super().notify(receiver, event)
        ok = super().notify(receiver, event)
        if receiver.isVisible():
            self.paints.append((time.perf_counter(), self._panel_of(receiver)))
        return ok

    def _panel_of(self, w) -> str | None:
        from shiboken6 import Shiboken
        key = Shiboken.getCppPointer(w)[0]
        if key not in self._owner:
            name, p = None, w
            panels = {id(x): x.object_name for x in self.window.panels}
            while p is not None:
                if id(p) in panels:
                    name = panels[id(p)]
                    break
                p = p.parentWidget() if hasattr(p, "parentWidget") else None
            self._owner[key] = name
        return self._owner[key]


def make_window(app, tmpdir, backend, size=(1366, 768), layout="learn"):
    from bpviz.gui.controller import Controller
    from bpviz.gui.window import MainWindow
    win = MainWindow(controller=Controller(backend=backend),
                     settings=QSettings(os.path.join(tmpdir, f"{backend}.ini"), QSettings.IniFormat))
    win.resize(*size)
    win.apply_layout(layout)
    return win


def activate(app, win):
    """Show `win` alone (a hidden window paints nothing) and time its paints."""
    for other in QApplication.topLevelWidgets():
        if other is not win and other.isVisible() and hasattr(other, "controller"):
            other.hide()
    app.window = win
    app._owner.clear()
    win.show()
    win.activateWindow()
    wait_until(lambda: False, 0.3)


def load(win, cfg, dataset):
    c = win.controller
    before = c.latest.run_id if c.latest is not None else None
    c.rebuild(cfg, dataset)
    if not wait_until(lambda: c.latest is not None and c.latest.config == cfg and c.latest.run_id != before, 120):
        raise SystemExit(f"could not load {dataset}: {win.last_error}")


def last_paint_after(app, t0: float, quiet: float = 0.1, timeout: float = 5.0) -> float:
    """Wait until no paint has happened for `quiet` seconds; the end of the last paint after t0."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        wait_until(lambda: False, quiet / 2)
        ends = [t for t, _ in app.paints if t > t0]
        if ends and time.perf_counter() - ends[-1] >= quiet:
            return ends[-1]
    ends = [t for t, _ in app.paints if t > t0]
    return ends[-1] if ends else float("nan")


def step_latency(app, win, n, stages: list | None = None) -> list[float]:
    """ms from the Right key to the end of the last paint it caused; `stages` gets the
    equation each press reached, with its layer (F1(1), B2(2), ...)."""
    c = win.controller
    out = []
    win.setFocus()
    for _ in range(n):
        wait_until(lambda: False, 0.05)  # idle, as between a user's key presses
        app.paints.clear()
        before = c.latest.serial
        t0 = time.perf_counter()
        QTest.keyClick(win, Qt.Key_Right)
        if not wait_until(lambda: c.latest.serial > before, 5):
            raise SystemExit("the Right key did not step (no shortcut reached the window)")
        out.append((last_paint_after(app, t0) - t0) * 1000)
        if stages is not None:
            st = c.latest.stage
            stages.append(f"{st.eq}({st.layer})" if st is not None else "ready")  # B2(2): B2 of layer 2
    return out


def presses_line(name: str, lat: list[float], stages: list | None = None) -> str:
    """Where a run's slowest presses fell: a one-off (the first after loading, a hiccup of
    the machine) or a kind of press (the equation it reached)."""
    order = sorted(range(len(lat)), key=lambda i: -lat[i])
    med = statistics.median(lat)
    return (f"  {name}: median {med:.1f} ms; slowest presses (number{' equation' if stages else ''}: ms) "
            + ", ".join(f"{i + 1}{' ' + stages[i] if stages else ''}: {lat[i]:.0f}" for i in order[:3])
            + (f"; the second slowest / median {lat[order[1]] / med:.2f}" if len(lat) > 1 else ""))


def by_equation_line(lat: list[float], stages: list) -> str:
    """Each equation's median press (ms), in the order a step reaches them."""
    by: dict[str, list[float]] = {}
    for ms, eq in zip(lat, stages):
        by.setdefault(eq, []).append(ms)
    return "    median by equation reached: " + ", ".join(f"{eq} {statistics.median(v):.0f}" for eq, v in by.items())


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) this process, or process `pid`, has used so far."""
    if pid is None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def play(app, win, seconds: float) -> list[dict]:
    """Play from a freshly loaded network for 2 x `seconds`; figures of each half, with the
    CPU time the window's process and the training process used (a share of one core)."""
    c = win.controller
    frames: list[float] = []
    process = getattr(c.worker, "process", None)  # the process worker's child, if any

    def cpu() -> tuple[float, float]:
        return cpu_seconds(), cpu_seconds(process.pid) if process is not None else float("nan")

    def on_frame(_snap):
        frames.append(time.perf_counter())
    c.snapshot_changed.connect(on_frame)
    gaps = GapClock()
    app.paints.clear()
    frames.clear()
    steps = [(time.perf_counter(), len(c.latest.losses))]
    cpus = [cpu()]
    gaps.start()
    t_start = time.perf_counter()
    c.request_play()
    wait_until(lambda: False, seconds)
    steps.append((time.perf_counter(), len(c.latest.losses)))
    cpus.append(cpu())
    wait_until(lambda: False, seconds)
    steps.append((time.perf_counter(), len(c.latest.losses)))
    cpus.append(cpu())
    gaps.stop()
    c.request_pause()
    wait_until(lambda: not c.playing, 10)
    c.snapshot_changed.disconnect(on_frame)
    visible = [p.object_name for p in win.panels if p.isVisible() and not p.visibleRegion().isEmpty()]
    out = []
    for ((a, s0), (b, s1)), (c0, c1) in zip(((steps[0], steps[1]), (steps[1], steps[2])),
                                            ((cpus[0], cpus[1]), (cpus[1], cpus[2]))):
        fr = [f for f in frames if a <= f < b] + [b]
        per_panel = {name: 0 for name in visible}
        complete = 0
        for f0, f1 in zip(fr, fr[1:]):
            painted = {name for t, name in app.paints if f0 <= t < f1 and name is not None}
            complete += all(name in painted for name in visible)
            for name in painted & set(per_panel):
                per_panel[name] += 1
        dur = b - a
        stall = gaps.longest(a, b)
        out.append({"frames/s": (len(fr) - 1) / dur, "complete frames/s": complete / dur,
                    "panels": {k: v / dur for k, v in per_panel.items()}, "stall ms": stall,
                    "steps/s": (s1 - s0) / dur, "since load": a - t_start,
                    "window cpu": (c1[0] - c0[0]) / dur, "training cpu": (c1[1] - c0[1]) / dur,
                    "window cpu ms per frame": 1000 * (c1[0] - c0[0]) / max(len(fr) - 1, 1)})
    return out


def headless_steps_per_second(cfg, data, seconds=3.0) -> float:
    """The headless trainer on the same data, with the thread count the window's worker uses."""
    from bpviz.runs import make_trainer
    t = make_trainer(cfg, data)
    t.run_steps(5)
    with threads.limited(threads.choose(reserve=1)):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            t.run_steps(20)
            n += 20
        return n / (time.perf_counter() - t0)


def startup(cache_dir: str, backend: str = "thread") -> float:
    """Seconds from starting `bpviz` to the end of its first frame's painting."""
    exe = os.path.join(os.path.dirname(sys.executable), "bpviz")
    env = dict(os.environ, BPVIZ_EXIT_WHEN_SHOWN="1", XDG_CACHE_HOME=cache_dir, BPVIZ_WORKER=backend)
    t0 = time.time()
    p = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=180)
    for line in p.stdout.splitlines():
        if line.startswith("bpviz: first frame painted at "):
            return float(line.rsplit(" ", 1)[1]) - t0
    raise SystemExit(f"bpviz did not report its first frame: {p.stdout} {p.stderr}")


def probe(backend: str, seconds: float, size: str, seed: int, layout: str) -> None:
    """The stall as a user feels it: a window on a plain QApplication (PaintClock's Python
    notify() runs for every event, which itself lengthens the gaps it is there to time)
    plays 2 x `seconds` on a fresh 784-128-10; prints JSON with each half's longest gap
    of a 5 ms timer, and the first half's without the first frame (the switch from the
    ready screen, a one-off like a Step press)."""
    import json
    app = QApplication(sys.argv[:1])
    from bpviz.gui.main import _application
    _application()
    with tempfile.TemporaryDirectory() as tmp:
        win = make_window(app, tmp, backend, tuple(int(v) for v in size.lower().split("x")), layout)
        win.show()
        wait_until(lambda: False, 0.3)
        load(win, get_preset("mnist").config.with_(lr=0.1, seed=seed), "fashion-mnist")
        wait_until(lambda: False, 0.5)
        c = win.controller
        frames = array("d")
        c.snapshot_changed.connect(lambda _s: frames.append(time.perf_counter()))
        gaps = GapClock()
        gaps.start()
        t0 = time.perf_counter()
        c.request_play()
        wait_until(lambda: False, seconds)
        t1 = time.perf_counter()
        wait_until(lambda: False, seconds)
        t2 = time.perf_counter()
        gaps.stop()
        c.request_pause()
        wait_until(lambda: not c.playing, 10)
        first = frames[0] if frames else t0
        if os.environ.get("BPVIZ_PROBE_DEBUG"):
            print("frames:", [round(1000 * (f - t0)) for f in frames[:6]],
                  "gaps:", [(round(1000 * (t - t0)), round(g)) for t, g in zip(gaps.at, gaps.ms) if g > 30][:8])
        print(json.dumps({"first": gaps.longest(t0, t1), "steady": gaps.longest(t1, t2),
                          "first after its first frame": gaps.longest(t0, t1, skip=first)}), flush=True)
        win.close()


def step_probe(steps: int, size: str, layout: str, seconds: float, seed: int) -> None:
    """Step latency, toy then 784-128-10, in a fresh window, then (with `seconds`) the
    epoch while playing a fresh 784-128-10 over the headless one, each half; prints JSON.
    For side-by-side runs of two checkouts (ab_bench.py)."""
    import json
    app = PaintClock(sys.argv[:1])
    from bpviz.gui.main import _application
    _application()
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        win = make_window(app, tmp, "process", tuple(int(v) for v in size.lower().split("x")), layout)
        activate(app, win)
        big = get_preset("mnist").config.with_(lr=0.1)
        for name, cfg, dataset in (("toy", get_preset("toy").config, "toy"), ("784-128-10", big, "fashion-mnist")):
            load(win, cfg, dataset)
            out[name] = step_latency(app, win, steps)
        if seconds:
            from bpviz.runs import load_run_data
            data = load_run_data("fashion-mnist", allow_download=False)
            before = headless_steps_per_second(big, data)  # and after Play: the machine drifts
            load(win, big.with_(seed=seed), "fashion-mnist")
            halves = play(app, win, seconds)
            after = headless_steps_per_second(big, data)
            headless = (before + after) / 2
            out["epoch ratio"] = [headless / max(h["steps/s"], 1e-9) for h in halves]
            out["steps/s while playing"] = [h["steps/s"] for h in halves]
            out["headless steps/s"] = [before, after]
            out["window cpu ms per frame"] = [h["window cpu ms per frame"] for h in halves]
            out["complete frames/s"] = [h["complete frames/s"] for h in halves]
        win.close()
    print(json.dumps(out), flush=True)


def probed(backend: str, seconds: float, size: str, seed: int, layout: str) -> dict:
    return json_of([sys.executable, __file__, "--probe", backend, "--play", str(seconds), "--size", size,
                    "--seed", str(seed), "--layout", layout], timeout=300)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", choices=["thread", "process"], help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--step-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50, help="Step presses per network and run")
    ap.add_argument("--play", type=float, default=10.0, help="seconds of each Play half")
    ap.add_argument("--quick", action="store_true", help="10 presses, 4 s halves")
    ap.add_argument("--size", default="1366x768",
                    help="window size WxH (1366x768, the laptop screen bpviz is laid out for; the figures "
                         "before 2026-12-02 were taken at 1600x1000)")
    ap.add_argument("--layout", choices=["learn", "train", "debug"], default="learn",
                    help="the window's layout (View → Layout); Learn fronts the diagram and equations, Train "
                         "the loss and heatmaps")
    ap.add_argument("--worker", choices=["thread", "process", "both"], default="both",
                    help="where the window runs training (the Controller's backends)")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.play = 10, 4.0
    if args.probe:
        return probe(args.probe, args.play, args.size, args.seed, args.layout)
    if args.step_probe:
        return step_probe(args.steps, args.size, args.layout, args.play, args.seed)
    app = PaintClock(sys.argv[:1])
    from bpviz.gui.main import _application
    _application()  # the app's own set-up (style, GIL switch interval) on this QApplication
    from bpviz.runs import load_run_data
    try:
        data = load_run_data("fashion-mnist", allow_download=False)
        dataset = "fashion-mnist"
    except Exception:
        raise SystemExit("gui_bench needs Fashion-MNIST (Debian's dataset-fashion-mnist, or `bpviz download "
                         "fashion-mnist`)")
    big = get_preset("mnist").config.with_(lr=0.1)
    toy = get_preset("toy").config
    fig: dict[str, list] = {}

    def add(name, v):
        fig.setdefault(name, []).append(v)
    backends = ["thread", "process"] if args.worker == "both" else [args.worker]
    warm_cache = tempfile.mkdtemp(prefix="bpviz-bench-cache-")
    startup(warm_cache)  # fills the typesetting cache the warm starts use
    print(f"{args.runs} interleaved runs; {threads.usable_cores()} cores; the window's worker uses "
          f"{threads.choose(reserve=1)} BLAS thread(s); window {args.size}, layout {args.layout}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        wins = {b: make_window(app, tmp, b, size, args.layout) for b in backends}
        for run in range(args.runs):
            for backend, win in wins.items():  # interleaved: each run measures every backend in turn
                print(f"run {run + 1}, {backend} worker: {load_avg()}", flush=True)
                activate(app, win)
                load(win, toy, "toy")
                lat = step_latency(app, win, args.steps, stages := [])
                add(f"{backend} step toy median", statistics.median(lat))
                add(f"{backend} step toy worst", max(lat))
                add(f"{backend} step toy worst/median", max(lat) / statistics.median(lat))
                print(presses_line("toy", lat, stages), by_equation_line(lat, stages), sep="\n", flush=True)
                load(win, big, dataset)
                lat = step_latency(app, win, args.steps, stages := [])
                add(f"{backend} step big median", statistics.median(lat))
                add(f"{backend} step big worst", max(lat))
                add(f"{backend} step big worst/median", max(lat) / statistics.median(lat))
                print(presses_line("784-128-10", lat, stages), by_equation_line(lat, stages), sep="\n", flush=True)
                # the headless trainer before and after Play, in the same run: the machine's speed
                # drifts by some 10% within a minute, and one sample of it moved the ratio as much
                before = headless_steps_per_second(big, data)
                load(win, big.with_(seed=run + 1), dataset)  # a fresh network, as after Apply
                halves = play(app, win, args.play)
                after = headless_steps_per_second(big, data)
                headless = (before + after) / 2
                add(f"{backend} headless drift", after / before)
                for name, h in zip(("first", "steady"), halves):
                    add(f"{backend} {name} complete fps", h["complete frames/s"])
                    add(f"{backend} {name} frames", h["frames/s"])
                    add(f"{backend} {name} stall", h["stall ms"])
                    add(f"{backend} {name} epoch ratio", headless / max(h["steps/s"], 1e-9))
                    add(f"{backend} {name} epoch s", EPOCH_STEPS / max(h["steps/s"], 1e-9))
                    for key in ("window cpu", "training cpu", "window cpu ms per frame"):
                        add(f"{backend} {name} {key}", h[key])
                    for panel, hz in h["panels"].items():
                        add(f"{backend} {name} panel {panel}", hz)
                add(f"{backend} headless epoch s", EPOCH_STEPS / headless)
                for name, ms in probed(backend, args.play, args.size, run + 1, args.layout).items():
                    add(f"{backend} probe {name}", ms)
                add(f"{backend} start warm", startup(warm_cache, backend))
            cold = tempfile.mkdtemp(prefix="bpviz-bench-cold-")
            add("start cold", startup(cold))
            shutil.rmtree(cold, ignore_errors=True)
            if run == 0:
                add("rss", rss_mb())
        for win in wins.values():
            win.close()
    shutil.rmtree(warm_cache, ignore_errors=True)
    add("peak rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"after the runs: {load_avg()}\n")

    def row(label, key, fmt, old, issue, goal):
        cells = [spread(fig[f"{b} {key}"] if f"{b} {key}" in fig else fig.get(key, [float("nan")]), fmt)
                 for b in (backends if any(f"{b} {key}" in fig for b in backends) else backends[:1])]
        print(f"| {label} | {old} | {issue} | {goal} | {' | '.join(cells)} |")
    print("| figure | RESULTS.md before | issue 11 measured | goal | "
          + " | ".join(f"{b} worker: min/median/max" for b in backends) + " |")
    print("|---|---|---|---|" + "---|" * len(backends))
    row("Step key to end of last paint, toy, median (ms)", "step toy median", "{:.0f}", "6-7 (before paint)",
        "86-103", "<= 50")
    row("... toy, worst of the presses (ms)", "step toy worst", "{:.0f}", "27-29", "", "<= 2x median")
    row("... toy, worst / median of the same run", "step toy worst/median", "{:.2f}", "", "", "<= 2")
    row("Step key to end of last paint, 784-128-10, median (ms)", "step big median", "{:.0f}",
        "8-9 (before paint)", "141-148", "<= 80")
    row("... 784-128-10, worst (ms)", "step big worst", "{:.0f}", "34-36", "", "<= 2x median")
    row("... 784-128-10, worst / median of the same run", "step big worst/median", "{:.2f}", "", "", "<= 2")
    row(f"Play 784-128-10, first {args.play:g} s after loading: complete frames/s", "first complete fps",
        "{:.1f}", "", "0.5-0.9 (any)", ">= 30")
    row(f"Play, the next {args.play:g} s: complete frames/s", "steady complete fps", "{:.1f}",
        "5.0-7.2 (any panel)", "2.7-3.1 (loss + 1 panel)", ">= 30")
    row("Play, the next s: frames/s (any redraw)", "steady frames", "{:.1f}", "5.0-7.2", "2.7-3.1", "")
    names = sorted({k.rsplit(" ", 1)[1] for k in fig if " steady panel " in k})
    for name in names:
        row(f"Play, first s: {name} repaints/s", f"first panel {name}", "{:.1f}", "", "", ">= 10")
        row(f"Play, next s: {name} repaints/s", f"steady panel {name}", "{:.1f}", "", "", ">= 10")
    row("Play, first s: longest GUI-thread stall (ms)", "first stall", "{:.0f}", "", "", "<= 33")
    row("Play, next s: longest GUI-thread stall (ms)", "steady stall", "{:.0f}", "52-107", "102-126", "<= 33")
    row("... the same, window without the benchmark's event hook, first s (ms)", "probe first", "{:.0f}",
        "", "", "<= 33")
    row("... first s after Play's first frame (the switch from the ready screen) (ms)",
        "probe first after its first frame", "{:.0f}", "", "", "<= 33")
    row("... next s (ms)", "probe steady", "{:.0f}", "", "", "<= 33")
    row("Epoch while playing / headless epoch, first s", "first epoch ratio", "{:.2f}", "", "", "<= 1.2")
    row("Epoch while playing / headless epoch, next s", "steady epoch ratio", "{:.2f}", "1.36-1.55", "", "<= 1.2")
    row("Epoch while playing, next s (s)", "steady epoch s", "{:.2f}", "0.88-1.01", "", "")
    row("Headless epoch, same run (s)", "headless epoch s", "{:.2f}", "0.61-0.67", "", "")
    row("... its speed after Play / before it (the machine's drift)", "headless drift", "{:.2f}", "", "", "")
    for name in ("first", "steady"):
        half = "first s" if name == "first" else "next s"
        row(f"Play, {half}: CPU of the window's process (share of a core)", f"{name} window cpu", "{:.2f}", "",
            "", "")
        row("... the same, per frame (ms)", f"{name} window cpu ms per frame", "{:.1f}", "", "", "")
        row(f"Play, {half}: CPU of the training process (share of a core)", f"{name} training cpu", "{:.2f}", "",
            "", "")
    row("Start to first frame painted, empty typesetting cache (s)", "start cold", "{:.2f}", "1.14-1.72",
        "2.6-3.9", "<= 1.5")
    row("Start to first frame painted, cache filled (s)", "start warm", "{:.2f}", "", "", "<= 1.5")
    row("Resident memory, both windows, Fashion-MNIST loaded (MB)", "rss", "{:.0f}", "502-650 (peak)", "", "")
    row("Peak resident memory of this process (MB)", "peak rss", "{:.0f}", "502-650", "", "")


if __name__ == "__main__":
    main()
