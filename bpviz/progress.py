"""A small text progress bar for the command line (stderr, only on a terminal)."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    """`update(done)` redraws at most 10 times a second; nothing is drawn unless the
    stream is a terminal and the work has lasted longer than `delay` seconds."""

    def __init__(self, label: str, total: int | None, stream=None, unit: str = "",
                 delay: float = 0.5, width: int = 30):
        self.label, self.total, self.unit, self.width = label, total, unit, width
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.delay = delay
        self._last = 0.0
        self._drawn = False

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        now = time.perf_counter()
        if not self.enabled or now - self.start < self.delay or now - self._last < 0.1:
            return
        self._last = now
        self._draw(done)

    def _draw(self, done: int) -> None:
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * self.width)
            text = f"\r{self.label} [{bar:<{self.width}}] {frac:6.1%} {_fmt(done, self.unit)}/{_fmt(self.total, self.unit)}"
        else:
            text = f"\r{self.label} {_fmt(done, self.unit)}"
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def close(self, done: int | None = None) -> None:
        if self._drawn:
            if done is not None:
                self._draw(done)
            self.stream.write("\n")
            self.stream.flush()


def _fmt(n: int, unit: str) -> str:
    if unit == "B":
        for u in ("B", "KiB", "MiB", "GiB"):
            if n < 1024 or u == "GiB":
                return f"{n:.0f} {u}" if u == "B" else f"{n:.1f} {u}"
            n /= 1024
    return f"{n}{unit}"
