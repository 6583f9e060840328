"""What one stage of a training step produced: immutable, self-describing, and cheap.

Every array a stage computes is allocated afresh and frozen by its writeable flag,
and the update makes new parameter arrays, so a StageResult shares arrays with later
stages without copying and no later stage can change what it shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .equations import CATALOGUE, equation_text, equation_title


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One entry of a step's plan: which equation, for which layer, (per-sample) which sample."""
    eq: str
    layer: int
    phase: str
    sample: int | None = None

    @property
    def title(self) -> str:
        t = equation_title(self.eq, self.layer)
        return t if self.sample is None else f"{t}, sample {self.sample + 1}"

    def text(self, column: bool = False, bias: bool = True) -> str:
        return equation_text(self.eq, self.layer, column, bias)


class StageResult:
    """The outcome of one stage. `arrays` maps every name known in this step so far
    (X, Y, W{l}, b{l}, Z{l}, A{l}, loss, Delta{l}, dW{l}, db{l}, dA{l}, W{l}_after,
    b{l}_after) to a read-only array; `outputs` names what this stage computed and
    `inputs` what it read."""

    __slots__ = ("spec", "index", "n_stages", "step", "epoch", "batch", "n_batches",
                 "outputs", "inputs", "arrays", "loss", "batch_indices", "step_end", "epoch_end")

    def __init__(self, spec: StageSpec, index: int, n_stages: int, step: int, epoch: int,
                 batch: int, n_batches: int, outputs: tuple[str, ...], inputs: tuple[str, ...],
                 arrays: Mapping[str, np.ndarray], loss: float | None,
                 batch_indices: np.ndarray, step_end: bool, epoch_end: bool):
        self.spec = spec
        self.index = index  # position in the step's plan, from 0
        self.n_stages = n_stages
        self.step = step  # training steps completed before this one
        self.epoch = epoch
        self.batch = batch  # batch index within the epoch
        self.n_batches = n_batches
        self.outputs = outputs
        self.inputs = inputs
        self.arrays = arrays
        self.loss = loss  # this step's loss, once the loss stage has run
        self.batch_indices = batch_indices  # (m,) which samples of the data set form this batch
        self.step_end = step_end  # the last stage of the step: the parameters have been updated
        self.epoch_end = epoch_end

    def __setattr__(self, name, value):
        if hasattr(self, "epoch_end"):  # all slots set: the result is complete and frozen
            raise AttributeError("StageResult is immutable")
        object.__setattr__(self, name, value)

    @property
    def eq(self) -> str:
        return self.spec.eq

    @property
    def layer(self) -> int:
        return self.spec.layer

    @property
    def phase(self) -> str:
        return self.spec.phase

    @property
    def sample(self) -> int | None:
        return self.spec.sample

    @property
    def equation(self):
        return CATALOGUE[self.spec.eq]

    def output(self, i: int = 0) -> np.ndarray:
        return self.arrays[self.outputs[i]]

    def describe(self) -> str:
        return f"{self.spec.eq} · {self.spec.title}: {self.spec.text()}"

    def __repr__(self) -> str:
        return (f"StageResult({self.spec.eq}, layer={self.spec.layer}, step={self.step}, "
                f"index={self.index}/{self.n_stages}, outputs={self.outputs})")


def frozen_mapping(d: dict) -> Mapping[str, np.ndarray]:
    return MappingProxyType(d)


class Snapshot:
    """Everything a panel draws at one moment: the latest stage result plus the run's
    history, built in the training thread and handed to the GUI as read-only data.

    stage        the StageResult just computed, or None before the first stage
    config       the NetConfig
    params       the current parameters ((W, b|None) per layer; the pre-update ones
                 until the step's last U1 stage)
    losses       (steps,) loss of every completed step, complete even when frames are skipped
    epoch_losses (epochs,) mean loss per completed epoch
    test_accuracy  list of (step, accuracy) measured at epoch ends, when there is a test set
    stats        {layer: {"grad_rms", "update_ratio", "inactive_share"}} for the step shown
    stats_history  list of (step, stats) per completed step (bounded by the worker)
    data_name, image_shape, class_names   what the samples are
    status       the status line text ("epoch 0 · batch 0 · stage: ready")
    message      an error or breakpoint message to show, else ""
    """

    __slots__ = ("stage", "config", "params", "losses", "epoch_losses", "test_accuracy", "stats",
                 "stats_history", "data_name", "image_shape", "class_names", "status", "message",
                 "serial")

    def __init__(self, **kw):
        for k in self.__slots__:
            object.__setattr__(self, k, kw.get(k))

    def __setattr__(self, name, value):
        raise AttributeError("Snapshot is immutable")

    @property
    def arrays(self) -> Mapping[str, np.ndarray]:
        """The stage's arrays, or just the parameters when no stage has run yet."""
        if self.stage is not None:
            return self.stage.arrays
        d = {}
        for l, (w, b) in enumerate(self.params, 1):
            d[f"W{l}"] = w
            if b is not None:
                d[f"b{l}"] = b
        return MappingProxyType(d)
