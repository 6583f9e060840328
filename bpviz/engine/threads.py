"""How many BLAS threads training uses: chosen from the cores that are free, not defaulted.

OpenBLAS starts one thread per core and its threads spin while they wait for work. When
another thread or process holds one of those cores (the window's GUI thread, another
program), every small matrix product waits for a thread that is not running: on a 2-core
machine with one core busy a 784-128-10 epoch took 3.2 s with 2 BLAS threads against
0.8 s with 1 (benchmarks/engine_bench.py measures this). At batch 100 the products are too
small for a second thread to gain much even on an idle machine, so the choice is:

- 2 cores or fewer: 1 thread;
- more cores: the cores left after `reserve` (the caller's other busy threads, e.g. 1 for
  the GUI thread) and the machine's 1-minute load average (other processes), at least 1.

`--threads N` overrides the choice (`request`).
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager

_requested: int | None = None


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def request(n: int | None) -> None:
    """Use exactly `n` threads from now on (None: choose again)."""
    global _requested
    if n is not None and n < 1:
        raise ValueError(f"--threads must be at least 1 (got {n})")
    _requested = n


def choose(reserve: int = 0) -> int:
    """The thread count for training, by the rule in this module's docstring."""
    if _requested is not None:
        return _requested
    cores = usable_cores()
    if cores <= 2:
        return 1
    try:
        busy = math.ceil(os.getloadavg()[0])
    except OSError:  # no load average on this platform: assume only our own threads
        busy = 0
    return max(1, min(cores, cores - reserve - busy))


def limit(n: int):
    """Limit BLAS (and OpenMP) pools to `n` threads; returns the limiter to keep (its
    `restore_original_limits()` undoes it), or None when threadpoolctl cannot act."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(n)
    except Exception:  # threadpoolctl cannot see every BLAS; training still works
        return None


@contextmanager
def limited(n: int):
    """`limit(n)` for the duration of a block, then the limits from before."""
    limiter = limit(n)
    try:
        yield
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def current() -> int | None:
    """The BLAS pool's thread count now, or None when none is visible."""
    try:
        from threadpoolctl import threadpool_info
        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:
        return None
    return max(counts) if counts else None
