"""The run a window shows, without Qt: a trainer on a data set plus everything that
outlives one frame — the timeline of checkpoints, the loss, statistics and accuracy
history, the breakpoints, the message to show — and the Snapshots built from it.

A Run is replaced whole (Reset, another data set or configuration, an opened session),
so nothing of a previous run can survive into the next: each Run has its own `run_id`,
which every Snapshot carries. The window hosts one Run through bpviz.engine.host, in a child
process or on a thread; tests and benchmarks use Runs directly.

The timeline: stepping back or scrubbing moves the trainer into the past by recomputing
from the nearest checkpoint (the engine is deterministic, so the numbers are identical)
and deletes nothing; stepping forward from the past replays the same numbers. Only an
edit made in the past starts a new branch, which discards the old future.

Memory: checkpoints and the loss history (the trainer's Series, which the run shares) count
in one history budget. The loss history may take LOSS_SHARE of it (at most LOSS_POINTS
points a series); past that its oldest points are folded into means, the newest kept exact.
Checkpoints go oldest first when the total is over the budget, and as soon as the losses
from their epoch's first step on are folded: every position the timeline can return to has
exact losses for its epoch, so an edit there cuts the history in its exact part and the
epoch's mean is computed as without folding.
"""
from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np

from .breakpoints import Breakpoint, BreakpointSet
from .config import NetConfig
from .series import Series
from .snapshot import Snapshot, StageResult
from .stats import StatsHistory, layer_stats
from .trainer import DivergenceError, Trainer, TrainerState

HISTORY_MB = 256  # default memory for the timeline: about 320 checkpoints of 784-128-10 in float64
STATS_HISTORY = 4000  # per-layer figures kept for the inspector's plots
STATS_EVERY = 10  # at full speed, per-layer figures are recorded every this many steps
# at full speed a checkpoint every this many steps: 10 for 784-128-10 (recomputing them takes
# ~10 ms), more for smaller nets, whose steps are cheaper (1,000 for the toy net: ~0.2 s)
CHECKPOINT_WORK = 1_000_000  # parameters x steps between two checkpoints at full speed
CHECKPOINT_EVERY = (10, 1000)  # the fewest and the most steps between them
MOSTLY = 0.75  # a warning when at least this share of a hidden layer's units is dead or saturated

STEP_END_GRACE = 0.1  # seconds Play at full speed may run past its chunk to reach a step's end
CHECKPOINT_OVERHEAD = 600  # bytes a checkpoint costs besides its arrays' data (objects, array headers)
LOSS_SHARE = 0.5  # of the history budget the loss history may take before its oldest points are folded
# and at most this many points a series (2 MB), however large the budget: every frame ships them to
# the window and draws them (2^18 points take ~3 ms to pickle, 2^20 ~9 ms and 2^23 ~80; with 2^20
# the toy net's Play fell from 7.6k to 5k steps/s over 3 minutes, with 2^18 it held 7-8k)
LOSS_POINTS = 1 << 18
LOSS_MIN_POINTS = 256  # a series' bound under the smallest budgets

_run_ids = itertools.count(1)
_accuracy_pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): a forked child makes its own


# the background thread's priority (Linux): about a tenth of a core that another thread wants
ASIDE_NICE = 10


def _yield_to_others() -> None:
    """Lowers the calling thread's priority where threads have their own (Linux): on two cores
    the window's thread shares the core the training leaves, and at the same priority an
    epoch's test pass lengthened the window's longest gap in Play by 7 ms. Not the lowest:
    with both cores busy (a loaded machine) a nice-19 thread all but stops."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ASIDE_NICE)
        except OSError:  # not allowed here: the figure still comes, at normal priority
            pass


def _measure_aside(*args) -> Future:
    """network.accuracy(*args) on the process's one background thread: at full speed an epoch's
    test pass (45-48 ms of a 0.75 s epoch of 784-128-10) then runs on the core the training
    leaves, since NumPy's products release the GIL."""
    global _accuracy_pool
    from .network import accuracy
    if _accuracy_pool is None or _accuracy_pool[0] != os.getpid():
        pool = ThreadPoolExecutor(1, thread_name_prefix="bpviz-accuracy", initializer=_yield_to_others)
        _accuracy_pool = (os.getpid(), pool)
    return _accuracy_pool[1].submit(accuracy, *args)


