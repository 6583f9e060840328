"""Central finite differences against the engine's analytic gradients.

Checks the parameter gradients (B2, B3) and the intermediate ones (B1 and B5 give
Delta = dL_i/dZ, B4 gives dL/dA), all in float64 whatever the run's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import NetConfig
from .dataset import ArraySet
from .losses import get_output_loss
from .network import Params, loss_from, reduction
from .trainer import Trainer

TOLERANCE = 1e-5  # a float64 check with eps 1e-5 lands near 1e-8 on exact gradients


@dataclass(frozen=True)
class Check:
    name: str  # the array checked: W1, b2, Delta2, dA1, ...
    eq: str  # the catalogue id of the equation that produced it
    max_rel_error: float
    n_checked: int
    analytic: np.ndarray  # (n_checked,) the checked entries
    numeric: np.ndarray  # (n_checked,)

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
    all_idx = list(np.ndindex(*shape))
    if max_entries is None or len(all_idx) <= max_entries:
        return all_idx
    pick = rng.choice(len(all_idx), size=max_entries, replace=False)
    return [all_idx[i] for i in sorted(pick)]


def _fd(f, base: np.ndarray, idx: tuple, eps: float) -> float:
    plus, minus = base.copy(), base.copy()
    plus[idx] += eps
    minus[idx] -= eps
    return (f(plus) - f(minus)) / (2 * eps)


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
    checks: list[Check] = []

    def record(name, eq, analytic_full, f, base):
        if names is not None and name not in names:
            return
        idx = list(entries[name]) if entries and name in entries else _entries(base.shape, max_entries, rng)
        num = np.array([_fd(f, base, i, eps) for i in idx])
        ana = np.array([analytic_full[i] for i in idx])
        checks.append(Check(name, eq, float(np.max(rel_errors(ana, num, loss_scale), initial=0.0)), len(idx), ana, num))

    for l in range(1, L + 1):
        w, b = p64[l - 1]

        def f_w(wp, l=l):
            p = list(p64)
            p[l - 1] = (wp, p64[l - 1][1])
            return loss_from(tuple(p), x, y, cfg64)
        record(f"W{l}", "B2", arrays[f"dW{l}"], f_w, w)
        if b is not None:
            def f_b(bp, l=l):
                p = list(p64)
                p[l - 1] = (p64[l - 1][0], bp)
                return loss_from(tuple(p), x, y, cfg64)
            record(f"b{l}", "B3", arrays[f"db{l}"], f_b, b)

    if intermediates:
        # per-sample Delta and dA times r are derivatives of the batch loss
        for l in range(L, 0, -1):
            eq = pair.delta_eq if l == L else "B5"
            record(f"Delta{l}", eq, r * arrays[f"Delta{l}"],
                   lambda zp, l=l: loss_from(p64, x, y, cfg64, layer=l, z=zp), np.array(arrays[f"Z{l}"]))
            if l > 1:
                record(f"dA{l-1}", "B4", r * arrays[f"dA{l-1}"],
                       lambda ap, l=l: loss_from(p64, x, y, cfg64, layer=l, a_prev=ap),
                       np.array(arrays[f"A{l-1}"]))
    return checks
