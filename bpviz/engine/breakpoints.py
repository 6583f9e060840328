"""Conditions that pause training, checked after every stage. Qt-free: the worker
evaluates them, the window lists them. A non-finite value always stops the engine
(DivergenceError); these are the ones a user adds."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .snapshot import StageResult
from .stats import grad_rms, update_ratio

KINDS = {
    "loss_rise": "the loss rises by more than a factor",
    "grad_rms": "a layer's gradient RMS crosses a threshold",
    "update_ratio": "a layer's update-to-weight ratio crosses a threshold",
    "misclassified": "a chosen sample becomes misclassified",
    "step": "a given step ends",
    "epoch": "a given epoch ends",
}


@dataclass(frozen=True)
class Breakpoint:
    kind: str
    value: float  # factor, threshold, sample index (data-set row), step or epoch
    layer: int | None = None  # for grad_rms and update_ratio; None means any layer
    below: bool = False  # thresholds: fire when falling below instead of rising above
    enabled: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown breakpoint kind {self.kind!r} (choose from {', '.join(KINDS)})")
        if self.kind == "loss_rise" and not self.value > 1:
            raise ValueError("a loss-rise factor must be greater than 1")
        if self.kind in ("grad_rms", "update_ratio") and not self.value > 0:
            raise ValueError("a threshold must be positive")
        if self.kind in ("misclassified", "step", "epoch") and (self.value < 0 or self.value != int(self.value)):
            raise ValueError(f"a {self.kind} breakpoint needs a whole number")

    def describe(self) -> str:
        where = f" (layer {self.layer})" if self.layer else ""
        if self.kind == "loss_rise":
            return f"loss rises more than {self.value:g}x"
        if self.kind in ("grad_rms", "update_ratio"):
            name = "gradient RMS" if self.kind == "grad_rms" else "update/weight ratio"
            return f"{name}{where} {'<' if self.below else '>'} {self.value:g}"
        if self.kind == "misclassified":
            return f"sample {int(self.value)} becomes misclassified"
        return f"{self.kind} {int(self.value)} ends"

    def to_dict(self) -> dict:
        return asdict(self)


class BreakpointSet:
    """The user's breakpoints and the little state they need (which watched samples
    were classified correctly when last seen)."""

    def __init__(self, breakpoints: list[Breakpoint] | None = None):
        self.items: list[Breakpoint] = list(breakpoints or [])
        self._was_correct: dict[int, bool] = {}

    def check(self, r: StageResult, previous_loss: float | None, lr: float, n_layers: int,
              labels=None) -> str | None:
        """The description of the first enabled breakpoint that `r` fires, or None.
        `previous_loss` is the loss of the step before r's; `labels(idx)` gives class
        labels of data-set rows (None without classes)."""
        for bp in self.items:
            if bp.enabled:
                msg = self._fires(bp, r, previous_loss, lr, n_layers, labels)
                if msg:
                    return msg
        return None

    def _fires(self, bp, r, previous_loss, lr, n_layers, labels):
        k = bp.kind
        if k == "loss_rise" and r.phase == "loss" and previous_loss is not None and previous_loss > 0:
            if r.loss > bp.value * previous_loss:
                return f"breakpoint: loss rose {r.loss / previous_loss:.3g}x ({previous_loss:.4g} → {r.loss:.4g})"
        elif k == "grad_rms" and r.eq == "B2" and (bp.layer in (None, r.layer)) and r.sample is None:
            rms = grad_rms(r.arrays[f"dW{r.layer}"])
            if (rms < bp.value) if bp.below else (rms > bp.value):
                return f"breakpoint: gradient RMS of layer {r.layer} is {rms:.3g} ({bp.describe()})"
        elif k == "update_ratio" and r.eq == "U1" and bp.layer in (None, r.layer):
            ratio = update_ratio(r.arrays[f"W{r.layer}"], r.arrays[f"dW{r.layer}"], lr)
            if (ratio < bp.value) if bp.below else (ratio > bp.value):
                return f"breakpoint: update/weight ratio of layer {r.layer} is {ratio:.3g} ({bp.describe()})"
        elif k == "misclassified" and r.eq == "F2" and r.layer == n_layers and labels is not None:
            row = int(bp.value)
            where = np.flatnonzero(r.batch_indices == row)
            if len(where):
                out = r.arrays[f"A{n_layers}"][where[0]]
                correct = int(np.argmax(out)) == int(labels(np.array([row]))[0])
                was = self._was_correct.get(row, True)
                self._was_correct[row] = correct
                if was and not correct:
                    return f"breakpoint: sample {row} is now misclassified (step {r.step})"
        # at the step's (the epoch's) last stage, the one the window then shows: steps and
        # epochs counted from 0, as the status bar counts them
        elif k == "step" and r.step_end and r.step == int(bp.value):
            return f"breakpoint: step {r.step} done"
        elif k == "epoch" and r.epoch_end and r.epoch == int(bp.value):
            return f"breakpoint: epoch {r.epoch} done"
        return None
