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
from typing import Callable, Iterator

import numpy as np

from .activations import get_activation
from .config import NetConfig
from .dataset import ArraySet
from .losses import get_output_loss
from .network import Params, freeze, init_params, reduction
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


def _times(*xs) -> float:
    out = 1.0
    for x in xs:
        if x is None:
            return math.inf
        out *= x
    return out


def _plus(a, b) -> float:
    return math.inf if a is None or b is None else a + b


@dataclass(frozen=True)
class TrainerState:
    """Where a run is: enough to resume it with identical numbers."""
    params: Params  # the parameters the current step starts from
    steps_done: int
    epoch: int
    batch: int
    losses: tuple[float, ...]
    epoch_losses: tuple[float, ...]
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
        self.reset()

    def _x_norm_bound(self, m: int) -> float:
        return math.sqrt(m * self.data.n_features) * self._x_max

    # -- state -------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial weights; the same seed gives the same run again."""
        self.params: Params = self.initial_params
        self._param_norms = [float(np.linalg.norm(w.astype(np.float64))) for w, _ in self.params]
        self.steps_done = 0
        self.epoch = 0
        self.batch = 0
        self.losses: list[float] = []  # one per completed step, computed before its update
        self.epoch_losses: list[float] = []  # mean step loss per completed epoch
        self.last: StageResult | None = None
        self.diverged: DivergenceError | None = None
        self._overrides: dict[int, np.ndarray] = {}  # data-set row -> edited input
        self.on_stage: Callable[[StageResult], None] | None = None  # sees every stage (the window's history)
        self._gen = self._stages()

    # -- going back, and editing ---------------------------------------------------------
    def state(self) -> TrainerState:
        inside = self.last is not None and not self.last.step_end and self.last.step == self.steps_done
        return TrainerState(self.params, self.steps_done, self.epoch, self.batch, tuple(self.losses),
                            tuple(self.epoch_losses), self.last.index + 1 if inside else 0)

    def restore(self, st: TrainerState) -> StageResult | None:
        """Continue from `st`: the step in progress is recomputed up to the same stage,
        so the numbers are those of the run that produced `st`."""
        self.params = tuple(st.params)
        self._param_norms = [float(np.linalg.norm(np.asarray(w, np.float64))) for w, _ in self.params]
        self.steps_done, self.epoch, self.batch = st.steps_done, st.epoch, st.batch
        self.losses, self.epoch_losses = list(st.losses), list(st.epoch_losses)
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
        self.restore(TrainerState(params, r.step, r.epoch, r.batch, tuple(self.losses[:r.step]),
                                  tuple(self.epoch_losses[:r.epoch]), r.index + 1))
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
        st = self.state()
        return self.restore(TrainerState(tuple(params), st.steps_done, st.epoch, st.batch, st.losses,
                                         st.epoch_losses, st.stage_index))

    def set_input(self, row: int, values: np.ndarray) -> StageResult | None:
        """Replace the input of data-set sample `row` for the rest of this run; the
        current step is recomputed when the sample is in it."""
        values = np.asarray(values, dtype=self.dtype).reshape(self.data.n_features)
        if not np.isfinite(values).all():
            raise ValueError("an input must be finite")
        self._overrides[int(row)] = freeze(values.copy())
        self._x_max = max(self._x_max, float(np.abs(values).max(initial=0.0)))  # keeps the norm bounds sound
        return self.restore(self.state())

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
        with _quiet():
            r = self._next()
            while not r.step_end:  # the hot loop of full-speed training: no callback per stage
                r = self._next()
        return r

    def finish_epoch(self) -> StageResult:
        return self.run_until(lambda r: r.epoch_end)

    def run_steps(self, n: int, on_step: Callable[[StageResult], None] | None = None) -> StageResult | None:
        r = None
        for _ in range(n):
            r = self.finish_step()
            if on_step is not None:
                on_step(r)
        return r

    # -- the step, one equation at a time -------------------------------------------
    def _stages(self) -> Iterator[StageResult]:
        order_epoch, order = None, None
        while True:
            if order_epoch != self.epoch:
                order, order_epoch = self._order(self.epoch), self.epoch
            idx = order[self.batch * self.batch_size:(self.batch + 1) * self.batch_size]  # (m,)
            yield from self._step(freeze(idx))

    def _end_step(self, new_params: Params, loss: float, norms: list[float]) -> None:
        """Commit a finished step: counters move on before its last result is seen, so
        the trainer's state always describes what comes next."""
        self.params = new_params
        self._param_norms = norms
        self.losses.append(loss)
        self.steps_done += 1
        self.batch += 1
        if self.batch == self.n_batches:
            self.epoch_losses.append(float(np.mean(self.losses[-self.n_batches:])))
            self.epoch += 1
            self.batch = 0

    def _step(self, idx: np.ndarray) -> Iterator[StageResult]:
        cfg, L = self.cfg, self.cfg.n_layers
        x, y = self.data.batch(idx, self.dtype)  # (m, n0), (m, nL)
        for pos_in_batch in np.flatnonzero(np.isin(idx, list(self._overrides))) if self._overrides else ():
            x[pos_in_batch] = self._overrides[int(idx[pos_in_batch])]
        m = len(idx)
        r = self.dtype.type(reduction(cfg, m))
        lr = self.dtype.type(cfg.lr)
        plan = step_plan(cfg, m)
        safe = self._safe
        known: dict[str, np.ndarray] = {"X": freeze(x), "A0": x, "Y": freeze(y)}
        for l, (w, b) in enumerate(self.params, 1):
            known[f"W{l}"] = w
            if b is not None:
                known[f"b{l}"] = b
        info = StepInfo(self.steps_done, self.epoch, self.batch, self.n_batches, len(plan), idx, known)
        pos = 0
        loss = None
        prev = None

        norms = {"X": self._x_norm_bound(m), "Y": None}  # Frobenius norms, or proven upper bounds
        for l, nb in enumerate(self._param_norms, 1):
            norms[f"W{l}"] = nb

        def emit(outputs: dict[str, np.ndarray], inputs: tuple[str, ...],
                 bounds: dict[str, float] | None = None) -> StageResult:
            """Freeze and check the outputs, then describe the stage. An output whose norm
            is bounded below overflow by `bounds` is finite without being scanned."""
            nonlocal pos, prev
            spec = plan[pos]
            for name, a in outputs.items():
                a.flags.writeable = False
                bound = bounds.get(name) if bounds else None
                if bound is not None and bound < safe:
                    norms[name] = bound
                else:
                    norm = _norm_or_fault(a)
                    if isinstance(norm, tuple):
                        raise DivergenceError(spec, self.steps_done, self.epoch, self.batch, name, norm)
                    norms[name] = norm
            prev = StageResult(spec, pos, info, outputs, inputs, prev, loss)
            pos += 1
            return prev

        # forward: F1, F2 per layer
        a_prev = x
        zs, as_ = [None], [x]
        for l, (w, b) in enumerate(self.params, 1):
            z = a_prev @ w  # (m, n_l)
            if b is not None:
                z += b
            yield emit({f"Z{l}": z}, (f"A{l-1}", f"W{l}") + ((f"b{l}",) if b is not None else ()))
            act = self.pair.activate if l == L else self.hidden.f
            a = act(z)  # (m, n_l)
            if a is z:  # identity must not alias Z's array under another name
                a = z.copy()
            yield emit({f"A{l}": a}, (f"Z{l}",))
            zs.append(z)
            as_.append(a)
            a_prev = a

        # the loss, then the output delta B1
        loss_value = self.pair.loss(zs[L], as_[L], y, float(r))
        loss = loss_value
        yield emit({"loss": np.asarray(loss_value, dtype=np.float64)}, (f"A{L}", "Y"))
        delta = self.pair.delta(zs[L], as_[L], y)  # (m, n_L)
        yield emit({f"Delta{L}": delta}, (f"A{L}", "Y", f"Z{L}"))

        # backward: B2, B3, B4, B5 from the last layer down
        grads: list = [None] * (L + 1)
        for l in range(L, 0, -1):
            w, b = self.params[l - 1]
            a_in = as_[l - 1]  # (m, n_{l-1})
            # |r Aᵀ Δ| <= r ‖A‖ ‖Δ‖ (Cauchy-Schwarz), for every partial sum too
            dw_bound = _times(float(r), norms[f"A{l-1}" if l > 1 else "X"], norms[f"Delta{l}"])
            if cfg.per_sample:
                dw = np.zeros_like(w)
                for s in range(m):
                    dw = dw + r * np.outer(a_in[s], delta[s])  # (n_{l-1}, n_l), running sum
                    yield emit({f"dW{l}": dw}, (f"A{l-1}", f"Delta{l}"), {f"dW{l}": dw_bound})
            else:
                dw = (a_in.T @ delta) * r  # (n_{l-1}, n_l)
                yield emit({f"dW{l}": dw}, (f"A{l-1}", f"Delta{l}"), {f"dW{l}": dw_bound})
            db = None
            if b is not None:
                if cfg.per_sample:
                    db = np.zeros_like(b)
                    for s in range(m):
                        db = db + r * delta[s]  # (n_l,), running sum
                        yield emit({f"db{l}": db}, (f"Delta{l}",))
                else:
                    db = delta.sum(axis=0) * r  # (n_l,)
                    yield emit({f"db{l}": db}, (f"Delta{l}",))
            grads[l] = (dw, db)
            if l > 1:
                da = delta @ w.T  # (m, n_{l-1})
                yield emit({f"dA{l-1}": da}, (f"Delta{l}", f"W{l}"))
                delta = da * self.hidden.grad(zs[l - 1], as_[l - 1])  # (m, n_{l-1})
                yield emit({f"Delta{l-1}": delta}, (f"dA{l-1}", f"Z{l-1}"))

        # update: new arrays, so every earlier result keeps the weights it showed
        new_params, new_norms = [], []
        for l, (w, b) in enumerate(self.params, 1):
            dw, db = grads[l]
            w_new = dw * lr  # (n_{l-1}, n_l), then W - α dW in place: one allocation, not two
            np.subtract(w, w_new, out=w_new)
            outs = {f"W{l}_after": w_new}
            # ‖W − α dW‖ <= ‖W‖ + α ‖dW‖
            w_bound = _plus(norms[f"W{l}"], _times(float(lr), norms[f"dW{l}"]))
            ins = (f"W{l}", f"dW{l}")
            b_new = None
            if b is not None:
                b_new = db * lr  # (n_l,)
                np.subtract(b, b_new, out=b_new)
                outs[f"b{l}_after"] = b_new
                ins += (f"b{l}", f"db{l}")
            new_params.append((w_new, b_new))
            res = emit(outs, ins, {f"W{l}_after": w_bound})
            new_norms.append(norms[f"W{l}_after"])
            if l == L:  # the step is complete once the last layer is updated
                self._end_step(tuple(new_params), loss_value, new_norms)
            yield res
