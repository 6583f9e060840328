"""Run every benchmark script in this folder, one after another, and print their tables.

    python benchmarks/run_all.py [--quick]

Each script measures its figures side by side in one run (ratios, not absolute
times), so the table holds on a noisy shared machine. --quick passes each script's
own short option where it has one.
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
QUICK = {"engine_bench.py": ["--quick"], "gui_bench.py": ["--quick"], "accuracy.py": ["--quick"],
         "soak_bench.py": ["--minutes", "0.5"], "panels_bench.py": ["--repeats", "1"],
         "planar_accuracy.py": ["--quick"], "process_bench.py": ["--runs", "1", "--play", "2"]}
COMPARES = {"ab_bench.py"}  # compares this checkout with another: run by hand with --base


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name == pathlib.Path(__file__).name or script.name.startswith("_"):
            continue  # this script, and the helpers the others import
        if script.name in COMPARES:
            print(f"== {script.name}: skipped (it needs --base, another checkout)\n", flush=True)
            continue
        extra = QUICK.get(script.name, []) if args.quick else []
        print(f"== {script.name} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, str(script), *extra], cwd=HERE)
        print(f"   ({time.perf_counter() - t0:.1f} s, exit {p.returncode})\n", flush=True)
        failed += p.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
