"""Two versions of bpviz side by side: this checkout's benchmark code measures the app of
this checkout (B) and of another one (A, e.g. a `git worktree` of an older commit), in
alternating fresh processes, so both see the same machine.

    python benchmarks/ab_bench.py --base ../old-checkout [--layout debug] [--pairs 6] [--steps 40] [--play 10]

Per pair and version: Play's first frame (the longest gap of a 5 ms timer in the first
1.5 s of Play on a fresh 784-128-10, the window without the benchmark's event hook:
`gui_bench.py --probe`), the Step latency of toy and 784-128-10 to the end of painting,
and the epoch while playing over the headless epoch in two halves of --play seconds
(`gui_bench.py --step-probe`, as in gui_bench's own runs). Prints min / median / max
over the pairs for A and B, and the load average before each pair. The machine's speed drifts by a third within minutes
here: only such interleaved runs compare two versions.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

from _common import json_of, load_avg, spread

HERE = os.path.dirname(os.path.abspath(__file__))


def run_in(checkout: str, *args: str) -> dict:
    """This checkout's gui_bench.py with `checkout`'s bpviz (first on the import path)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), QT_QPA_PLATFORM=os.environ.get(
        "QT_QPA_PLATFORM", "offscreen"))
    return json_of([sys.executable, os.path.join(HERE, "gui_bench.py"), *args], timeout=600, env=env, cwd=checkout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the other checkout (A)")
    ap.add_argument("--layout", choices=["learn", "train", "debug"], default="debug")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--steps", type=int, default=40, help="Step presses per net and run")
    ap.add_argument("--play", type=float, default=10.0, help="seconds of each half of Play (0: no Play)")
    args = ap.parse_args()
    here = os.path.dirname(HERE)
    versions = {"A": args.base, "B": here}
    fig: dict[str, dict[str, list]] = {v: {} for v in versions}
    for k in range(args.pairs):
        print(f"pair {k + 1}: {load_avg()}", flush=True)
        for v, checkout in versions.items():  # A then B in each pair
            first = run_in(checkout, "--probe", "process", "--play", "1.5", "--layout", args.layout,
                           "--seed", str(k + 1))
            fig[v].setdefault("Play's first 1.5 s, longest gap (ms)", []).append(first["first"])
            fig[v].setdefault("... leaving out Play's first frame (ms)", []).append(
                first["first after its first frame"])
            steps = run_in(checkout, "--step-probe", "--steps", str(args.steps), "--layout", args.layout,
                           "--play", str(args.play), "--seed", str(k + 1))
            for half, ratio in zip(("first", "next"), steps.pop("epoch ratio", [])):
                fig[v].setdefault(f"Epoch while playing / headless, {half} {args.play:g} s", []).append(ratio)
            for key, unit in (("steps/s while playing", ""), ("window cpu ms per frame", " (ms)"),
                              ("complete frames/s", "")):
                for half, value in zip(("first", "next"), steps.pop(key, [])):
                    fig[v].setdefault(f"{key[0].upper()}{key[1:]}, {half} {args.play:g} s{unit}", []).append(value)
            for value in steps.pop("headless steps/s", []):
                fig[v].setdefault("Headless steps/s", []).append(value)
            for net, lat in steps.items():
                med = statistics.median(lat)
                fig[v].setdefault(f"Step {net}, median (ms)", []).append(med)
                fig[v].setdefault(f"Step {net}, worst (ms)", []).append(max(lat))
                fig[v].setdefault(f"Step {net}, worst / median", []).append(max(lat) / med)
    print(f"after the pairs: {load_avg()}\n")
    print(f"A = {os.path.abspath(args.base)}, B = {here}; layout {args.layout}, 1366x768, "
          f"{args.pairs} pairs, {args.steps} presses a net; min/median/max\n")
    print("| figure | A | B |\n|---|---|---|")
    for name in fig["B"]:
        fmt = "{:.2f}" if " / " in name else "{:.1f}"  # ratios, else ms, frames or steps
        print(f"| {name} | {spread(fig['A'][name], fmt)} | {spread(fig['B'][name], fmt)} |")


if __name__ == "__main__":
    main()
