"""Numbers the sources publish (resources/equations.md, "Reference numbers the tests reproduce")."""
import numpy as np

from bpviz.data.toy import toy_set
from bpviz.engine.network import init_params, predict
from bpviz.engine.presets import get_preset
from bpviz.engine.trainer import Trainer


def test_toy_initial_weights_are_seed_001s_legacy_draws():
    cfg = get_preset("toy").config
    np.random.seed(1)
    w1 = np.random.random((3, 4))
    w2 = np.random.random((4, 1))
    (p1, b1), (p2, b2) = init_params(cfg)
    assert b1 is None and b2 is None
    np.testing.assert_array_equal(p1, w1)
    np.testing.assert_array_equal(p2, w2)


def test_toy_outputs_before_training_match_seed_001():
    cfg = get_preset("toy").config
    out = predict(init_params(cfg), toy_set().x, cfg).ravel()
    np.testing.assert_array_equal(np.round(out, 3), [0.758, 0.771, 0.791, 0.801])


def test_toy_outputs_at_the_last_of_1000_iterations_match_seed_001():
    """Seed 001 prints a2 of its last iteration (the forward pass before the 1000th update)."""
    t = Trainer(get_preset("toy").config, toy_set())
    t.run_steps(999)
    r = t.finish_pass()
    assert r.step == 999
    np.testing.assert_array_equal(np.round(r.arrays["A2"].ravel(), 3), [0.028, 0.925, 0.925, 0.090])
    t.finish_step()
    assert t.steps_done == 1000
    after = predict(t.params, np.array([[1.0, 0.0, 1.0]]), t.cfg)
    assert round(float(after[0, 0]), 3) == 0.925


def test_toy_matches_seed_001s_own_loop_bit_for_bit():
    """Seed 001's chapter-8 code, transcribed: the engine's weights equal it exactly."""
    np.random.seed(1)
    w1 = np.random.random((3, 4))
    w2 = np.random.random((4, 1))
    x = toy_set().x
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    sig = lambda v: 1 / (1 + np.exp(-v))
    for _ in range(50):
        a1 = sig(x @ w1)
        a2 = sig(a1 @ w2)
        d2 = (a2 - y) * (a2 * (1 - a2))
        dw2 = a1.T @ d2
        dw1 = x.T @ ((d2 @ w2.T) * (a1 * (1 - a1)))
        w2 = w2 - dw2
        w1 = w1 - dw1
    t = Trainer(get_preset("toy").config, toy_set())
    t.run_steps(50)
    np.testing.assert_allclose(t.params[0][0], w1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.params[1][0], w2, rtol=1e-12, atol=1e-14)
