"""What a network with two inputs does over the whole input plane: its output and each
hidden unit's activation on a grid, for the decision-boundary view. Computed where the
numbers are (the run model), so the panel only draws it."""
from __future__ import annotations

import numpy as np

from .config import NetConfig
from .network import Params, forward, freeze

GRID = 64  # points per side: 4,096 forward passes, a fraction of a millisecond for a small net
MARGIN = 0.1  # the plane reaches this share of the data's range beyond it on every side


def plane_extent(x: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around the samples `x` (n, 2), with a margin."""
    lo, hi = np.min(x, axis=0).astype(float), np.max(x, axis=0).astype(float)  # (2,), (2,)
    pad = np.maximum((hi - lo) * MARGIN, 1e-3)  # (2,)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def grid_points(extent, grid: int = GRID) -> np.ndarray:
    """The grid's points, row by row from the bottom (y0) up: (grid*grid, 2)."""
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)  # (grid,), (grid,)
    gx, gy = np.meshgrid(xs, ys)  # (grid, grid) each, row i at y = ys[i]
    return np.column_stack([gx.ravel(), gy.ravel()])  # (grid*grid, 2)


def decision_maps(params: Params, cfg: NetConfig, extent, points: np.ndarray, labels: np.ndarray | None,
                  grid: int = GRID) -> dict:
    """The network over the plane `extent`:

    output   (grid, grid) what the colour shows: the probability of class 1 for two classes,
             the single output for one, else the index of the winning class
    kind     "probability", "value" or "class"
    units    {layer: (grid, grid, n_l)} each hidden unit's activation
    points, labels   the samples to draw on top, (n, 2) and (n,) (labels may be None)
    extent   (x0, x1, y0, y1)
    """
    pts = grid_points(extent, grid).astype(cfg.dtype)  # (grid*grid, 2)
    with np.errstate(all="ignore"):  # a diverged network draws NaN, not a warning
        _, acts = forward(params, pts, cfg)
    out = acts[-1]  # (grid*grid, nL)
    n_out = out.shape[1]
    if n_out == 1:
        kind, value = "value", out[:, 0]
    elif n_out == 2 and cfg.output_loss.startswith("softmax"):
        kind, value = "probability", out[:, 1]
    else:
        kind, value = "class", np.argmax(out, axis=1).astype(float)
    units = {l: freeze(a.reshape(grid, grid, -1).astype(np.float64)) for l, a in enumerate(acts[:-1], 1)}
    return {"output": freeze(value.reshape(grid, grid).astype(np.float64)), "kind": kind, "units": units,
            "points": freeze(np.array(points, dtype=np.float64)),
            "labels": None if labels is None else freeze(np.array(labels)), "extent": tuple(extent)}


def shown_params(arrays, n_layers: int) -> Params:
    """The weights a stage shows: after a layer's update (U1), the updated ones."""
    return tuple((arrays.get(f"W{l}_after", arrays[f"W{l}"]),
                  arrays.get(f"b{l}_after", arrays.get(f"b{l}"))) for l in range(1, n_layers + 1))
