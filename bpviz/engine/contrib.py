"""Each sample's part in the current batch: its loss and its share of each layer's
gradient. Computed from a stage result once the backward pass has reached a layer."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .config import NetConfig
from .losses import get_output_loss


def per_sample_losses(arrays: Mapping[str, np.ndarray], cfg: NetConfig) -> np.ndarray | None:
    """(m,) loss of each sample, unreduced (the batch loss is r times their sum)."""
    L = cfg.n_layers
    if f"A{L}" not in arrays:
        return None
    pair = get_output_loss(cfg.output_loss)
    z, a, y = (np.asarray(arrays[n], np.float64) for n in (f"Z{L}", f"A{L}", "Y"))
    return np.array([pair.loss(z[s:s + 1], a[s:s + 1], y[s:s + 1], 1.0) for s in range(len(a))])


def gradient_shares(arrays: Mapping[str, np.ndarray], cfg: NetConfig) -> dict[int, np.ndarray]:
    """{layer: (m,) share of each sample in dL/dW(l)}: the projection of the sample's
    term r·a_s δ_sᵀ on the batch gradient, divided by ‖dW‖², so the shares sum to 1
    and a negative share pulls against the batch."""
    m = len(arrays["X"])
    r = 1.0 / m if cfg.reduction == "mean" else 1.0
    out = {}
    for l in range(1, cfg.n_layers + 1):
        dw = arrays.get(f"dW{l}")
        delta = arrays.get(f"Delta{l}")
        if dw is None or delta is None or dw.shape != arrays[f"W{l}"].shape:
            continue
        a_in = np.asarray(arrays[f"A{l - 1}"], np.float64)  # (m, n_{l-1})
        dw64 = np.asarray(dw, np.float64)
        norm2 = float(np.sum(dw64 * dw64))
        if norm2 == 0:
            out[l] = np.zeros(m)
            continue
        # <r a_s δ_sᵀ, dW> = r a_sᵀ dW δ_s, for every s at once
        out[l] = r * np.sum((a_in @ dw64) * np.asarray(delta, np.float64), axis=1) / norm2  # (m,)
    return out
