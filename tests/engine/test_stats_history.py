"""The per-layer figures over steps: bounded, in columns, views that never change."""
import pickle

import numpy as np
import pytest

from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.trainer import Trainer
from bpviz.engine.stats import StatsHistory, known_figures, layer_stats


def figures(step):
    return {1: {"grad_rms": 0.1 * step, "update_ratio": 1e-3 * step, "inactive_share": 0.5},
            2: {"grad_rms": 0.2 * step, "update_ratio": 2e-3 * step}}


def test_the_history_keeps_the_last_maxlen_steps_and_its_views_never_change():
    h = StatsHistory(2, maxlen=100)
    views = []
    for step in range(1, 1001):
        h.append(step, figures(step))
        if step % 97 == 0:
            views.append((step, h.view(), np.array(h.view().values)))
    v = h.view()
    assert len(h) == len(v) == 100 and v.steps.tolist() == list(range(901, 1001))
    for step, view, copy in views:  # appends and moves to a new buffer left every earlier view alone
        assert view.steps[-1] == step and len(view) == min(step, 100)
        np.testing.assert_array_equal(view.values, copy)
    pairs = list(v)
    assert pairs[0] == (901, figures(901))  # the dicts layer_stats made, without the figures never known
    np.testing.assert_allclose(v.column("grad_rms", 2), 0.2 * np.arange(901, 1001))
    assert np.isnan(v.column("inactive_share", 2)).all()
    assert not v.steps.flags.writeable and not v.values.flags.writeable


def test_dropping_the_future_keeps_earlier_views_and_a_pickle_is_equal_and_read_only():
    h = StatsHistory(2, maxlen=50)
    for step in range(10, 40):
        h.append(step, figures(step))
    before = h.view()
    h.drop_from(25)  # an edit in the past at step 25: its figures and later ones go
    assert h.view().steps.tolist() == list(range(10, 25)) and before.steps.tolist() == list(range(10, 40))
    h.append(25, figures(25))
    assert h.last_step() == 25 and before.steps[15] == 25 and before.values[15, 0, 0] == 0.1 * 25
    buffers = []
    back = pickle.loads(pickle.dumps(h.view(), protocol=5, buffer_callback=buffers.append),
                        buffers=[bytes(b.raw()) for b in buffers])
    assert len(buffers) == 2  # steps and values travel as two buffers, not as dicts
    np.testing.assert_array_equal(back.steps, h.view().steps)
    np.testing.assert_array_equal(back.values, h.view().values)
    assert not back.values.flags.writeable


@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "tanh", "leaky_relu", "identity"])
def test_known_figures_are_the_ones_a_step_gives(hidden):
    """What a panel lays out before the first step is what layer_stats gives after it."""
    cfg = NetConfig(sizes=(3, 5, 4, 2), hidden=hidden, output_loss="softmax-ce", batch_size=4)
    rng = np.random.default_rng(0)
    t = Trainer(cfg, ArraySet(rng.normal(size=(8, 3)), labels=rng.integers(0, 2, 8), n_classes=2))
    t.finish_step()
    got = layer_stats(t.last.arrays, cfg.n_layers, hidden, cfg.lr)
    assert {(k, l) for l, s in got.items() for k in s} == set(known_figures(cfg.n_layers, hidden))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_figures_match_a_float64_reference(dtype):
    """grad_rms and update_ratio, summed in the arrays' dtype, agree with float64 sums; a
    float32 sum of squares that overflows is redone in float64 (a figure, not inf)."""
    rng = np.random.default_rng(1)
    w, dw = (rng.normal(size=(784, 128)).astype(dtype) for _ in range(2))
    arrays = {"W1": w, "dW1": dw, "Z1": rng.normal(size=(10, 128)).astype(dtype)}
    got = layer_stats(arrays, 2, "relu", 0.1)[1]
    w64, dw64 = w.astype(np.float64), dw.astype(np.float64)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got["grad_rms"], np.sqrt(np.mean(dw64 ** 2)), rtol=rtol)
    np.testing.assert_allclose(got["update_ratio"], 0.1 * np.linalg.norm(dw64) / np.linalg.norm(w64), rtol=rtol)
    huge = np.full((300, 300), 1e20, dtype=dtype)  # its float32 Σ² (9e44) overflows
    np.testing.assert_allclose(layer_stats({"W1": huge, "dW1": huge}, 1, "relu", 0.5)[1]["grad_rms"], 1e20, rtol=1e-6)
