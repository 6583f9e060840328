"""Element-wise activations g and their derivatives g'(z), as used by F2 and B5.

Each derivative takes both z and a = g(z) so it can use whichever is cheaper
(sigmoid' = a(1 - a), tanh' = 1 - a^2) without recomputing g.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    name: str
    latex: str  # symbol used in typeset equations
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]  # g'(z) from (z, a)
    grad_text: str  # how g' is computed, for the equation panel


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-z) -> inf gives the correct limit 0
        return 1.0 / (1.0 + np.exp(-z))


def _leaky(slope: float) -> tuple[Callable, Callable]:
    def f(z):
        return np.where(z > 0, z, z * z.dtype.type(slope))

    def grad(z, a):
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(slope))

    return f, grad


def _one(z, a):
    return np.ones_like(z)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", r"\sigma", _sigmoid, lambda z, a: a * (1 - a), "σ(z)(1 − σ(z))"),
    "relu": Activation("relu", r"\operatorname{ReLU}", lambda z: np.maximum(z, 0),
                       # ReLU'(0) = 0, as in seed 000 eq. 34
                       lambda z, a: z > 0, "1 if z > 0 else 0"),  # bool: multiplies without a float copy
    "tanh": Activation("tanh", r"\tanh", np.tanh, lambda z, a: 1 - a * a, "1 − tanh²(z)"),
    "identity": Activation("identity", r"\operatorname{id}", lambda z: z.copy(), _one, "1"),
}


def get_activation(name: str, leaky_slope: float = 0.01) -> Activation:
    if name == "leaky_relu":
        f, grad = _leaky(leaky_slope)
        return Activation("leaky_relu", r"\operatorname{LReLU}", f, grad, f"1 if z > 0 else {leaky_slope:g}")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r} (choose from {', '.join(HIDDEN_ACTIVATIONS)})") from None


HIDDEN_ACTIVATIONS = ("sigmoid", "relu", "tanh", "leaky_relu", "identity")


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row max keeps exp() from overflowing."""
    e = z - z.max(axis=1, keepdims=True)  # (m, k)
    np.exp(e, out=e)  # in place: one array, not three
    e /= e.sum(axis=1, keepdims=True)
    return e


def log_softmax(z: np.ndarray) -> np.ndarray:
    s = z - z.max(axis=1, keepdims=True)  # (m, k)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))
