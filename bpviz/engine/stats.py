"""Per-layer health figures of one training step, computed where the numbers are
(the worker), so that panels only draw them."""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

KEYS = ("grad_rms", "update_ratio", "inactive_share")
INACTIVE_SHARE_OF = ("relu", "leaky_relu", "sigmoid", "tanh")  # hidden activations that can die or saturate
SATURATION = 0.01  # a sigmoid/tanh unit whose derivative is below this counts as saturated


def sum_of_squares(a: np.ndarray) -> float:
    """Σ a² in one BLAS pass in the array's own dtype (squaring into float64 first took 5x
    as long, at every recorded step of Play); float64 again only if that overflowed."""
    flat = a.reshape(-1)
    with np.errstate(over="ignore"):
        ss = float(np.dot(flat, flat))
    if not math.isfinite(ss) and flat.dtype != np.float64:
        flat = flat.astype(np.float64)
        ss = float(np.dot(flat, flat))
    return ss


def grad_rms(dw: np.ndarray, ss: float | None = None) -> float:
    """RMS of a gradient per parameter; `ss` is its sum of squares when already known."""
    return math.sqrt((sum_of_squares(dw) if ss is None else ss) / dw.size)


def update_ratio(w: np.ndarray, dw: np.ndarray, lr: float, ss: float | None = None) -> float:
    """‖α dW‖/‖W‖ (inf for zero weights); `ss` is dW's sum of squares when already known."""
    wn = math.sqrt(sum_of_squares(w))
    return lr * math.sqrt(sum_of_squares(dw) if ss is None else ss) / wn if wn > 0 else math.inf


def layer_stats(arrays: Mapping[str, np.ndarray], n_layers: int, hidden: str, lr: float) -> dict[int, dict[str, float]]:
    """For each layer whose gradient is known: RMS of dL/dW per parameter, the
    update-to-weight ratio ‖α dW‖/‖W‖, and the share of dead (ReLU: never positive in
    the batch) or saturated (sigmoid/tanh: g' < 0.01 on average) hidden units."""
    out: dict[int, dict[str, float]] = {}
    for l in range(1, n_layers + 1):
        s: dict[str, float] = {}
        dw = arrays.get(f"dW{l}")
        w = arrays.get(f"W{l}")
        if dw is not None and w is not None:
            ss = sum_of_squares(dw)
            s["grad_rms"] = grad_rms(dw, ss)
            s["update_ratio"] = update_ratio(w, dw, lr, ss)
        z = arrays.get(f"Z{l}")
        a = arrays.get(f"A{l}")
        if l < n_layers and z is not None and hidden in INACTIVE_SHARE_OF:
            if hidden in ("relu", "leaky_relu"):
                s["inactive_share"] = float(np.mean(np.all(z <= 0, axis=0)))
            elif hidden in ("sigmoid", "tanh") and a is not None:
                g = a * (1 - a) * 4 if hidden == "sigmoid" else 1 - a * a  # g' scaled to max 1
                s["inactive_share"] = float(np.mean(np.mean(g, axis=0) < SATURATION))
        if s:
            out[l] = s
    return out


def known_figures(n_layers: int, hidden: str) -> tuple[tuple[str, int], ...]:
    """The (figure, layer) pairs layer_stats gives once a step has ended, for a network of
    `n_layers` with `hidden` units: what a panel can lay out before the first step."""
    return tuple((key, l) for l in range(1, n_layers + 1) for key in KEYS
                 if key != "inactive_share" or (hidden in INACTIVE_SHARE_OF and l < n_layers))


class StatsView:
    """A read-only stretch of a StatsHistory: `steps` (n,) and `values` (n, layers, keys),
    NaN where a figure was not known. Arrays, so a frame pickles them as two buffers (a
    tuple of 4,000 dicts cost the training process 6 ms a frame). Iterating gives the
    (step, {layer: {key: value}}) pairs layer_stats makes."""

    __slots__ = ("steps", "values")

    def __init__(self, steps: np.ndarray, values: np.ndarray):
        self.steps, self.values = steps, values

    def __len__(self) -> int:
        return len(self.steps)

    def __bool__(self) -> bool:
        return len(self.steps) > 0

    def __iter__(self):
        for i, step in enumerate(self.steps.tolist()):
            row = self.values[i]  # (layers, keys)
            yield step, {l + 1: {k: float(row[l, j]) for j, k in enumerate(KEYS) if np.isfinite(row[l, j])}
                         for l in range(row.shape[0]) if np.isfinite(row[l]).any()}

    def column(self, key: str, layer: int) -> np.ndarray:
        """(n,) the figure `key` of `layer` (1-based) over the steps, NaN where unknown."""
        return self.values[:, layer - 1, KEYS.index(key)]


class StatsHistory:
    """The last `maxlen` steps' figures in columns. Like bpviz.engine.series.Series, a
    view's cells are never written again: appends go past its end, and dropping the oldest
    or the newest moves to a new buffer."""

    def __init__(self, n_layers: int, maxlen: int):
        self.n_layers, self.maxlen = n_layers, maxlen
        self._steps = np.empty(64, dtype=np.int64)  # (capacity,)
        self._values = np.empty((64, n_layers, len(KEYS)))  # (capacity, layers, keys)
        self._start = self._n = 0  # the live rows are [start, n)

    def __len__(self) -> int:
        return self._n - self._start

    def last_step(self) -> int:
        return int(self._steps[self._n - 1]) if len(self) else -1

    def append(self, step: int, stats: dict[int, dict[str, float]]) -> None:
        if self._n == len(self._steps):
            keep = min(len(self), self.maxlen - 1)
            cap = max(64, min(2 * len(self._steps), 2 * self.maxlen))
            self._move(self._n - keep, self._n, cap)
        row = np.full((self.n_layers, len(KEYS)), np.nan)
        for l, figures in stats.items():
            for j, k in enumerate(KEYS):
                if k in figures:
                    row[l - 1, j] = figures[k]
        self._steps[self._n], self._values[self._n] = step, row
        self._n += 1
        if len(self) > self.maxlen:
            self._start += 1

    def drop_from(self, step: int) -> None:
        """Forget the figures of `step` and after (an edit in the past branches the run)."""
        end = self._start + int(np.searchsorted(self._steps[self._start:self._n], step))
        if end < self._n:
            self._move(self._start, end, len(self._steps))

    def _move(self, a: int, b: int, cap: int) -> None:
        steps, values = np.empty(cap, dtype=np.int64), np.empty((cap, self.n_layers, len(KEYS)))
        steps[:b - a], values[:b - a] = self._steps[a:b], self._values[a:b]
        self._steps, self._values, self._start, self._n = steps, values, 0, b - a

    def view(self) -> StatsView:
        steps, values = self._steps[self._start:self._n], self._values[self._start:self._n]
        steps.flags.writeable = values.flags.writeable = False  # views of the buffer: the buffer stays writable
        return StatsView(steps, values)
