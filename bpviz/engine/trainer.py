"""The training loop as a generator that yields after every equation.

`Trainer.next_stage()` runs exactly one stage (one equation of resources/equations.md) and
returns its StageResult; every other way of advancing (a sample, the rest of the
backward pass, a batch, an epoch, N steps at full speed) is a loop over it, so
stepping and running give the same numbers by construction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Callable, Iterator, Sequence

import numpy as np

from .activations import get_activation
from .config import NetConfig
from .dataset import ArraySet
from .losses import get_output_loss
from .network import Params, freeze, init_params, reduction
from .series import Series
from .snapshot import StageResult, StageSpec, StepInfo


# overflow and NaN are found and reported by the stage checks, not as NumPy warnings
def _quiet() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


class DivergenceError(ArithmeticError):
    """A stage produced a non-finite value; training stops at that stage."""

    def __init__(self, spec: StageSpec, step: int, epoch: int, batch: int, name: str, cell: tuple):
        self.spec, self.step, self.epoch, self.batch, self.name, self.cell = spec, step, epoch, batch, name, cell
        where = ",".join(map(str, cell))
        super().__init__(f"non-finite value in {name}[{where}] produced by {spec.eq} "
                         f"({spec.title}) at step {step} (epoch {epoch}, batch {batch})")


@lru_cache(maxsize=64)
def step_plan(cfg: NetConfig, m: int) -> tuple[StageSpec, ...]:
    """The stages of one training step on a batch of m samples, in order."""
    pair = get_output_loss(cfg.output_loss)
    L = cfg.n_layers
    plan: list[StageSpec] = []
    for l in range(1, L + 1):
        plan += [StageSpec("F1", l, "forward"), StageSpec("F2", l, "forward")]
    plan += [StageSpec(pair.loss_eq, L, "loss"), StageSpec(pair.delta_eq, L, "backward")]
    samples = range(m) if cfg.per_sample else (None,)
    for l in range(L, 0, -1):
        plan += [StageSpec("B2", l, "backward", s) for s in samples]
        if cfg.bias:
            plan += [StageSpec("B3", l, "backward", s) for s in samples]
        if l > 1:
            plan += [StageSpec("B4", l, "backward"), StageSpec("B5", l, "backward")]
    plan += [StageSpec("U1", l, "update") for l in range(1, L + 1)]
    return tuple(plan)


def _first_bad(a: np.ndarray) -> tuple | None:
    """Index of the first non-finite entry of `a`, or None."""
    bad = np.argwhere(~np.isfinite(a))
    return tuple(int(i) for i in bad[0]) if len(bad) else None


def _norm_or_fault(a: np.ndarray) -> float | tuple:
    """The Frobenius norm of `a` (inf if only the squares overflow), or the index of its
    first non-finite entry. One BLAS dot is a cheaper first look than a.sum()."""
    flat = a.reshape(-1)
    ss = float(np.dot(flat, flat))
    if math.isfinite(ss):
        return math.sqrt(ss)
    cell = _first_bad(a)
    return cell if cell is not None else math.inf


def _norms(params, names) -> dict[str, float]:
    """‖W{l}‖ and ‖b{l}‖ by name; an overflowing square is inf (the stage checks find the cause)."""
    out = {}
    with _quiet():
        for l, (w, b) in enumerate(params, 1):
            out[names[l].W] = float(np.linalg.norm(np.asarray(w, np.float64)))
            if b is not None:
                out[names[l].b] = float(np.linalg.norm(np.asarray(b, np.float64)))
    return out


def _act_kind(name: str) -> str:
    if name in ("relu", "leaky_relu", "identity"):  # leaky slopes are in [0, 1)
        return "contracting"
    if name == "softmax":
        return "softmax"
    if name in ("sigmoid", "tanh"):
        return "unit"
    raise ValueError(f"no norm bound known for the activation {name!r}")


def _times(*xs) -> float:
    out = 1.0
    for x in xs:
        if x is None:
            return math.inf
        out *= x
    return out


def _plus(a, b) -> float:
    return math.inf if a is None or b is None else a + b


class _LayerNames:
    """Every array name of layer l and the inputs of its stages, made once per run rather
    than formatted at every stage."""

    def __init__(self, l: int):
        self.W, self.b, self.Z, self.A, self.Delta = f"W{l}", f"b{l}", f"Z{l}", f"A{l}", f"Delta{l}"
        self.dW, self.db, self.dA_prev = f"dW{l}", f"db{l}", f"dA{l-1}"
        self.W_after, self.b_after = f"W{l}_after", f"b{l}_after"
        a_prev = f"A{l-1}"
        self.A_prev_norm = a_prev if l > 1 else "X"  # A0 is X, whose norm bound is known
        self.F1_in_nob = (a_prev, self.W)
        self.F1_in = self.F1_in_nob + (self.b,)
        self.F2_in = (self.Z,)
        self.loss_in = (self.A, "Y")
        self.B1_in = (self.A, "Y", self.Z)
        self.B2_in = (a_prev, self.Delta)
        self.B3_in = (self.Delta,)
        self.B4_in = (self.Delta, self.W)
        self.B5_in = (self.dA_prev, f"Z{l-1}")
        self.U1_in_nob = (self.W, self.dW)
        self.U1_in = self.U1_in_nob + (self.b, self.db)


@dataclass(frozen=True)
class TrainerState:
    """Where a run is: enough to resume it with identical numbers.

    `losses` and `epoch_losses` are the history up to this point (a Series, which may be
    folded, or any sequence of floats), or None for "the trainer's own history": a Run going
    back along its timeline, which the trainer keeps whole (see Trainer.restore)."""
    params: Params  # the parameters the current step starts from
    steps_done: int
    epoch: int
    batch: int
    losses: Series | Sequence[float] | None
    epoch_losses: Series | Sequence[float] | None
    stage_index: int  # stages of the current step already run (0: at a step boundary)


class Trainer:
    def __init__(self, cfg: NetConfig, data: ArraySet, params: Params | None = None):
        cfg.validate(data.n_samples, data.n_features, data.n_outputs)
        self.cfg = cfg
        self.data = data
        self.dtype = np.dtype(cfg.dtype)
        self.pair = get_output_loss(cfg.output_loss)
        self.hidden = get_activation(cfg.hidden, cfg.leaky_slope)
        self.batch_size = cfg.batch_for(data.n_samples)
        self.n_batches = -(-data.n_samples // self.batch_size)
        if params is None:
            params = init_params(cfg)
        self.initial_params: Params = tuple(
            (freeze(np.array(w, dtype=self.dtype)), None if b is None else freeze(np.array(b, dtype=self.dtype)))
            for w, b in params)
        # an output whose norm is proven below this cannot hold an inf; the margin covers rounding
        self._safe = float(np.finfo(self.dtype).max) * 1e-3
        self._x_max = data.max_abs()
        self._y_max = data.target_max_abs()
        # how each activation's output norm is bounded from a finite Z: by ‖Z‖ (|g(z)| <= |z|),
        # by sqrt(m) (softmax rows have unit sum) or by sqrt(size) (|g| <= 1)
        self._hidden_act = _act_kind(cfg.hidden)
        self._out_act = _act_kind(self.pair.output)
        # batch length -> (plan, r in the dtype, r, r sqrt(m)), without hashing cfg each step
        self._per_m: dict[int, tuple[tuple[StageSpec, ...], np.floating, float, float]] = {}
        self._lr = self.dtype.type(cfg.lr)
        self._lr_f = float(self._lr)
        self._names = [None] + [_LayerNames(l) for l in range(1, cfg.n_layers + 1)]
        data.prepare(self.dtype)  # the whole set in this dtype once, when it fits the budget
        self.reset()

    def _x_norm_bound(self, m: int) -> float:
        return math.sqrt(m * self.data.n_features) * self._x_max

    def _y_norm_bound(self, m: int) -> float:
        return math.sqrt(m * self.data.n_outputs) * self._y_max

    # -- state -------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial weights; the same seed gives the same run again."""
        self.params: Params = self.initial_params
        self._param_norms = _norms(self.params, self._names)
        self.steps_done = 0
        self.epoch = 0
        self.batch = 0
        self._history(Series(), Series())
        self.last: StageResult | None = None
        self.diverged: DivergenceError | None = None
        self._overrides: dict[int, np.ndarray] = {}  # data-set row -> edited input
        self.on_stage: Callable[[StageResult], None] | None = None  # sees every stage (the window's history)
        self._gen = self._stages()

    def _history(self, losses: Series, epoch_losses: Series) -> None:
        """Take these as the loss history. `losses` holds one loss per completed step (computed
        before its update), `epoch_losses` the mean step loss per completed epoch: with one
        batch an epoch that is the step's loss, so both are one Series. A Series owner's
        bound (`limit`) carries over; the epoch mean needs the epoch's own losses, so a fold
        leaves the newest n_batches exact."""
        old = getattr(self, "losses", None)
        if self.n_batches == 1:
            epoch_losses = losses
        for new, was in ((losses, old), (epoch_losses, getattr(self, "epoch_losses", None))):
            if was is not None and new is not was:
                new.limit = was.limit
        losses.keep = self.n_batches
        self.losses, self.epoch_losses = losses, epoch_losses

    # -- going back, and editing ---------------------------------------------------------
    def _stage_index(self) -> int:
        inside = self.last is not None and not self.last.step_end and self.last.step == self.steps_done
        return self.last.index + 1 if inside else 0

    def state(self) -> TrainerState:
        return TrainerState(self.params, self.steps_done, self.epoch, self.batch, self.losses.upto(self.steps_done),
                            self.epoch_losses.upto(self.epoch), self._stage_index())

    def restore(self, st: TrainerState) -> StageResult | None:
        """Continue from `st`: the step in progress is recomputed up to the same stage,
        so the numbers are those of the run that produced `st`. A state without a history
        (None) keeps the trainer's own: its steps after `st` stay there, and steps it
        replays are not recorded again (the numbers are the same), so a Run can go back and
        forth along one timeline."""
        losses = self.losses if st.losses is None else Series.of(st.losses)
        if losses.steps < st.steps_done or (st.losses is not None and losses.steps != st.steps_done):
            raise ValueError(f"a history of {losses.steps} steps cannot resume at step {st.steps_done}")
        self.params = tuple(st.params)
        self._param_norms = _norms(self.params, self._names)
        self.steps_done, self.epoch, self.batch = st.steps_done, st.epoch, st.batch
        if st.losses is not None:
            self._history(losses, Series.of(st.epoch_losses))
        self.diverged = None
        self.last = None
        self._gen = self._stages()
        observer, self.on_stage = self.on_stage, None  # recomputing is not new history
        try:
            for _ in range(st.stage_index):
                self.next_stage()
        finally:
            self.on_stage = observer
        return self.last

    def rewind_to(self, r: StageResult) -> StageResult:
        """Go back to the moment right after the past stage `r` of this run."""
        base = r.info.base
        params = tuple((base[f"W{l}"], base.get(f"b{l}")) for l in range(1, self.cfg.n_layers + 1))
        self.restore(TrainerState(params, r.step, r.epoch, r.batch, self.losses.upto(r.step),
                                  self.epoch_losses.upto(r.epoch), r.index + 1))
        return self.last

    def set_param(self, name: str, index: tuple, value: float) -> StageResult | None:
        """Edit one weight or bias (W{l} or b{l}) of the parameters the current step
        starts from; the step is recomputed up to the stage it had reached."""
        l = int(name[1:])
        w, b = self.params[l - 1]
        target = w if name[0] == "W" else b
        if target is None or l < 1 or l > self.cfg.n_layers:
            raise KeyError(f"no parameter {name}")
        new = np.array(target)  # a fresh array: results already shown keep the old one
        new[index] = value
        freeze(new)
        params = list(self.params)
        params[l - 1] = (new, b) if name[0] == "W" else (w, new)
        return self.restore(TrainerState(tuple(params), self.steps_done, self.epoch, self.batch, None, None,
                                         self._stage_index()))

    def set_input(self, row: int, values: np.ndarray) -> StageResult | None:
        """Replace the input of data-set sample `row` for the rest of this run; the
        current step is recomputed when the sample is in it."""
        values = np.asarray(values, dtype=self.dtype).reshape(self.data.n_features)
        if not np.isfinite(values).all():
            raise ValueError("an input must be finite")
        self._overrides[int(row)] = freeze(values.copy())
        self._x_max = max(self._x_max, float(np.abs(values).max(initial=0.0)))  # keeps the norm bounds sound
        return self.restore(TrainerState(self.params, self.steps_done, self.epoch, self.batch, None, None,
                                         self._stage_index()))

    @property
    def plan(self) -> tuple[StageSpec, ...]:
        """The plan of the step in progress (or of the next one)."""
        return step_plan(self.cfg, self._batch_len(self.batch))

    def _batch_len(self, b: int) -> int:
        return min(self.batch_size, self.data.n_samples - b * self.batch_size)

    def _order(self, epoch: int) -> np.ndarray:
        n = self.data.n_samples
        if self.cfg.shuffle and self.batch_size < n:
            return np.random.default_rng([self.cfg.seed, epoch]).permutation(n)
        return np.arange(n)

    # -- advancing ---------------------------------------------------------------
    def next_stage(self) -> StageResult:
        """Run one equation. After a divergence it raises the same error again."""
        with _quiet():
            return self._next()

    def _next(self) -> StageResult:
        if self.diverged is not None:
            raise self.diverged
        try:
            r = next(self._gen)
        except DivergenceError as e:
            self.diverged = e
            raise
        self.last = r
        if self.on_stage is not None:
            self.on_stage(r)
        return r

    def run_until(self, done: Callable[[StageResult], bool], limit: int | None = None) -> StageResult:
        with _quiet():
            r = self._next()
            n = 1
            while not done(r) and (limit is None or n < limit):
                r = self._next()
                n += 1
        return r

    def next_sample(self) -> StageResult:
        """Per-sample mode: up to the next sample's contribution to a gradient."""
        return self.run_until(lambda r: r.spec.sample is not None or r.step_end)

    def finish_pass(self) -> StageResult:
        """To the end of the backward pass of the step in progress (of the next step,
        when the backward pass is already done)."""
        # the U1 stages, one per layer, close the plan
        return self.run_until(lambda r: r.index == r.n_stages - self.cfg.n_layers - 1)

    def finish_step(self) -> StageResult:
        if self.on_stage is not None or self.diverged is not None:
            with _quiet():
                r = self._next()
                while not r.step_end:
                    r = self._next()
            return r
        # the hot loop of full-speed training: what _next does, without a call per stage
        gen, r = self._gen, None
        with _quiet():
            try:
                r = next(gen)
                # the step's first stage is done, so the last result can change now: the
                # previous step's arrays are freed while this one runs and their memory is
                # reused, which leaves fewer layer-sized arrays to cycle through the cache
                self.last = r
                for r in islice(gen, r.info.n_stages - r.index - 1):  # to the step's end, in C
                    pass
            except DivergenceError as e:
                self.diverged = e
                raise
            finally:
                if r is not None:
                    self.last = r
        return r

    def finish_epoch(self) -> StageResult:
        return self.run_until(lambda r: r.epoch_end)

    def run_steps(self, n: int, on_step: Callable[[StageResult], None] | None = None) -> StageResult | None:
        r = None
        for _ in range(n):
            r = None  # not kept while the next step runs (see finish_step)
            r = self.finish_step()
            if on_step is not None:
                on_step(r)
        return r

    # -- the step, one equation at a time -------------------------------------------
    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The batch the next step reads, edited inputs included: (data-set rows (m,),
        X (m, n0), Y (m, nL)), read-only. Shown before the first step, so that the first
        equation's operands are there to read before it is computed."""
        idx = freeze(self._order(self.epoch)[self.batch * self.batch_size:(self.batch + 1) * self.batch_size])  # (m,)
        x, y = self._batch(idx)
        return idx, freeze(x), freeze(y)

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """X (m, n0) and Y (m, nL) of the data-set rows `idx`, with the inputs the user edited."""
        x, y = self.data.rows(idx, self.dtype)  # (m, n0), (m, nL); maybe the data set's own read-only copy
        edited = np.flatnonzero(np.isin(idx, list(self._overrides))) if self._overrides else ()
        if len(edited):
            x = x.copy()  # never write into the data set's copy
            for pos_in_batch in edited:
                x[pos_in_batch] = self._overrides[int(idx[pos_in_batch])]
        return x, y

    def _stages(self) -> Iterator[StageResult]:
        order_epoch, order = None, None
        while True:
            if order_epoch != self.epoch:
                order, order_epoch = self._order(self.epoch), self.epoch
            idx = order[self.batch * self.batch_size:(self.batch + 1) * self.batch_size]  # (m,)
            yield from self._step(freeze(idx))

    def _end_step(self, new_params: Params, loss: float, norms: dict[str, float]) -> None:
        """Commit a finished step: counters move on before its last result is seen, so
        the trainer's state always describes what comes next."""
        self.params = new_params
        self._param_norms = norms
        if self.steps_done == self.losses.steps:  # a new step; one replayed is in the history already
            self.losses.append(loss)
        self.steps_done += 1
        self.batch += 1
        if self.batch == self.n_batches:
            if self.epoch == self.epoch_losses.steps and self.epoch_losses is not self.losses:
                self.epoch_losses.append(float(np.mean(self.losses[-self.n_batches:])))  # the epoch's, never folded
            self.epoch += 1
            self.batch = 0

    def _step(self, idx: np.ndarray) -> Iterator[StageResult]:
        cfg, L = self.cfg, self.cfg.n_layers
        x, y = self._batch(idx)  # (m, n0), (m, nL)
        m = len(idx)
        per_m = self._per_m.get(m)
        if per_m is None:
            r = self.dtype.type(reduction(cfg, m))
            per_m = self._per_m[m] = (step_plan(cfg, m), r, float(r), float(r) * math.sqrt(m))
        plan, r, r_f, r_sqrt_m = per_m
        lr, lr_f = self._lr, self._lr_f
        names = self._names
        safe = self._safe
        known: dict[str, np.ndarray] = {"X": freeze(x), "A0": x, "Y": freeze(y)}
        for l, (w, b) in enumerate(self.params, 1):
            known[names[l].W] = w
            if b is not None:
                known[names[l].b] = b
        info = StepInfo(self.steps_done, self.epoch, self.batch, self.n_batches, len(plan), idx, known)
        pos = 0
        loss = None
        prev = None

        dot, sqrt, inf = np.dot, math.sqrt, math.inf
        # Frobenius norms, or proven upper bounds
        norms = {"X": self._x_norm_bound(m), "Y": self._y_norm_bound(m), **self._param_norms}

        def check(name: str, a: np.ndarray, bound: float | None) -> None:
            """Freeze `a` and record its norm: `bound` when that proven bound is below
            overflow (then `a` is finite without being scanned), else its own."""
            a.setflags(write=False)
            if bound is not None and bound < safe:
                norms[name] = bound
                return
            flat = a.reshape(-1)
            ss = float(dot(flat, flat))  # one BLAS dot: finite means every entry is
            if ss < inf:  # not inf, not NaN
                norms[name] = sqrt(ss)
                return
            norm = _norm_or_fault(a)
            if isinstance(norm, tuple):
                raise DivergenceError(plan[pos], self.steps_done, self.epoch, self.batch, name, norm)
            norms[name] = norm

        def emit(name: str, a: np.ndarray, inputs: tuple[str, ...], bound: float | None = None) -> StageResult:
            """Check the stage's output `a`, then describe the stage."""
            nonlocal pos, prev
            check(name, a, bound)
            prev = StageResult(plan[pos], pos, info, {name: a}, inputs, prev, loss)
            pos += 1
            return prev

        # forward: F1, F2 per layer
        a_prev = x
        zs, as_ = [None], [x]
        for l, (w, b) in enumerate(self.params, 1):
            n = names[l]
            z = a_prev @ w  # (m, n_l)
            if b is not None:
                z += b
            yield emit(n.Z, z, n.F1_in if b is not None else n.F1_in_nob)
            act = self.pair.activate if l == L else self.hidden.f
            a = act(z)  # (m, n_l)
            if a is z:  # identity must not alias Z's array under another name
                a = z.copy()
            # a finite Z gives a finite A, whose norm these bounds prove without a scan
            kind = self._out_act if l == L else self._hidden_act
            a_bound = norms[n.Z] if kind == "contracting" else sqrt(m if kind == "softmax" else a.size)
            yield emit(n.A, a, n.F2_in, a_bound)
            zs.append(z)
            as_.append(a)
            a_prev = a

        # the loss, then the output delta B1
        n = names[L]
        loss_value = self.pair.loss(zs[L], as_[L], y, r_f)
        loss = loss_value
        yield emit("loss", np.array(loss_value), n.loss_in, abs(loss_value))  # float64; NaN: scanned
        delta = self.pair.delta(zs[L], as_[L], y)  # (m, n_L)
        yield emit(n.Delta, delta, n.B1_in, _times(self.pair.delta_gain, _plus(norms[n.A], norms["Y"])))

        # backward: B2, B3, B4, B5 from the last layer down
        grads: list = [None] * (L + 1)
        for l in range(L, 0, -1):
            n = names[l]
            w, b = self.params[l - 1]
            a_in = as_[l - 1]  # (m, n_{l-1})
            # |r Aᵀ Δ| <= r ‖A‖ ‖Δ‖ (Cauchy-Schwarz), for every partial sum too
            dw_bound = _times(r_f, norms[n.A_prev_norm], norms[n.Delta])
            if cfg.per_sample:
                dw = np.zeros_like(w)
                for s in range(m):
                    dw = dw + r * np.outer(a_in[s], delta[s])  # (n_{l-1}, n_l), running sum
                    yield emit(n.dW, dw, n.B2_in, dw_bound)
            else:
                dw = a_in.T @ delta  # (n_{l-1}, n_l)
                dw *= r  # in place: no second array of the layer's size
                yield emit(n.dW, dw, n.B2_in, dw_bound)
            db = None
            if b is not None:
                # ‖r Σ_i Δ_i‖ <= r sqrt(m) ‖Δ‖ (Cauchy-Schwarz), for every partial sum too
                db_bound = _times(r_sqrt_m, norms[n.Delta])
                if cfg.per_sample:
                    db = np.zeros_like(b)
                    for s in range(m):
                        db = db + r * delta[s]  # (n_l,), running sum
                        yield emit(n.db, db, n.B3_in, db_bound)
                else:
                    db = delta.sum(axis=0)  # (n_l,)
                    db *= r
                    yield emit(n.db, db, n.B3_in, db_bound)
            grads[l] = (dw, db)
            if l > 1:
                da = delta @ w.T  # (m, n_{l-1})
                # ‖Δ Wᵀ‖ <= ‖Δ‖ ‖W‖; every hidden g' lies in [0, 1], so ‖dA ⊙ g'‖ <= ‖dA‖
                yield emit(n.dA_prev, da, n.B4_in, _times(norms[n.Delta], norms[n.W]))
                delta = da * self.hidden.grad(zs[l - 1], as_[l - 1])  # (m, n_{l-1})
                yield emit(names[l - 1].Delta, delta, n.B5_in, norms[n.dA_prev])

        # update: new arrays, so every earlier result keeps the weights it showed
        new_params, new_norms = [], {}
        for l, (w, b) in enumerate(self.params, 1):
            n = names[l]
            dw, db = grads[l]
            w_new = dw * lr  # (n_{l-1}, n_l), then W - α dW in place: one allocation, not two
            np.subtract(w, w_new, out=w_new)
            # ‖W − α dW‖ <= ‖W‖ + α ‖dW‖
            check(n.W_after, w_new, _plus(norms[n.W], _times(lr_f, norms[n.dW])))
            outs = {n.W_after: w_new}
            b_new = None
            if b is not None:
                b_new = db * lr  # (n_l,)
                np.subtract(b, b_new, out=b_new)
                check(n.b_after, b_new, _plus(norms[n.b], _times(lr_f, norms[n.db])))
                new_norms[n.b] = norms[n.b_after]
                outs[n.b_after] = b_new
            new_params.append((w_new, b_new))
            res = prev = StageResult(plan[pos], pos, info, outs, n.U1_in if b is not None else n.U1_in_nob, prev, loss)
            pos += 1
            new_norms[n.W] = norms[n.W_after]
            if l == L:  # the step is complete once the last layer is updated
                self._end_step(tuple(new_params), loss_value, new_norms)
            yield res
