"""The loss history's storage: float64 values that grow at the end, handed out as read-only
views without a copy, whose oldest values can be folded into means so that a long run fits
a memory budget.

A Series holds one value a step (or an epoch) of steps 0, 1, 2, ... until it is folded. A
fold averages the oldest points into wider ones: the series then starts with `folds`, runs
of (first step, width, count) points each the mean of `width` consecutive steps, and goes
on with one exact point a step from `exact_from`. The folded part is contiguous from step 0,
a fold never touches the newest `keep` points, and every folded point lies inside one block
of the widest fold's width (blocks start at its multiples), so the next fold, into blocks of
twice that width, merges whole points.
"""
from __future__ import annotations

import itertools

import numpy as np

MIN_CAPACITY = 64
_versions = itertools.count(1)  # unique across series, so (version, version) names two buffers


def spans(folds, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(first step, width) of each of the `n` points of a series with `folds` (0-based steps)."""
    first = np.empty(n, dtype=np.int64)  # (n,)
    width = np.ones(n, dtype=np.int64)  # (n,)
    i = 0
    for a, w, c in folds:
        first[i:i + c] = a + w * np.arange(c)
        width[i:i + c] = w
        i += c
    exact_from = folded_steps(folds)
    first[i:] = exact_from + np.arange(n - i)
    return first, width


def centres(folds, n: int) -> np.ndarray:
    """Where to plot each of `n` points: the middle of its steps, counted from 0 as the
    debugger and the status bar count them (an exact point of step k at k)."""
    if not folds:
        return np.arange(n, dtype=np.float64)  # (n,)
    first, width = spans(folds, n)
    return first + (width - 1) / 2  # (n,)


def folded_steps(folds) -> int:
    """Steps the folded points cover: the first exact step."""
    return sum(w * c for _, w, c in folds)


def steps_covered(folds, n: int) -> int:
    """Steps a series of `n` points with `folds` covers."""
    return folded_steps(folds) + n - sum(c for _, _, c in folds)


def points_for(folds, steps: int) -> int:
    """Points a series of `steps` steps with `folds` holds: the folded ones, then one a step."""
    return sum(c for _, _, c in folds) + steps - folded_steps(folds)


def folds_problem(folds) -> str | None:
    """What makes `folds` impossible, or None. Folds are runs of
    (first step, width, count) contiguous from step 0, each point inside one block of the widest
    width (blocks start at its multiples): what Series makes, and what its next fold relies on."""
    at = 0
    widest = max((w for _, w, _ in folds), default=1)
    for a, w, c in folds:
        if a != at or w < 1 or c < 1:
            return f"the fold ({a}, {w}, {c}) does not follow step {at} with a width and a count of at least 1"
        inside = (a // widest == (a + w - 1) // widest) if c == 1 else (widest % w == 0 and a % w == 0)
        if not inside:
            return f"the fold ({a}, {w}, {c}) crosses a block of {widest} steps"
        at = a + w * c
    return None


class Series:
    """A float64 series that grows at the end, handed out as read-only views without a copy.

    A view's cells are never written again: appends go past its end, and growing, folding or
    truncating moves to a new buffer, so a view is as safe to share as a frozen copy (and a
    frame costs nothing however long the run has been).

    `limit` (None: no bound) is the most points the buffer may hold: when it is full at that
    size, the oldest points are folded (`fit`) instead of growing it. `keep` is the number
    of newest points a fold always leaves exact. `version` changes whenever the buffer is
    replaced (and differs between series), so an owner sees growth and folds at a glance.
    """

    __slots__ = ("_buf", "_n", "_folds", "_head", "_start", "limit", "keep", "version")

    def __init__(self, values=(), folds=()):
        values = np.asarray(values, dtype=np.float64).ravel()  # (n,)
        self._buf = np.empty(max(MIN_CAPACITY, 2 * len(values)))  # (capacity,)
        self._buf[:len(values)] = values
        self._n = len(values)
        self._set_folds(tuple((int(a), int(w), int(c)) for a, w, c in folds))
        self.limit: int | None = None
        self.keep = 0
        self.version = next(_versions)

    @classmethod
    def of(cls, values) -> "Series":
        """A new Series with the values (and folds) of a Series or of any sequence of floats."""
        if isinstance(values, Series):
            return cls(values.view(), values.folds)
        return cls(values)

    def _set_folds(self, folds: tuple) -> None:
        self._folds = folds
        self._head = sum(c for _, _, c in folds)  # folded points
        self._start = folded_steps(folds)  # the first exact step

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.view()[i]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return float(self._buf[i % self._n])

    def __iter__(self):
        return iter(self.view().tolist())

    def __array__(self, dtype=None, copy=None):
        v = self.view()
        return v.astype(dtype or v.dtype) if copy or dtype is not None else v  # astype copies

    def __eq__(self, other) -> bool:
        """Equal to another Series with the same points and folds, or to a list, tuple or
        of the same values when nothing is folded (as a list would be). An array compares
        cell by cell, as with any array."""
        if isinstance(other, Series):
            return self._folds == other._folds and np.array_equal(self.view(), other.view())
        if isinstance(other, (list, tuple)):
            return not self._folds and len(other) == self._n and np.array_equal(self.view(), np.asarray(other, float))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        folded = f", {self._head} of them folded over steps 0-{self._start - 1}" if self._folds else ""
        return f"Series({self._n} points for {self.steps} steps{folded})"

    def view(self) -> np.ndarray:
        v = self._buf[:self._n]  # (n,)
        v.flags.writeable = False
        return v

    @property
    def steps(self) -> int:
        """Steps (or epochs) the series covers: its length until something is folded."""
        return self._start + self._n - self._head

    @property
    def exact_from(self) -> int:
        """The first step with a value of its own; every step before it is folded into means."""
        return self._start

    @property
    def folds(self) -> tuple[tuple[int, int, int], ...]:
        """The folded points as runs of (first step, width, count); () when every point is exact."""
        return self._folds

    @property
    def nbytes(self) -> int:
        """Bytes of the buffer, free capacity included."""
        return self._buf.nbytes

    def at_step(self, k: int) -> float | None:
        """Step k's own value, or None when it is folded or not reached."""
        i = k - self._start
        return float(self._buf[self._head + i]) if 0 <= i < self._n - self._head else None

    def upto(self, steps: int) -> "Series":
        """A new Series of the first `steps` steps; they must end in the exact part."""
        return Series(self.view()[:self._points(steps)], self._folds)

    def _points(self, steps: int) -> int:
        if not self._start <= steps <= self.steps:
            raise ValueError(f"step {steps} is not in the exact part of the series "
                             f"(steps {self._start} to {self.steps})")
        return self._head + steps - self._start

    # -- changing --------------------------------------------------------------------------
    def append(self, value: float) -> None:
        if self._n == len(self._buf):
            self._make_room()
        self._buf[self._n] = value
        self._n += 1

    def truncate(self, steps: int) -> None:
        """Keep the first `steps` steps (a branch); later appends must not overwrite cells
        earlier views show. The cut must be in the exact part."""
        n = self._points(steps)
        if n < self._n:
            self._move(self._buf[:n], len(self._buf))

    def _move(self, values: np.ndarray, capacity: int) -> None:
        buf = np.empty(max(capacity, len(values)))  # (capacity,): views keep the old buffer
        buf[:len(values)] = values
        self._buf, self._n = buf, len(values)
        self.version = next(_versions)

    def _make_room(self) -> None:
        if self.limit is not None and len(self._buf) >= self.limit:
            self.fit(self.limit)
            if self._n <= len(self._buf) * 3 // 4:
                return
            # the newest `keep` points alone fill it: grow past the limit rather than lose them
        cap = len(self._buf)
        self._move(self.view(), 2 * cap if self.limit is None or cap >= self.limit else min(2 * cap, self.limit))

    def fit(self, capacity: int, most: int | None = None) -> None:
        """Fold until there are at most `most` points (3/4 of `capacity` unless given), if what
        may be folded (all but the newest max(capacity / 2, keep)) is at least a quarter of
        `capacity`; then hold them in a buffer of `capacity` (or of their number, when more).
        Blocks are as narrow as reach that: the widest fold's width (only exact points join the
        folded part), else twice, four times it..., so the folded part keeps an even resolution."""
        keep, target = max(capacity // 2, self.keep), capacity * 3 // 4 if most is None else most
        values, folds = self.view(), self._folds
        if len(values) > target and len(values) - keep >= max(capacity // 4, 2):
            head = sum(c for _, _, c in folds)
            region = head + max(0, len(values) - head - keep)  # points that may be merged: at least 2
            block = max(2, max((w for _, w, _ in folds), default=1))
            while True:
                means, merged = _blocks(values[:region], folds, block)
                if len(means) + len(values) - region <= target or len(means) <= 2:
                    break
                block *= 2
            folds = merged
            values = np.concatenate([means, values[region:]])  # (blocks + exact,)
        if len(values) < self._n or max(capacity, len(values)) < len(self._buf):
            self._set_folds(folds)
            self._move(values, capacity)


def _blocks(values: np.ndarray, folds, block: int) -> tuple[np.ndarray, tuple]:
    """The points `values` (the folded ones, described by `folds`, then exact ones) merged into
    blocks of `block` steps from step 0, the last maybe partial; `block` is a multiple of the
    widest fold, so no point crosses a block. Returns (means, folds)."""
    width = np.ones(len(values), dtype=np.int64)  # (points,) steps each point covers
    i = 0
    for _, w, c in folds:
        width[i:i + c] = w
        i += c
    ends = np.cumsum(width)  # (points,) the step after each point
    group = (ends - 1) // block  # (points,) the block each point lies in
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])  # (blocks,) first point of each
    covered = np.add.reduceat(width, starts)  # (blocks,) steps in each: `block` but maybe the last
    # mean of a block = sum(v * w/block) * block/covered, where w/block is a power of two: exact
    means = np.add.reduceat(values * (width / block), starts) * (block / covered)  # (blocks,)
    full = len(starts) - int(covered[-1] < block)
    out = ((0, block, full),) if full else ()
    if full < len(starts):
        out += ((full * block, int(covered[-1]), 1),)
    return means, out
