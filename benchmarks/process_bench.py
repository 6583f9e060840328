"""What the training process costs the epoch without the window: the part of gui_bench's
"epoch while playing / headless" that no painting causes.

    python benchmarks/process_bench.py [--runs 3] [--play 4]

Per run, interleaved, on 784-128-10 (Fashion-MNIST, batch 100, lr 0.1, the window's BLAS
thread count):
- headless: the trainer alone in this process (as gui_bench measures it), before and after;
- no frames: the training process (bpviz.engine.host.child_main, as the window starts it)
  playing at full speed, with nothing asking for frames;
- stand-in: the same, with a stand-in for the window that reads every frame (the shared
  memory copy included) and asks for the next one 31 ms later, as the window does at its
  ~32 frames a second, but draws nothing.
Each plays 2 x --play seconds after its first frame; the second half's steps a second are
compared with the mean of the headless measures before and after (the machine drifts).

- first half, history of 256 / 8 MB: the no-frames process's first half, with the default
  memory for the timeline and with 8 MB. In its first seconds a run's timeline fills its
  memory with checkpoints, all of it memory the process touches for the first time; once
  full, the oldest checkpoints' memory is used again. The two show what that filling costs.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

from _common import load_avg, spread
from gui_bench import headless_steps_per_second

FRAME_S = 0.031  # the window's frame interval while playing (gui_bench: 32.2-32.7 frames/s)


def played(cfg, seconds: float, frames: bool, history_mb: int | None = None, half: int = 1) -> float:
    """Steps a second of a training process playing `cfg` on Fashion-MNIST, over the second
    `seconds` of 2 x `seconds` of Play (the first warms up), or over the first (`half` 0);
    `history_mb`: the timeline's memory (the default's otherwise)."""
    from bpviz.engine import threads
    from bpviz.engine.frames import FrameReader, TailReader
    from bpviz.engine.host import child_main
    ctx = mp.get_context("spawn")
    conn, child_conn = ctx.Pipe(duplex=True)
    p = ctx.Process(target=child_main, args=(child_conn, threads.choose(reserve=1)), daemon=True)
    p.start()
    child_conn.close()
    reader, tails = FrameReader(), TailReader()

    def next_snapshot():
        while True:
            kind, args = tails.decode(reader.recv(conn))
            if kind == "snapshot":
                return args[0]

    def mark(snap) -> None:
        marks.append((time.perf_counter(), len(snap.losses)))
    marks: list[tuple[float, int]] = []
    try:
        if history_mb is not None:
            conn.send(("set_history_mb", (history_mb,)))  # kept for the run it builds next
        conn.send(("rebuild", (cfg, "fashion-mnist", None)))
        next_snapshot()
        conn.send(("frame_consumed", ()))
        conn.send(("play", ()))
        mark(next_snapshot())  # Play's first frame
        if frames:
            while marks[-1][0] < marks[0][0] + 2 * seconds:
                time.sleep(FRAME_S)  # the window draws, then asks for the next frame
                conn.send(("frame_consumed", ()))
                mark(next_snapshot())
        else:
            for _ in range(2):  # one frame at each half's end, nothing between
                time.sleep(seconds)
                conn.send(("frame_consumed", ()))
                mark(next_snapshot())
        middle = marks[0][0] + seconds
        t_mid, n_mid = next((t, n) for t, n in marks if t >= middle)
        (t0, n0), (t1, n1) = ((t_mid, n_mid), marks[-1]) if half else (marks[0], (t_mid, n_mid))
        return (n1 - n0) / (t1 - t0)
    finally:
        conn.send(("quit", ()))
        p.join(5)
        if p.is_alive():
            p.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--play", type=float, default=4.0, help="seconds of each half")
    args = ap.parse_args()
    from bpviz.engine.presets import get_preset
    from bpviz.runs import load_run_data
    cfg = get_preset("mnist").config.with_(lr=0.1)
    try:
        data = load_run_data("fashion-mnist", allow_download=False)
    except Exception:
        raise SystemExit("process_bench needs Fashion-MNIST (Debian's dataset-fashion-mnist, or `bpviz download "
                         "fashion-mnist`)")
    from bpviz.engine.run import HISTORY_MB
    small = 8
    ratios: dict[str, list[float]] = {"no frames": [], "stand-in": [], f"first half, history of {HISTORY_MB} MB": [],
                                      f"first half, history of {small} MB": []}
    loads = []
    for run in range(args.runs):
        loads.append(load_avg())
        before = headless_steps_per_second(cfg, data)
        no_frames = played(cfg, args.play, frames=False)
        stand_in = played(cfg, args.play, frames=True)
        filling = played(cfg, args.play, frames=False, half=0)
        unfilled = played(cfg, args.play, frames=False, history_mb=small, half=0)
        after = headless_steps_per_second(cfg, data)
        headless = (before + after) / 2
        ratios["no frames"].append(headless / no_frames)
        ratios["stand-in"].append(headless / stand_in)
        ratios[f"first half, history of {HISTORY_MB} MB"].append(headless / filling)
        ratios[f"first half, history of {small} MB"].append(headless / unfilled)
        print(f"run {run + 1}: {loads[-1]}; headless {before:.0f} then {after:.0f} steps/s, training process "
              f"{no_frames:.0f} (no frames), {stand_in:.0f} (stand-in window); first half {filling:.0f} "
              f"(history of {HISTORY_MB} MB), {unfilled:.0f} ({small} MB)", flush=True)
    print(f"\n{args.runs} interleaved runs; epoch / headless epoch, min/median/max (headless: mean of before and after)")
    for name, v in ratios.items():
        print(f"  training process, {name}: {spread(v, '{:.2f}')}  (median {statistics.median(v):.2f})")


if __name__ == "__main__":
    main()
