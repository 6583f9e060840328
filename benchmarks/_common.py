"""What every benchmark script shares: the data, the summary of interleaved runs, the
machine's load, and a process that keeps one core busy."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys

import numpy as np

from bpviz.engine.dataset import ArraySet


def load_avg() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) {five:.2f} (5 min)"


def spread(values, fmt="{:.3f}") -> str:
    """min / median / max of interleaved runs."""
    v = sorted(values)
    return "/".join(fmt.format(x) for x in (v[0], statistics.median(v), v[-1]))


def image_set(samples: int | None = None) -> tuple[ArraySet, str]:
    """Fashion-MNIST's training images when installed (the Debian package, or the user's
    cache), else synthetic uint8 images of the same shape (the arithmetic is the same)."""
    try:
        from bpviz.runs import load_run_data
        data = load_run_data("fashion-mnist", allow_download=False).train
        name = "Fashion-MNIST"
        if samples is not None and samples < data.n_samples:
            data = ArraySet(data.x[:samples], labels=data.labels[:samples], n_classes=10, scale=1 / 255)
        return data, name
    except Exception:
        n = samples or 60000
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (n, 784), dtype=np.uint8)  # (n, 784)
        return ArraySet(x, labels=rng.integers(0, 10, n), n_classes=10, scale=1 / 255), "synthetic images"


def json_of(cmd: list[str], timeout: float, **kw) -> dict:
    """Run `cmd` (a benchmark's probe in a fresh process) and return the JSON object it
    printed on a line of its own; SystemExit with its output when there is none."""
    import json
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"{' '.join(cmd)} failed: {p.stdout[-2000:]} {p.stderr[-2000:]}")


class Spinner:
    """A child process spinning on one core for as long as the `with` block runs."""

    def __enter__(self):
        self.p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()
