"""Central finite differences against the engine's analytic gradients.

Checks the parameter gradients (B2, B3) and the intermediate ones (B1 and B5 give
Delta = dL_i/dZ, B4 gives dL/dA), all in float64 whatever the run's dtype.

ReLU and leaky ReLU have a kink at z = 0, where the derivative jumps: an entry whose
difference interval moves some Z across 0 gets a slope in between from the finite
difference, whichever side the analytic gradient takes. Such entries are counted as
"at a kink, not checkable" and left out of the verdict, not failed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import NetConfig
from .dataset import ArraySet
from .losses import get_output_loss
from .network import Params, forward, reduction
from .trainer import Trainer

TOLERANCE = 1e-5  # a float64 check with eps 1e-5 lands near 1e-8 on exact gradients
KINKED = ("relu", "leaky_relu")  # hidden activations whose derivative jumps at z = 0


@dataclass(frozen=True)
class Check:
    name: str  # the array checked: W1, b2, Delta2, dA1, ...
    eq: str  # the catalogue id of the equation that produced it
    max_rel_error: float  # over the checkable entries
    n_checked: int  # entries compared (those at a kink are not)
    analytic: np.ndarray  # (n_checked,) the checked entries
    numeric: np.ndarray  # (n_checked,)
    n_kinks: int = 0  # entries whose difference interval straddles a kink: not checkable

    @property
    def ok(self) -> bool:
        return self.max_rel_error <= TOLERANCE


def rel_errors(analytic: np.ndarray, numeric: np.ndarray, loss_scale: float = 1.0) -> np.ndarray:
    """|a - n| relative to the larger of the two. The denominator is floored at 1e-3 of
    the array's largest entry and at 1e-4 of the loss's scale: a gradient that is zero
    (a dead unit) is then judged against the differences' rounding noise, which is
    about 1e-16·|L|/eps, not divided by it."""
    floor = max(1e-3 * float(np.max(np.abs(numeric), initial=0.0)), 1e-4 * max(1.0, abs(loss_scale)))
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)


def _entries(shape: tuple, max_entries: int | None, rng: np.random.Generator) -> list[tuple]:
    """Every index of `shape`, or `max_entries` of them drawn without replacement, in
    C order; never lists all indices of a large array to pick a few."""
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if max_entries is None or size <= max_entries:
        return list(np.ndindex(*shape))
    pick = np.sort(rng.choice(size, size=max_entries, replace=False))  # (max_entries,) flat
    return [tuple(int(i) for i in idx) for idx in zip(*np.unravel_index(pick, shape))]


def _straddles(base: list[np.ndarray], plus: list[np.ndarray], minus: list[np.ndarray]) -> bool:
    """True when some Z moved by the perturbation has 0 strictly inside [min, max] of its
    three values (the kink lies inside the difference interval)."""
    for zb, zp, zm in zip(base, plus, minus):
        lo = np.minimum(np.minimum(zp, zm), zb)
        hi = np.maximum(np.maximum(zp, zm), zb)
        if np.any((lo < 0) & (hi > 0) & (zp != zm)):
            return True
    return False


def _loss_and_z(params: Params, x, y, cfg: NetConfig, *, layer: int = 1, z=None, a_prev=None):
    """The batch loss as network.loss_from computes it, with Z(layer..L) of the same pass."""
    pair = get_output_loss(cfg.output_loss)
    zs, as_ = forward(params, x if a_prev is None else a_prev, cfg, start=layer, z_start=z)
    return pair.loss(zs[-1], as_[-1], y, reduction(cfg, len(y))), zs


def gradcheck(cfg: NetConfig, x: np.ndarray, y: np.ndarray, params: Params, *,
              max_entries: int | None = None, eps: float = 1e-5, seed: int = 0,
              intermediates: bool = True, names: set[str] | None = None,
              entries: dict[str, list[tuple]] | None = None) -> list[Check]:
    """Check one step on the batch (x, y) from `params`; `max_entries` samples that many
    entries per array (all when None). `names` limits the check to some arrays (e.g.
    {"W2", "b2"} for one layer); `entries` picks exact cells ({"W1": [(3, 5)]})."""
    cfg64 = cfg.with_(dtype="float64", batch_size=0, shuffle=False)
    x = np.asarray(x, dtype=np.float64)  # (m, n0)
    y = np.asarray(y, dtype=np.float64)  # (m, nL)
    p64 = tuple((np.array(w, dtype=np.float64), None if b is None else np.array(b, dtype=np.float64))
                for w, b in params)
    trainer = Trainer(cfg64, ArraySet(x, y), p64)
    arrays = trainer.finish_pass().arrays
    loss_scale = float(arrays["loss"])
    rng = np.random.default_rng(seed)
    r = reduction(cfg64, len(x))
    L = cfg.n_layers
    pair = get_output_loss(cfg.output_loss)
    kinked = cfg.hidden in KINKED
    checks: list[Check] = []

    def record(name, eq, analytic_full, f, base, layer):
        """f(perturbed base) -> (loss, [Z(layer), ..., Z(L)])."""
        if names is not None and name not in names:
            return
        idx = list(entries[name]) if entries and name in entries else _entries(base.shape, max_entries, rng)
        # the hidden layers' Z from `layer` on, before any perturbation
        z_base = [arrays[f"Z{k}"] for k in range(layer, L)] if kinked else []
        num, ana, n_kinks = [], [], 0
        for i in idx:
            plus, minus = base.copy(), base.copy()
            plus[i] += eps
            minus[i] -= eps
            loss_p, zs_p = f(plus)
            loss_m, zs_m = f(minus)
            if kinked and _straddles(z_base, zs_p[:L - layer], zs_m[:L - layer]):
                n_kinks += 1
                continue
            num.append((loss_p - loss_m) / (2 * eps))
            ana.append(analytic_full[i])
        num_a, ana_a = np.array(num, dtype=np.float64), np.array(ana, dtype=np.float64)
        err = float(np.max(rel_errors(ana_a, num_a, loss_scale), initial=0.0))
        checks.append(Check(name, eq, err, len(num), ana_a, num_a, n_kinks))

    for l in range(1, L + 1):
        w, b = p64[l - 1]

        def f_w(wp, l=l):
            p = list(p64)
            p[l - 1] = (wp, p64[l - 1][1])
            return _loss_and_z(tuple(p), x, y, cfg64, layer=l, a_prev=x if l == 1 else arrays[f"A{l-1}"])
        record(f"W{l}", "B2", arrays[f"dW{l}"], f_w, w, l)
        if b is not None:
            def f_b(bp, l=l):
                p = list(p64)
                p[l - 1] = (p64[l - 1][0], bp)
                return _loss_and_z(tuple(p), x, y, cfg64, layer=l, a_prev=x if l == 1 else arrays[f"A{l-1}"])
            record(f"b{l}", "B3", arrays[f"db{l}"], f_b, b, l)

    if intermediates:
        # per-sample Delta and dA times r are derivatives of the batch loss
        for l in range(L, 0, -1):
            eq = pair.delta_eq if l == L else "B5"
            record(f"Delta{l}", eq, r * arrays[f"Delta{l}"],
                   lambda zp, l=l: _loss_and_z(p64, x, y, cfg64, layer=l, z=zp), np.array(arrays[f"Z{l}"]), l)
            if l > 1:
                record(f"dA{l-1}", "B4", r * arrays[f"dA{l-1}"],
                       lambda ap, l=l: _loss_and_z(p64, x, y, cfg64, layer=l, a_prev=ap),
                       np.array(arrays[f"A{l-1}"]), l)
    return checks