def checkpoint_interval(n_params: int) -> int:
    """Steps between two checkpoints at full speed for a network of `n_params` parameters."""
    return int(np.clip(CHECKPOINT_WORK // max(n_params, 1), *CHECKPOINT_EVERY))


def _until(how: str, cfg: NetConfig) -> Callable[[StageResult], bool]:
    """How far each way of advancing goes: a predicate on the stage just computed."""
    if how == "stage" or (how == "sample" and not cfg.per_sample):
        return lambda r: True
    if how == "sample":
        return lambda r: r.spec.sample is not None or r.step_end
    if how == "pass":  # the U1 stages, one per layer, close the plan
        return lambda r: r.index == r.n_stages - cfg.n_layers - 1
    if how == "step":
        return lambda r: r.step_end
    if how == "epoch":
        return lambda r: r.epoch_end
    raise ValueError(f"unknown way of advancing {how!r}")


def status_text(trainer: Trainer, r: StageResult | None) -> str:
    if r is None:
        return f"epoch {trainer.epoch} · batch {trainer.batch} · stage: ready"
    sample = f" · sample {r.sample + 1}" if r.sample is not None else ""
    return (f"epoch {r.epoch} · batch {r.batch} · stage {r.index + 1}/{r.n_stages} · "
            f"{r.eq} ({r.spec.title}){sample}: {status_equation(trainer.cfg, r.spec)}")


def status_equation(cfg, spec, column: bool = False) -> str:
    """The stage's equation in plain text, named as its typeset form names it."""
    return spec.text(column=column, bias=cfg.bias, reduction=cfg.reduction,
                     activations={l: cfg.activation(l) for l in range(1, cfg.n_layers + 1)})


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def health_warnings(stats: dict[int, dict[str, float]], cfg: NetConfig) -> tuple[str, ...]:
    """One line per hidden layer most of whose units are dead (ReLU) or saturated (sigmoid, tanh)."""
    what = "dead" if cfg.hidden in ("relu", "leaky_relu") else "saturated"
    out = []
    for l, s in sorted(stats.items()):
        share = s.get("inactive_share")
        if share is not None and share >= MOSTLY:
            out.append(f"layer {l}: {share:.0%} of its units are {what} ({cfg.hidden}); "
                       f"their gradients are {'zero' if what == 'dead' else 'nearly zero'}")
    return tuple(out)


class Run:
    """One run: a Trainer, its data and the state that outlives a frame.

    Every verb (advance, step_back, rewind_to_stage, edit_param, ...) changes the run and
    leaves a message for the next Snapshot; errors are raised for the host to report.
    """

    def __init__(self, trainer: Trainer, data, *, breakpoints: list[Breakpoint] | None = None,
                 history_mb: float = HISTORY_MB, test_accuracy=()):
        self.trainer = trainer
        self.data = data  # bpviz.runs.RunData
        self.run_id = next(_run_ids)
        self.breakpoints = BreakpointSet(list(breakpoints or ()))
        self.full_speed = False  # set by the host while playing unpaced: records thin out
        self.message = ""
        self.message_kind = "info"
        self.test_accuracy: list[tuple[int, float]] = [(int(s), float(a)) for s, a in test_accuracy]
        self._accuracy_aside: dict[int, Future] = {}  # step -> its test accuracy being measured aside
        self.stats_history = StatsHistory(trainer.cfg.n_layers, STATS_HISTORY)
        self.checkpoints: deque[tuple[TrainerState, int]] = deque()  # (checkpoint, bytes it keeps)
        self.checkpoint_bytes = 0
        self.loss_bytes = 0  # the loss history's buffers
        self._loss_versions = (None, None)  # of the loss series when last counted
        self.history_budget = max(1, int(history_mb * 2**20))
        self.history_dropped = 0
        labels = data.train.class_labels() if data is not None else None
        self._labels = data.train.class_labels if labels is not None else None
        self._plane = None  # (extent, samples, labels) of a 2-D data set, made once
        test = data.test if data is not None else None
        self._measures_test = test is not None and test.n_samples > 0 and test.class_labels() is not None
        self._checkpoint_every = checkpoint_interval(sum(w.size + (0 if b is None else b.size)
                                                         for w, b in trainer.params))
        trainer.on_stage = self._observe
        self._step_seconds = math.inf  # a whole step's time at full speed, once Play has seen one
        self._bound_losses()
        self._add_checkpoint(self._here())

    @classmethod
    def build(cls, cfg: NetConfig, data, **kw) -> "Run":
        """A fresh run of `cfg` on `data` (bpviz.runs.RunData); raises ConfigError, or
        BudgetError when it would need more memory than the limit allows."""
        from bpviz.runs import make_trainer
        from .budget import check_budget
        check_budget(cfg, data.train.n_samples, data.test.n_samples if data.test is not None else 0)
        return cls(make_trainer(cfg, data), data, **kw)

    @classmethod
    def from_session(cls, session, data, **kw) -> "Run":
        """The run a loaded session describes; raises SessionError/ConfigError before anything
        is built, so a caller replaces its run only with a complete one."""
        from .session import resume
        trainer = resume(session, data.train, data.identity)
        run = cls(trainer, data, breakpoints=list(session.breakpoints), test_accuracy=session.test_accuracy, **kw)
        run.say(f"session loaded: step {session.state.steps_done}, epoch {session.state.epoch}")
        return run

    def replaced(self) -> "Run":
        """Reset: the same network from its initial weights, as a new run (same breakpoints
        and history memory, nothing else kept)."""
        self.trainer.reset()
        return Run(self.trainer, self.data, breakpoints=self.breakpoints.items,
                   history_mb=self.history_budget / 2**20)

    # -- what the host reads -----------------------------------------------------------
    @property
    def cfg(self) -> NetConfig:
        return self.trainer.cfg

    @property
    def position(self) -> int:
        """Steps completed where the trainer is now (less than `frontier` in the past)."""
        return self.trainer.steps_done

    @property
    def frontier(self) -> int:
        """Steps completed at the furthest point the run has reached."""
        return self.trainer.losses.steps

    @property
    def losses(self) -> Series:
        """The loss of every step on the timeline (the trainer keeps it whole in the past)."""
        return self.trainer.losses

    @property
    def epoch_losses(self) -> Series:
        return self.trainer.epoch_losses

    @property
    def history_bytes(self) -> int:
        """What the history budget counts: checkpoints and the loss history."""
        return self.checkpoint_bytes + self.loss_bytes

    @property
    def in_past(self) -> bool:
        return self.position < self.frontier

    def say(self, text: str, kind: str = "info") -> None:
        self.message, self.message_kind = text, kind

    # -- recording what happens --------------------------------------------------------
    def _observe(self, r: StageResult) -> None:
        """Sees every stage the trainer computes (not the ones recomputed on a rewind); it
        acts at a step's first stage and at its end only (see _play_steps)."""
        if r.index == 0:
            self._step_began(r)
        if r.step_end:
            self._step_ended(r)

    def _step_began(self, r: StageResult) -> None:
        """A checkpoint at the start of `r`'s step (any stage of it: they share its inputs)."""
        every = self._checkpoint_every if self.full_speed else 1
        if not self.checkpoints or r.step - self.checkpoints[-1][0].steps_done >= every:
            params = tuple((r.info.base[f"W{l}"], r.info.base.get(f"b{l}"))
                           for l in range(1, self.cfg.n_layers + 1))
            self._add_checkpoint(TrainerState(params, r.step, r.epoch, r.batch, None, None, 0))

    def _step_ended(self, r: StageResult) -> None:
        t = self.trainer
        if (t.losses.version, t.epoch_losses.version) != self._loss_versions:  # grown or folded
            self._count_losses()
        last_stats = self.stats_history.last_step()
        if r.step > last_stats and (not self.full_speed or r.step % STATS_EVERY == 0):
            self.stats_history.append(r.step, layer_stats(r.arrays, self.cfg.n_layers, self.cfg.hidden, self.cfg.lr))
        if r.epoch_end and t.steps_done not in self._accuracy_aside \
                and not any(s == t.steps_done for s, _ in self.test_accuracy):
            self._measure_test_accuracy(t.steps_done)

    def _measure_test_accuracy(self, step: int) -> None:
        """At full speed on the background thread (its result joins at the next snapshot,
        see _collect_accuracy), otherwise now. The parameters are frozen arrays that the
        trainer replaces, never changes, so the thread reads this step's."""
        from .network import accuracy
        test = self.data.test if self.data is not None else None
        if test is None:
            return
        args = (self.trainer.params, self.cfg, test, self.trainer.dtype)
        if self.full_speed:
            # at most one epoch behind: on a machine too busy to run the thread, the training
            # waits for it here (and its core is then free for the thread)
            self._collect_accuracy(wait=True)
            self._accuracy_aside[step] = _measure_aside(*args)
        else:
            self._add_accuracy(step, accuracy(*args))

    def _add_accuracy(self, step: int, acc: float | None) -> None:
        if acc is not None:
            self.test_accuracy.append((step, acc))
            self.test_accuracy.sort()

    def _collect_accuracy(self, wait: bool) -> None:
        """Adds the test accuracies measured aside: those finished, or (`wait`) all of them,
        which every reader but a frame of Play does, so history is whole when it is shown
        paused, saved or cut."""
        for step, job in list(self._accuracy_aside.items()):
            if wait or job.done():
                del self._accuracy_aside[step]
                self._add_accuracy(step, job.result())

    def _here(self) -> TrainerState:
        """A checkpoint of where the trainer is, at a step boundary (history: the timeline's)."""
        t = self.trainer
        return TrainerState(t.params, t.steps_done, t.epoch, t.batch, None, None, 0)

    def _add_checkpoint(self, st: TrainerState) -> None:
        size = CHECKPOINT_OVERHEAD + sum(w.nbytes + (0 if b is None else b.nbytes) for w, b in st.params)
        self.checkpoints.append((st, size))
        self.checkpoint_bytes += size
        self._trim_history()

    def _drop_oldest(self) -> None:
        _, old = self.checkpoints.popleft()
        self.checkpoint_bytes -= old
        self.history_dropped += 1

    def _trim_history(self) -> None:
        while self.history_bytes > self.history_budget and len(self.checkpoints) > 1:
            self._drop_oldest()

    def _loss_series(self) -> tuple[Series, ...]:
        t = self.trainer
        return (t.losses,) if t.epoch_losses is t.losses else (t.losses, t.epoch_losses)

    def _bound_losses(self) -> None:
        """Each loss series gets an equal part of the loss share of the budget, and is folded
        to fit it now unless the trainer is in the past (its position must stay in the exact
        part; the next step at the frontier folds)."""
        series = self._loss_series()
        limit = min(LOSS_POINTS, max(LOSS_MIN_POINTS, int(self.history_budget * LOSS_SHARE) // 8 // len(series)))
        for s in series:
            s.limit = limit
            if s.nbytes > 8 * limit and not self.in_past:
                s.fit(limit, most=limit)  # what fits stays as it is
        self._count_losses()

    def _count_losses(self) -> None:
        """After the loss history grew, was folded or cut: count its bytes, drop the checkpoints
        whose epoch's losses are no longer exact (see the module's docstring), trim to the budget."""
        t = self.trainer
        self.loss_bytes = sum(s.nbytes for s in self._loss_series())
        self._loss_versions = (t.losses.version, t.epoch_losses.version)
        while self.checkpoints and (self.checkpoints[0][0].epoch * t.n_batches < t.losses.exact_from
                                    or self.checkpoints[0][0].epoch < t.epoch_losses.exact_from):
            self._drop_oldest()
        self._trim_history()

    def set_history_mb(self, mb: float) -> None:
        self.history_budget = max(1, int(mb * 2**20))
        self._bound_losses()

    def set_breakpoints(self, items) -> None:
        self.breakpoints = BreakpointSet([b if isinstance(b, Breakpoint) else Breakpoint(**b) for b in items])

    # -- advancing ----------------------------------------------------------------------
    def _check(self, r: StageResult) -> str | None:
        if not self.breakpoints.items:
            return None
        t = self.trainer
        previous = t.losses.at_step(r.step - 1) if r.step > 0 else None
        return self.breakpoints.check(r, previous, t.cfg.lr, t.cfg.n_layers, self._labels)

    def advance(self, how: str, max_stages: int | None = None) -> StageResult | None:
        """Run stages until `how` ("stage", "sample", "pass", "step", "epoch") is reached, a
        breakpoint fires (every way of advancing watches them) or `max_stages` ran. Returns
        the last stage, or None when a breakpoint fired (the message says which)."""
        until = _until(how, self.cfg)
        t = self.trainer
        self.say("")
        n = 0
        while True:
            r = t.next_stage()
            n += 1
            msg = self._check(r)
            if msg:
                self.say(f"{msg} — stopped by {_HOW[how]}", "warning")
                return None
            if until(r) or (max_stages is not None and n >= max_stages):
                return r

    def play(self, seconds: float, paced: bool) -> bool:
        """Play for about `seconds` (paced: exactly one stage). False when a breakpoint
        stopped it; the message says which. Unpaced, it goes on to the end of the step
        (up to STEP_END_GRACE longer): every frame of full speed then shows the same
        stage, the step's last, so the window moves numbers rather than its layout, and
        a pause stops at the stage on screen."""
        self.full_speed = not paced
        now = time.perf_counter()
        deadline = now + seconds
        t = self.trainer
        if not paced and not self.breakpoints.items and self._step_seconds < STEP_END_GRACE \
                and t.on_stage == self._observe:
            return self._play_steps(deadline)
        began = None  # when the step in progress began, if this call saw it begin
        while True:
            before = now
            r = t.next_stage()
            msg = self._check(r)
            if msg:
                self.say(f"{msg} — stopped by Play", "warning")
                return False
            if paced:
                return True
            now = time.perf_counter()
            began = before if r.index == 0 else began
            if r.step_end and began is not None:
                self._step_seconds = now - began
            if now >= deadline and (r.step_end or now >= deadline + STEP_END_GRACE):
                return True

    def _play_steps(self, deadline: float) -> bool:
        """Full speed with no breakpoint to watch, and steps shorter than STEP_END_GRACE:
        whole steps in the trainer's hot loop (Trainer.finish_step), each observed at its
        start and end, which is all _observe acts on: about 3% less time an epoch than a
        call per stage (784-128-10, batch 100). A longer step goes stage by stage again, so
        that Pause is answered within it."""
        t = self.trainer
        while True:
            before, last = time.perf_counter(), t.last
            begins = last is None or last.step_end
            # where the run was, and no result of the previous step held while this one runs:
            # Trainer.finish_step lets their arrays go early
            was = None if last is None else (last.step, last.index)
            last = r = None
            t.on_stage = None  # the hot loop runs only without an observer
            try:
                r = t.finish_step()
            finally:
                t.on_stage = self._observe
                # t.last read, not kept: a local holding it would keep this step's arrays
                # through the next one (7% of full speed on 784-128-10, fresh memory each step)
                if begins and t.last is not None and (t.last.step, t.last.index) != was:  # began, even if it then diverged
                    self._step_began(t.last)
            self._step_ended(r)
            now = time.perf_counter()
            self._step_seconds = now - before
            if now >= deadline or self._step_seconds >= STEP_END_GRACE:
                return True

    # -- the timeline -------------------------------------------------------------------
    def step_back(self) -> None:
        """One stage back, across batch and epoch boundaries while the timeline reaches."""
        r = self.trainer.last
        if r is None:  # before any stage: a new run's, or a session's opened at a later step
            done = self.trainer.steps_done
            if done == 0:
                self.say("no equation has been computed yet: there is nothing to step back to")
            else:
                self.rewind_to_stage(done - 1)  # the step before's last stage, if it is kept
            return
        if r.index == 0 and r.step == 0:
            self.say("this is the first stage; there is nothing before it")
            return
        self.rewind_to_stage(*((r.step, r.index - 1) if r.index > 0 else (r.step - 1, None)))

    def rewind_to_stage(self, step: int, index: int | None = None) -> None:
        """Move to stage `index` of `step` (None: its last stage) by recomputing from the
        nearest checkpoint; nothing on the timeline is deleted."""
        step = int(step)
        if not 0 <= step <= self.frontier:
            self.say(f"step {step} is not on the timeline (0 to {self.frontier})", "warning")
            return
        if step == self.frontier and index is None:
            step, index = step - 1, None  # the last finished step's last stage
            if step < 0:
                self.say("this is the first stage; there is nothing before it")
                return
        usable = [c for c, _ in self.checkpoints if c.steps_done <= step]
        if not usable and not self.history_dropped:  # nothing fell out: the timeline began there
            oldest = self.checkpoints[0][0].steps_done if self.checkpoints else self.trainer.steps_done
            self.say(f"the timeline starts at step {oldest}, where the session was saved: there is nothing "
                     f"before it to step back to")
            return
        if not usable:
            self.say("nothing that old is kept (raise the history memory to keep more)", "warning")
            return
        c = usable[-1]
        t = self.trainer
        observer, t.on_stage = t.on_stage, None  # recomputing is not new history
        try:
            t.restore(c)  # the trainer keeps the timeline's losses (c has none of its own)
            plan_len = len(t.plan)
            while True:
                r = t.next_stage()
                if r.step == step and (r.index == index or (index is None and r.step_end)
                                       or r.index + 1 >= plan_len):
                    break
        finally:
            t.on_stage = observer
        self.say("")

    def _branch(self) -> bool:
        """Before an edit in the past: drop the future it invalidates. True when some was."""
        if not self.in_past:
            return False
        now = self.position
        t = self.trainer
        t.losses.truncate(now)  # in the exact part: no checkpoint older than that is kept
        t.epoch_losses.truncate(t.epoch)
        self._collect_accuracy(wait=True)
        self.test_accuracy = [(s, a) for s, a in self.test_accuracy if s <= now]
        self.stats_history.drop_from(now)
        while self.checkpoints and self.checkpoints[-1][0].steps_done > now:
            _, size = self.checkpoints.pop()
            self.checkpoint_bytes -= size
        self._count_losses()
        return True

    def _resync_checkpoint(self) -> None:
        """After an edit the current step starts from other parameters: its checkpoint is replaced."""
        st = self._here()
        while self.checkpoints and self.checkpoints[-1][0].steps_done >= st.steps_done:
            _, size = self.checkpoints.pop()
            self.checkpoint_bytes -= size
        self._add_checkpoint(st)

    def _edit(self, change: Callable[[Trainer], object], done: str) -> None:
        # validate on a copy of nothing: the trainer refuses bad edits before changing anything
        branched = self.in_past
        change(self.trainer)
        if branched:
            self._branch()
        self._resync_checkpoint()
        self.say(done + ("; the steps after this one were discarded (a new branch)" if branched else ""))

    def edit_param(self, name: str, index, value: float) -> None:
        """Change one weight or bias; the current step is recomputed."""
        self._edit(lambda t: t.set_param(name, tuple(index), float(value)),
                   f"edited {name}{list(index)} = {value:g}; this step was recomputed")

    def edit_input(self, row: int, values) -> None:
        self._edit(lambda t: t.set_input(int(row), np.asarray(values, dtype=float)),
                   f"edited the input of data set row {row}; this step was recomputed")  # as the sample panel names it

    # -- checking, saving -----------------------------------------------------------------
    def gradcheck(self, layer: int, cell=None):
        """Central differences on the current batch for one layer (or one weight of it),
        from the parameters the current step starts from."""
        from .gradcheck import gradcheck
        t = self.trainer
        r = t.last if t.last is not None and not t.last.step_end else t.next_stage()
        arrays = r.arrays
        params = tuple((arrays[f"W{l}"], arrays.get(f"b{l}")) for l in range(1, t.cfg.n_layers + 1))
        names = {f"W{layer}"} | ({f"b{layer}"} if t.cfg.bias else set())
        entries = {f"W{layer}": [tuple(cell)]} if cell is not None else None
        if entries:
            names = {f"W{layer}"}
        return gradcheck(t.cfg, arrays["X"], arrays["Y"], params, names=names, entries=entries,
                         max_entries=None if entries else 40, intermediates=False)

    def save_session(self, path: str) -> None:
        from .session import save_session
        self._collect_accuracy(wait=True)
        extras = {"test_accuracy": np.array(self.test_accuracy, dtype=float).reshape(-1, 2)}
        save_session(path, self.trainer, self.data.name, self.data.identity, self.breakpoints.items, extras)
        self.say(f"session saved to {path}")

    def fail(self, e: BaseException) -> str:
        """Record an error raised by a verb; returns its one-line message."""
        if isinstance(e, DivergenceError):
            msg = f"training stopped: {e}"
        else:
            msg = f"error: {_one_line(e)}"
        self.say(msg, "error")
        return msg

    # -- the snapshot ---------------------------------------------------------------------
    def snapshot(self, serial: int = 0, playing: bool = False) -> Snapshot:
        """Everything a panel draws now, as read-only data. While paused it adds the per-sample
        parts of the batch (a pass over the batch: too dear while playing)."""
        t = self.trainer
        r = t.last
        self._collect_accuracy(wait=not playing)
        arrays = r.arrays if r is not None else None
        stats = layer_stats(arrays, t.cfg.n_layers, t.cfg.hidden, t.cfg.lr) if arrays is not None else {}
        contrib = None
        if r is not None and not playing:
            from .contrib import gradient_shares, per_sample_losses
            with np.errstate(all="ignore"):  # a diverging run's parts are inf, not warnings
                losses = per_sample_losses(arrays, t.cfg)
                if losses is not None:
                    contrib = {"losses": losses, "shares": gradient_shares(arrays, t.cfg)}
        oldest = self.checkpoints[0][0].steps_done if self.checkpoints else t.steps_done
        d = self.data
        boundary = None
        if d.train.n_features == 2:  # a plane the learner can see whole
            from .boundary import decision_maps, plane_extent, shown_params
            if self._plane is None:
                x, _ = d.train.batch(np.arange(d.train.n_samples), np.float64)  # (n, 2)
                extent = getattr(d, "extent", None) or plane_extent(x)
                self._plane = (extent, x, d.train.class_labels())
            extent, x, labels = self._plane
            arrays = r.arrays if r is not None else self.snapshot_params()
            boundary = decision_maps(shown_params(arrays, t.cfg.n_layers), t.cfg, extent, x, labels)
        losses = t.losses.view()
        return Snapshot(stage=r, config=t.cfg, params=t.params, losses=losses, loss_folds=t.losses.folds,
                        epoch_losses=losses if t.epoch_losses is t.losses else t.epoch_losses.view(),
                        epoch_loss_folds=t.epoch_losses.folds, test_accuracy=tuple(self.test_accuracy),
                        stats=stats, stats_history=self.stats_history.view(), data_name=d.name,
                        image_shape=d.train.image_shape, class_names=d.class_names,
                        status=self._status(r), message=self.message, message_kind=self.message_kind,
                        warnings=health_warnings(stats, t.cfg), serial=serial,
                        history=(len(self.checkpoints), oldest, self.history_dropped), contrib=contrib,
                        run_id=self.run_id, position=t.steps_done, frontier=self.frontier,
                        playing=playing, boundary=boundary, ready_batch=t.next_batch() if r is None else None,
                        n_batches=t.n_batches, measures_test=self._measures_test)

    def _status(self, r) -> str:
        """The status line; after a divergence it says that the panels show the last finite
        stage, and which stage failed (nothing non-finite is ever committed)."""
        t = self.trainer
        text = status_text(t, r)
        e = t.diverged
        if e is not None:
            text += (f" · stopped: the next stage, {e.spec.eq} ({e.spec.title}), made a non-finite "
                     f"{e.name}; the panels show the last finite stage")
        return text

    def snapshot_params(self) -> dict:
        return {k: v for l, (w, b) in enumerate(self.trainer.params, 1)
                for k, v in ((f"W{l}", w), (f"b{l}", b))}


_HOW = {"stage": "Step", "sample": "Step sample", "pass": "Finish pass", "step": "Step batch",
        "epoch": "Step epoch", "play": "Play"}
