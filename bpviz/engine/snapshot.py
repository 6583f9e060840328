"""What one stage of a training step produced: immutable, self-describing, and cheap.

Every array a stage computes is allocated afresh and frozen by its writeable flag,
and the update makes new parameter arrays, so a StageResult shares arrays with later
stages without copying and no later stage can change what it shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
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

    def text(self, column: bool = False, bias: bool = True, reduction: str | None = None,
             activations: dict[int, str] | None = None) -> str:
        return equation_text(self.eq, self.layer, column, bias, reduction, activations)


class StepInfo:
    """What every stage of one training step shares: made once per step."""

    __slots__ = ("step", "epoch", "batch", "n_batches", "n_stages", "batch_indices", "last_batch", "base")

    def __init__(self, step: int, epoch: int, batch: int, n_batches: int, n_stages: int,
                 batch_indices: np.ndarray, base: dict):
        self.step = step  # training steps completed before this one
        self.epoch = epoch
        self.batch = batch  # batch index within the epoch
        self.n_batches = n_batches
        self.n_stages = n_stages
        self.batch_indices = batch_indices  # (m,) which samples of the data set form this batch
        self.last_batch = batch + 1 == n_batches
        self.base = base  # X, A0, Y and the parameters before the update; never changed


class StageResult:
    """The outcome of one stage. `arrays` maps every name known in this step so far
    (X, A0, Y, W{l}, b{l}, Z{l}, A{l}, loss, Delta{l}, dW{l}, db{l}, dA{l}, W{l}_after,
    b{l}_after) to a read-only array; `outputs` names what this stage computed and
    `inputs` what it read.

    The mapping is built on first access from a chain of the step's earlier results,
    so running at full speed never pays for it. The fields are read-only properties over
    private slots: plain slot stores keep constructing one (once per equation) cheap."""

    __slots__ = ("_spec", "_index", "_info", "_new", "_inputs", "_prev", "_loss", "_arrays")

    def __init__(self, spec: StageSpec, index: int, info: StepInfo, new: dict[str, np.ndarray],
                 inputs: tuple[str, ...], prev: "StageResult | None", loss: float | None):
        self._spec = spec
        self._index = index  # position in the step's plan, from 0
        self._info = info
        self._new = new  # what this stage computed, by name
        self._inputs = inputs
        self._prev = prev  # the previous stage of the same step, or None
        self._loss = loss  # this step's loss, once the loss stage has run
        self._arrays = None

    spec = property(attrgetter("_spec"))
    index = property(attrgetter("_index"))
    info = property(attrgetter("_info"))
    new = property(attrgetter("_new"))
    inputs = property(attrgetter("_inputs"))
    prev = property(attrgetter("_prev"))
    loss = property(attrgetter("_loss"))

    def __reduce__(self):
        # across a process boundary the chain of earlier stages travels as one mapping
        return _stage_from, (self.spec, self.index, self.info, self.new, self.inputs, self.loss, dict(self.arrays))

    @property
    def arrays(self) -> Mapping[str, np.ndarray]:
        if self._arrays is None:
            chain, r = [], self
            while r is not None:
                chain.append(r._new)
                r = r._prev
            d = dict(self._info.base)
            for new in reversed(chain):
                d.update(new)
            self._arrays = MappingProxyType(d)
        return self._arrays

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.new)

    @property
    def step(self) -> int:
        return self.info.step

    @property
    def epoch(self) -> int:
        return self.info.epoch

    @property
    def batch(self) -> int:
        return self.info.batch

    @property
    def n_batches(self) -> int:
        return self.info.n_batches

    @property
    def n_stages(self) -> int:
        return self.info.n_stages

    @property
    def batch_indices(self) -> np.ndarray:
        return self.info.batch_indices

    @property
    def step_end(self) -> bool:
        """The last stage of the step: the parameters have been updated."""
        return self.index + 1 == self.info.n_stages

    @property
    def epoch_end(self) -> bool:
        return self.step_end and self.info.last_batch

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



def _frozen_copy(a):
    a = np.asarray(a)
    if a.flags.writeable:
        a.flags.writeable = False  # unpickled arrays own their data, so this always succeeds
    return a


def _stage_from(spec, index, info, new, inputs, loss, arrays) -> "StageResult":
    """A StageResult rebuilt from a pickle, read-only like the original."""
    arrays = {k: _frozen_copy(a) for k, a in arrays.items()}
    r = StageResult(spec, index, info, {k: arrays[k] for k in new}, inputs, None, loss)
    object.__setattr__(r, "_arrays", MappingProxyType(arrays))
    return r


class Snapshot:
    """Everything a panel draws at one moment: the latest stage result plus the run's
    history, built in the training thread and handed to the GUI as read-only data.

    stage        the StageResult just computed, or None before the first stage
    config       the NetConfig
    params       the current parameters ((W, b|None) per layer; the pre-update ones
                 until the step's last U1 stage)
    losses       (points,) loss of every completed step, complete even when frames are skipped;
                 one point a step unless a long run's oldest were folded into means
    loss_folds   the folded points at the start of `losses` as runs of (first step, width,
                 count) (bpviz.engine.series.spans gives each point's steps); () when none is
    epoch_losses (points,) mean loss per completed epoch, folded like `losses` (by epochs)
    epoch_loss_folds  the same for `epoch_losses`, in epochs
    test_accuracy  list of (step, accuracy) measured at epoch ends, when there is a test set
    n_batches    steps in an epoch (also before the first stage, as after opening a session)
    measures_test  whether epoch ends measure a test accuracy (a test set with classes): what
                 the loss panel lays out before the first one comes
    stats        {layer: {"grad_rms", "update_ratio", "inactive_share"}} for the step shown
    stats_history  a StatsView: per-layer figures over the last steps, in columns (bounded)
    data_name, image_shape, class_names   what the samples are
    status       the status line text ("epoch 0 · batch 0 · stage: ready")
    message      a message to show, else ""; its kind is `message_kind`
    message_kind "info" (edited, saved, loaded: fades), "warning" (a breakpoint fired, units
                 saturated: amber) or "error" (divergence, a bad file: red until the user acts)
    warnings     tuple of standing warnings about the step shown (e.g. most units of a layer
                 saturated or dead), each one line
    position, frontier   steps completed where the run is now, and at the furthest point its
                 timeline reaches (position < frontier after stepping back or scrubbing)
    boundary     for two input features: the network over the input plane (bpviz.engine.boundary
                 .decision_maps), with the weights the stage shows; else None
    playing      whether Play was running when it was taken (the last one after a pause is not)
    run_id       changes whenever the run is replaced (Reset, another data set or configuration,
                 an opened session): a panel drops everything it kept when it changes
    history      (stages kept, oldest step kept, stages dropped) of the step-back history
    contrib      {"losses": (m,), "shares": {layer: (m,)}} per-sample parts of the batch, or None
    ready_batch  before the first stage (stage None): the batch the first step reads, as
                 (data-set rows (m,), X (m, n0), Y (m, nL)); else None
    """

    __slots__ = ("stage", "config", "params", "losses", "loss_folds", "epoch_losses", "epoch_loss_folds",
                 "test_accuracy", "stats", "stats_history", "data_name", "image_shape", "class_names", "status",
                 "message", "serial", "history", "contrib", "message_kind", "warnings", "run_id",
                 "position", "frontier", "playing", "boundary", "ready_batch", "n_batches", "measures_test")

    def __init__(self, **kw):
        for k in self.__slots__:
            object.__setattr__(self, k, kw.get(k))

    def __setattr__(self, name, value):
        raise AttributeError("Snapshot is immutable")

    def __reduce__(self):
        return _snapshot_from, ({k: getattr(self, k) for k in self.__slots__},)

    @property
    def arrays(self) -> Mapping[str, np.ndarray]:
        """The stage's arrays; before the first stage, the parameters and the first batch
        (X, A0, Y): what the first equation reads."""
        if self.stage is not None:
            return self.stage.arrays
        d = {}
        if self.ready_batch is not None:
            _, x, y = self.ready_batch
            d.update(X=x, A0=x, Y=y)
        for l, (w, b) in enumerate(self.params, 1):
            d[f"W{l}"] = w
            if b is not None:
                d[f"b{l}"] = b
        return MappingProxyType(d)

    @property
    def shown_step(self) -> int:
        """The step shown, counted from 0: the stage's, or before any stage the one the next
        Step computes (`position` counts steps done: at a step's last stage it is one more)."""
        return self.stage.step if self.stage is not None else (self.position or 0)

    @property
    def in_past(self) -> bool:
        """Stepped back: the timeline reaches beyond the step shown (Run.in_past, as taken)."""
        return self.position is not None and self.frontier is not None and self.position < self.frontier

    @property
    def last_step(self) -> int:
        """The last step on the timeline, counted from 0 (the frontier counts steps done)."""
        return max(self.shown_step, (self.frontier or 0) - 1)

    @property
    def batch_indices(self) -> np.ndarray | None:
        """(m,) the data-set rows of the batch shown (the first batch before any stage), or None."""
        if self.stage is not None:
            return self.stage.batch_indices
        return self.ready_batch[0] if self.ready_batch is not None else None


def _snapshot_from(fields: dict) -> Snapshot:
    """A Snapshot rebuilt from a pickle: its arrays read-only, as the original's were."""
    for k in ("losses", "epoch_losses"):
        if fields.get(k) is not None:
            fields[k] = _frozen_copy(fields[k])
    if fields.get("ready_batch") is not None:
        fields["ready_batch"] = tuple(_frozen_copy(a) for a in fields["ready_batch"])
    if fields.get("params") is not None:
        fields["params"] = tuple((_frozen_copy(w), None if b is None else _frozen_copy(b)) for w, b in fields["params"])
    return Snapshot(**fields)
