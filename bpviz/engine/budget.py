"""A memory budget: refuse a network that would not fit before allocating any of it.

The limit is, in this order: the `limit` given (the command's --max-memory), the
BPVIZ_MAX_MEMORY environment variable, else half of the memory this process may use
(physical memory, lowered by a cgroup limit or RLIMIT_AS when those are smaller), so the
machine keeps room for everything else it runs.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np

from .config import ConfigError, NetConfig

ENV = "BPVIZ_MAX_MEMORY"
DEFAULT_SHARE = 0.5  # of the memory available to the process
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
# Copies of the parameters alive during a step: the initial ones (kept for Reset), the
# current ones, dW, and W - lr dW (the previous weights stay referenced until the step ends).
PARAM_COPIES = 4
# (m, n_l) arrays per layer in one step: Z, A, Delta, dA and one temporary of the loss or g'.
LAYER_COPIES = 5
ACCURACY_ROWS_MIN = 1  # the accuracy pass is chunked to fit: one row at a time must fit


class BudgetError(ConfigError):
    """A network or batch that needs more memory than the limit; one line for the user."""


def parse_size(text: str) -> int:
    """'4G', '512M', '1.5GiB', '300000000' -> bytes (units are binary). Raises ValueError."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(I?B)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G, 512M or a number of bytes)")
    value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not math.isfinite(value) or value < 1 or value > 2**62:
        raise ValueError(f"not a usable size: {text!r}")
    return int(value)


def format_size(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _available_bytes() -> int:
    """Physical memory, or less when a cgroup or an address-space limit says so."""
    candidates = []
    try:
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
            if text.isdigit() and int(text) < 2**60:
                candidates.append(int(text))
        except OSError:
            pass
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            candidates.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    return min(candidates) if candidates else 8 * 2**30


def memory_limit(limit: int | str | None = None) -> tuple[int, str]:
    """(bytes, where the figure comes from). Raises ConfigError for an unreadable size."""
    if limit is not None:
        try:
            return (parse_size(limit) if isinstance(limit, str) else int(limit)), "--max-memory"
        except ValueError as e:
            raise ConfigError(f"--max-memory: {e}") from None
    env = os.environ.get(ENV)
    if env:
        try:
            return parse_size(env), ENV
        except ValueError as e:
            raise ConfigError(f"{ENV}: {e}") from None
    return int(_available_bytes() * DEFAULT_SHARE), "default"


@dataclass(frozen=True)
class Estimate:
    params: int  # bytes of one copy of the parameters
    step: int  # bytes one training step holds (parameter copies included)
    accuracy_row: int  # bytes per row of the accuracy pass, beyond the parameters

    @property
    def total(self) -> int:
        return max(self.step, PARAM_COPIES * self.params + ACCURACY_ROWS_MIN * self.accuracy_row)


def estimate(cfg: NetConfig, n_samples: int) -> Estimate:
    """Bytes one training step of `cfg` on a set of `n_samples` needs, in cfg's dtype."""
    item = np.dtype(cfg.dtype).itemsize
    sizes = [int(s) for s in cfg.sizes]
    n_params = sum(a * b + (b if cfg.bias else 0) for a, b in zip(sizes[:-1], sizes[1:]))
    m = cfg.batch_for(max(1, n_samples))
    units = sum(sizes[1:])
    # X twice (the uint8 rows it is cut from are converted into a fresh array), Y, and the layers
    activations = m * (2 * sizes[0] + sizes[-1] + LAYER_COPIES * units) * item
    per_sample = m * n_params * item if cfg.per_sample else 0  # every running sum of dW/db is kept
    params = n_params * item
    return Estimate(params, PARAM_COPIES * params + activations + per_sample,
                    # forward keeps every Z and A; the loss's temporaries; index, label and argmax rows
                    (2 * sizes[0] + 2 * units + 3 * sizes[-1]) * item + 4 * 8)


def _describe(cfg: NetConfig) -> str:
    what = "-".join(str(s) for s in cfg.sizes)
    if cfg.per_sample:
        what += " per sample"
    return what


def check_budget(cfg: NetConfig, n_samples: int, n_test: int = 0, limit: int | str | None = None) -> int:
    """Raise BudgetError when training `cfg` on `n_samples` samples, or measuring its accuracy,
    would need more than the limit; return the limit in bytes otherwise. The accuracy pass
    (network.accuracy) runs in chunks sized to what is left, so only one row of it must fit
    whatever `n_test` is; the argument is kept so callers state what they will evaluate."""
    limit_bytes, source = memory_limit(limit)
    need = estimate(cfg, n_samples).total
    if need > limit_bytes:
        share = " (half of the memory available)" if source == "default" else ""
        batch = f" with batches of {cfg.batch_for(max(1, n_samples))}" if n_samples > 1 else ""
        raise BudgetError(f"{_describe(cfg)}{batch} needs {format_size(need)}; "
                          f"the limit is {format_size(limit_bytes)}{share}, set by --max-memory or {ENV}")
    return limit_bytes


def accuracy_chunk(cfg: NetConfig, n_rows: int, max_bytes: int) -> int:
    """Rows per chunk of an evaluation pass that stays within `max_bytes` (at least 1)."""
    per_row = estimate(cfg, 1).accuracy_row
    return int(max(1, min(n_rows, max_bytes // max(1, per_row))))
