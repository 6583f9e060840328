"""Output activation + loss pairings: the loss stage and the output delta B1.

Delta(L) is the per-sample derivative dL_i/dZ(L); the batch reduction r (1/m or 1)
multiplies the loss and the parameter gradients, never Delta itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .activations import ACTIVATIONS, log_softmax, softmax


@dataclass(frozen=True)
class OutputLoss:
    key: str
    output: str  # output activation name
    loss_eq: str  # catalogue id of the loss stage
    delta_eq: str  # catalogue id of B1
    approximate: bool  # True when B1 is not the true gradient of the loss
    label: str
    activate: Callable[[np.ndarray], np.ndarray]
    loss: Callable[[np.ndarray, np.ndarray, np.ndarray, float], float]  # (Z, A, Y, r)
    delta: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (Z, A, Y)
    # c with ‖Delta‖ <= c (‖A‖ + ‖Y‖) (Frobenius): the trainer's finiteness proof for B1
    delta_gain: float


def _ce_loss(z, a, y, r):
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(-r * (y * np.log(a)).sum())
    if not math.isfinite(loss):
        # a probability underflowed to 0: log-softmax from Z stays finite
        loss = float(-r * np.sum(y * log_softmax(z)))
    return loss


def _mse_loss(z, a, y, r):
    e = a - y  # (m, k)
    return float(r * 0.5 * np.sum(e * e))


def _sigmoid_mse_delta(z, a, y):
    return (a - y) * (a * (1 - a))  # (m, k): (A - Y) ⊙ σ'(Z)


def _softmax_mse_delta(z, a, y):
    e = a - y  # (m, k)
    # the softmax Jacobian applied row by row: A ⊙ (E - <A, E>)
    return a * (e - np.sum(a * e, axis=1, keepdims=True))


OUTPUT_LOSSES: dict[str, OutputLoss] = {
    p.key: p for p in (
        OutputLoss("softmax-ce", "softmax", "L-CE", "B1-CE", False, "softmax + cross-entropy",
                   softmax, _ce_loss, lambda z, a, y: a - y, 1.0),
        # |σ(1 − σ)| <= 1/4
        OutputLoss("sigmoid-mse", "sigmoid", "L-MSE", "B1-MSE", False, "sigmoid + squared error",
                   ACTIVATIONS["sigmoid"].f, _mse_loss, _sigmoid_mse_delta, 0.25),
        OutputLoss("identity-mse", "identity", "L-MSE", "B1-MSE", False, "identity + squared error",
                   ACTIVATIONS["identity"].f, _mse_loss, lambda z, a, y: a - y, 1.0),
        # per row, with |a_i| <= 1 and ‖a‖ <= 1: ‖a ⊙ (e − <a, e>)‖ <= ‖e‖ + |<a, e>| ‖a‖ <= 2 ‖e‖
        OutputLoss("softmax-mse", "softmax", "L-MSE", "B1-SMSE", False, "softmax + squared error (exact)",
                   softmax, _mse_loss, _softmax_mse_delta, 2.0),
        OutputLoss("softmax-mse-approx", "softmax", "L-MSE", "B1-APX", True,
                   "softmax + squared error, approximate gradient A − Y (Neural Network with Hidden Layers)",
                   softmax, _mse_loss, lambda z, a, y: a - y, 1.0),
    )
}


def get_output_loss(key: str) -> OutputLoss:
    try:
        return OUTPUT_LOSSES[key]
    except KeyError:
        raise ValueError(f"unknown output/loss pairing {key!r} (choose from {', '.join(OUTPUT_LOSSES)})") from None
