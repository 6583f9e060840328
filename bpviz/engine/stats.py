"""Per-layer health figures of one training step, computed where the numbers are
(the worker), so that panels only draw them."""
from __future__ import annotations

from typing import Mapping

import numpy as np

SATURATION = 0.01  # a sigmoid/tanh unit whose derivative is below this counts as saturated


def layer_stats(arrays: Mapping[str, np.ndarray], n_layers: int, hidden: str, lr: float) -> dict[int, dict[str, float]]:
    """For each layer whose gradient is known: RMS of dL/dW per parameter, the
    update-to-weight ratio ‖α dW‖/‖W‖, and the share of dead (ReLU: never positive in
    the batch) or saturated (sigmoid/tanh: g' < 0.01 on average) hidden units."""
    out: dict[int, dict[str, float]] = {}
    for l in range(1, n_layers + 1):
        s: dict[str, float] = {}
        dw = arrays.get(f"dW{l}")
        w = arrays.get(f"W{l}")
        if dw is not None and w is not None:
            s["grad_rms"] = float(np.sqrt(np.mean(np.square(dw, dtype=np.float64))))
            wn = float(np.linalg.norm(w))
            s["update_ratio"] = float(lr * np.linalg.norm(dw) / wn) if wn > 0 else float("inf")
        z = arrays.get(f"Z{l}")
        a = arrays.get(f"A{l}")
        if l < n_layers and z is not None:
            if hidden in ("relu", "leaky_relu"):
                s["inactive_share"] = float(np.mean(np.all(z <= 0, axis=0)))
            elif hidden in ("sigmoid", "tanh") and a is not None:
                g = a * (1 - a) * 4 if hidden == "sigmoid" else 1 - a * a  # g' scaled to max 1
                s["inactive_share"] = float(np.mean(np.mean(g, axis=0) < SATURATION))
        if s:
            out[l] = s
    return out
