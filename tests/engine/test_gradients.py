"""Every backward equation against central finite differences, named by equation id.

B2/B3 are checked as dL/dW and dL/db; B1 and B5 as r·Delta = dL/dZ; B4 as r·dA = dL/dA,
over every hidden activation, output/loss pairing, reduction, biases on and off, and
depths 1 to 4."""
from functools import lru_cache

import numpy as np
import pytest

from bpviz.engine.activations import HIDDEN_ACTIVATIONS
from bpviz.engine.config import NetConfig
from bpviz.engine.gradcheck import TOLERANCE, gradcheck
from bpviz.engine.losses import OUTPUT_LOSSES
from bpviz.engine.network import forward, init_params

EXACT = [k for k, p in OUTPUT_LOSSES.items() if not p.approximate]
DEPTH_SIZES = {1: (4, 3), 2: (4, 5, 3), 3: (4, 5, 4, 3), 4: (3, 4, 5, 4, 3)}


def _configs():
    for depth, sizes in DEPTH_SIZES.items():
        for hidden in HIDDEN_ACTIVATIONS:
            if depth == 1 and hidden != "sigmoid":
                continue  # a single layer has no hidden activation
            for pair in EXACT:
                for reduction in ("mean", "sum"):
                    for bias in (True, False):
                        yield NetConfig(sizes, hidden=hidden, output_loss=pair, bias=bias,
                                        reduction=reduction, init="xavier", seed=depth)


CONFIGS = list(_configs())


def _id(cfg):
    return f"d{cfg.n_layers}-{cfg.hidden}-{cfg.output_loss}-{cfg.reduction}-{'bias' if cfg.bias else 'nobias'}"


def _away_from_kinks(cfg, params, x) -> bool:
    """Finite differences are meaningless where a ReLU's input is exactly at its kink
    (it happens without biases, when all units of a sample die)."""
    if cfg.hidden not in ("relu", "leaky_relu"):
        return True
    zs, _ = forward(params, x, cfg)
    return all(np.min(np.abs(z)) > 1e-3 for z in zs[:-1])


@lru_cache(maxsize=None)
def checks_for(cfg: NetConfig):
    m = 5
    for attempt in range(100):
        rng = np.random.default_rng([attempt, cfg.n_layers])
        x = rng.normal(size=(m, cfg.sizes[0]))  # (m, n0)
        if cfg.output_loss.startswith("softmax"):
            y = np.eye(cfg.sizes[-1])[rng.integers(0, cfg.sizes[-1], m)]  # (m, k) one-hot
        else:
            y = rng.uniform(0.1, 0.9, size=(m, cfg.sizes[-1]))
        # larger weights than Xavier so the derivatives leave their linear regime
        params = tuple((w * 2, None if b is None else b + rng.normal(scale=0.5, size=b.shape))
                       for w, b in init_params(cfg.with_(seed=attempt)))
        if _away_from_kinks(cfg, params, x):
            return {c.name: c for c in gradcheck(cfg, x, y, params)}
    raise AssertionError(f"no kink-free draw for {_id(cfg)}")


def _assert_eq(cfg, eq_ids):
    checks = [c for c in checks_for(cfg).values() if c.eq in eq_ids]
    assert checks, f"no check for {eq_ids} in {_id(cfg)}"
    for c in checks:
        assert c.max_rel_error < TOLERANCE, f"{c.eq} ({c.name}) relative error {c.max_rel_error:.2e} in {_id(cfg)}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_B1_output_delta(cfg):
    _assert_eq(cfg, {OUTPUT_LOSSES[cfg.output_loss].delta_eq})


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_B2_weight_gradient(cfg):
    _assert_eq(cfg, {"B2"})


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c.bias], ids=_id)
def test_B3_bias_gradient(cfg):
    _assert_eq(cfg, {"B3"})


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c.n_layers > 1], ids=_id)
def test_B4_gradient_into_previous_layer(cfg):
    _assert_eq(cfg, {"B4"})


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c.n_layers > 1], ids=_id)
def test_B5_hidden_delta(cfg):
    _assert_eq(cfg, {"B5"})


def test_no_bias_checks_without_biases():
    cfg = next(c for c in CONFIGS if not c.bias and c.n_layers == 2)
    assert not any(name.startswith("b") for name in checks_for(cfg))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_B1_APX_is_not_the_gradient_of_its_loss(depth):
    """Seed 002's A − Y is an approximation: the check must say so, not pass."""
    cfg = NetConfig(DEPTH_SIZES[depth], hidden="relu", output_loss="softmax-mse-approx", init="xavier", seed=4)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, cfg.sizes[0]))
    y = np.eye(cfg.sizes[-1])[rng.integers(0, cfg.sizes[-1], 6)]
    checks = {c.name: c for c in gradcheck(cfg, x, y, init_params(cfg))}
    assert checks[f"Delta{cfg.n_layers}"].eq == "B1-APX"
    assert checks[f"Delta{cfg.n_layers}"].max_rel_error > 0.1
    assert checks["W1"].max_rel_error > 0.1


def test_B1_APX_differs_from_exact_softmax_mse_by_the_dropped_term():
    """The approximation drops A ⊙ (...) of eq. 14: on the same forward pass the two
    deltas differ, and the exact one matches finite differences."""
    from bpviz.engine.losses import get_output_loss
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 3))
    from bpviz.engine.activations import softmax
    a = softmax(z)
    y = np.eye(3)[[0, 1, 2, 0]]
    exact = get_output_loss("softmax-mse").delta(z, a, y)
    approx = get_output_loss("softmax-mse-approx").delta(z, a, y)
    np.testing.assert_allclose(approx, a - y)
    assert np.max(np.abs(exact - approx)) > 0.05


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The check is not vacuous: a derivative off by a factor fails it."""
    import bpviz.engine.activations as acts
    tanh = acts.ACTIVATIONS["tanh"]
    broken = acts.Activation("tanh", tanh.latex, tanh.f, lambda z, a: 1.1 * (1 - a * a), tanh.grad_text)
    monkeypatch.setitem(acts.ACTIVATIONS, "tanh", broken)
    cfg = NetConfig((3, 4, 2), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    y = np.eye(2)[[0, 1, 1, 0, 1]]
    checks = {c.name: c for c in gradcheck(cfg, x, y, init_params(cfg))}
    assert checks["W2"].ok  # the output layer does not use the hidden derivative
    assert not checks["Delta1"].ok and not checks["W1"].ok
