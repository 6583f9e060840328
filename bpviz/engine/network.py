"""Parameters and the plain forward pass of a dense network (row-batch convention).

The trainer computes the training step stage by stage; these functions serve what is
not a training step: initialisation, evaluation, and the loss as a function of any
intermediate quantity, which the finite-difference checks differentiate.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .budget import accuracy_chunk, memory_limit
from .config import NetConfig
from .losses import get_output_loss

# Params: one (W, b) per layer; W is (n_{l-1}, n_l), b is (n_l,) or None without biases.
Params = tuple[tuple[np.ndarray, "np.ndarray | None"], ...]


def freeze(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def init_params(cfg: NetConfig) -> Params:
    """Seeded initial weights. The uniform inits draw W then b, layer by layer, from
    NumPy's legacy generator, so `uniform01` with seed 1 equals seed 001's
    np.random.seed(1); np.random.random((3,4)); np.random.random((4,1))."""
    dtype = np.dtype(cfg.dtype)
    out = []
    if cfg.init in ("uniform01", "uniform-half"):
        rs = np.random.RandomState(cfg.seed)
        shift = 0.5 if cfg.init == "uniform-half" else 0.0
        for n_in, n_out in zip(cfg.sizes[:-1], cfg.sizes[1:]):
            w = rs.random_sample((n_in, n_out)) - shift  # (n_in, n_out)
            b = rs.random_sample(n_out) - shift if cfg.bias else None  # (n_out,)
            out.append((w, b))
    else:
        rng = np.random.default_rng(cfg.seed)
        for n_in, n_out in zip(cfg.sizes[:-1], cfg.sizes[1:]):
            if cfg.init == "he":
                w = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out))
            else:  # xavier/Glorot uniform
                lim = np.sqrt(6.0 / (n_in + n_out))
                w = rng.uniform(-lim, lim, (n_in, n_out))
            out.append((w, np.zeros(n_out) if cfg.bias else None))
    return tuple((freeze(w.astype(dtype)), None if b is None else freeze(b.astype(dtype))) for w, b in out)


def layer_activation(cfg: NetConfig, layer: int):
    """The activation g_l of layer `layer` (1-based): hidden ones share cfg.hidden."""
    if layer == cfg.n_layers:
        pair = get_output_loss(cfg.output_loss)
        return pair.activate
    return get_activation(cfg.hidden, cfg.leaky_slope).f


def forward(params: Params, x: np.ndarray, cfg: NetConfig, start: int = 1,
            z_start: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Z(l), A(l) for l = start..L. With `z_start`, layer `start` uses it as Z instead of
    computing it from x (then x is ignored)."""
    zs, as_ = [], []
    a = x
    for l in range(start, cfg.n_layers + 1):
        w, b = params[l - 1]
        if l == start and z_start is not None:
            z = z_start
        else:
            z = a @ w  # (m, n_l)
            if b is not None:
                z = z + b
        a = layer_activation(cfg, l)(z)  # (m, n_l)
        zs.append(z)
        as_.append(a)
    return zs, as_


def reduction(cfg: NetConfig, m: int) -> float:
    return 1.0 / m if cfg.reduction == "mean" else 1.0


def loss_from(params: Params, x: np.ndarray, y: np.ndarray, cfg: NetConfig, *,
              layer: int = 1, z: np.ndarray | None = None, a_prev: np.ndarray | None = None) -> float:
    """The batch loss, computed from the input x, or from Z(layer) given as `z`, or from
    A(layer-1) given as `a_prev`: the functions whose finite differences check B1-B5."""
    pair = get_output_loss(cfg.output_loss)
    if z is not None:
        zs, as_ = forward(params, None, cfg, start=layer, z_start=z)
    else:
        zs, as_ = forward(params, a_prev if a_prev is not None else x, cfg, start=layer)
    return pair.loss(zs[-1], as_[-1], y, reduction(cfg, len(y)))


def predict(params: Params, x: np.ndarray, cfg: NetConfig) -> np.ndarray:
    return forward(params, x, cfg)[1][-1]


# a chunk's arrays stay within this: with 64 MiB, measuring the test accuracy at each epoch's end
# pushed the training's arrays out of the caches, and Play's epoch took 5-8% longer (784-128-10)
ACCURACY_CHUNK_BYTES = 16 * 2**20


def accuracy(params: Params, cfg: NetConfig, data_set, dtype=None, max_bytes: int | None = None) -> float | None:
    """The share of `data_set`'s samples whose largest output is their class, or None when
    the set has no classes. Rows go through in chunks sized so one chunk's arrays stay
    within `max_bytes` (default: the memory budget's limit) and 16 MiB. A diverged network's NaN
    outputs count as wrong."""
    labels = data_set.class_labels()
    if labels is None or data_set.n_samples == 0:
        return None
    dtype = np.dtype(dtype if dtype is not None else cfg.dtype)
    max_bytes = min(memory_limit()[0] if max_bytes is None else max_bytes, ACCURACY_CHUNK_BYTES)
    chunk = accuracy_chunk(cfg.with_(dtype=dtype.name), data_set.n_samples, max_bytes)
    correct = 0
    for start in range(0, data_set.n_samples, chunk):
        idx = np.arange(start, min(start + chunk, data_set.n_samples))
        x, _ = data_set.batch(idx, dtype)  # (chunk, n0)
        with np.errstate(all="ignore"):
            out = predict(params, x, cfg)  # (chunk, nL)
        correct += int(np.sum(np.argmax(out, axis=1) == labels[idx]))
    return correct / data_set.n_samples
