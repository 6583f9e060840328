"""The 2-D sets: Playground's geometry, seeded, with noise; and their presets learn them."""
from __future__ import annotations

import numpy as np
import pytest

from bpviz.data.errors import DataError
from bpviz.data.planar import PLANAR_NAMES, planar_data
from bpviz.engine.config import ConfigError
from bpviz.engine.presets import get_preset
from bpviz.runs import DataOptions, load_run_data, make_trainer, scores


def everything(d):
    return np.concatenate([d.train_x, d.test_x]), np.concatenate([d.train_labels, d.test_labels])


@pytest.mark.parametrize("name", PLANAR_NAMES)
def test_seeded_split_and_balanced(name):
    a, b, c = planar_data(name, seed=5), planar_data(name, seed=5), planar_data(name, seed=6)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.test_labels, b.test_labels)
    assert not np.array_equal(a.train_x, c.train_x)
    assert a.train_x.shape == (400, 2) and a.test_x.shape == (100, 2)
    x, labels = everything(a)
    assert np.abs(x).max() <= 6 and set(np.unique(labels)) == {0, 1}
    if name != "xor":  # Playground draws half of each class; xor's classes follow the quadrants
        assert labels.sum() == 250


def test_geometry_without_noise():
    x, y = everything(planar_data("circle"))
    r = np.hypot(x[:, 0], x[:, 1])
    assert ((r < 2.5) == (y == 1)).all() and not ((r >= 2.5) & (r < 3.5)).any()
    x, y = everything(planar_data("xor"))
    assert ((x[:, 0] * x[:, 1] >= 0) == (y == 1)).all() and np.abs(x).min() >= 0.3
    x, y = everything(planar_data("gauss"))
    assert np.allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.2) and np.allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.2)
    x, y = everything(planar_data("spiral"))
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() < 5 and np.allclose(np.sort(r[y == 1]), np.sort(r[y == 0]))  # the two arms mirror each other


def test_noise_moves_points_or_labels():
    for name in PLANAR_NAMES:
        clean, noisy = planar_data(name, noise=0), planar_data(name, noise=0.3)
        assert not (np.array_equal(clean.train_x, noisy.train_x) and np.array_equal(clean.train_labels, noisy.train_labels))
    x, y = everything(planar_data("circle", noise=0.5))
    r = np.hypot(x[:, 0], x[:, 1])
    assert ((r < 2.5) != (y == 1)).any()  # with noise, some points sit on the other side of the edge


def test_bad_noise_and_fraction():
    with pytest.raises(DataError, match="between 0 and 0.5"):
        planar_data("spiral", noise=0.7)
    with pytest.raises(ConfigError, match="--noise must be between 0 and 0.5"):
        load_run_data("spiral", options=DataOptions(noise=-0.1))
    with pytest.raises(ConfigError, match="--test-fraction must be at least 0 and below 1"):
        load_run_data("xor", options=DataOptions(test_fraction=1.0))
    with pytest.raises(ConfigError, match="--label-column applies only to a CSV file, not to xor"):
        load_run_data("xor", options=DataOptions(label_column="y"))


def test_run_data_for_the_window():
    d = load_run_data("gauss", options=DataOptions(noise=0.1, test_fraction=0.5, seed=2))
    assert d.verified and d.verification == "built in" and d.extent == (-6.0, 6.0, -6.0, 6.0) and d.feature_names == ("x1", "x2")
    assert d.train.n_samples == 250 and d.test.n_samples == 250 and d.class_names == ("0", "1")
    assert "noise=0.1" in d.identity and "seed=2" in d.identity
    assert load_run_data("gauss", options=DataOptions(test_fraction=0)).test is None


@pytest.mark.parametrize("name", PLANAR_NAMES)
def test_each_preset_learns_its_set(name):
    """Deterministic by seed: the preset's network, its default length, the default points."""
    preset = get_preset(name)
    data = load_run_data(preset.dataset)
    trainer = make_trainer(preset.config, data)
    trainer.run_steps(preset.epochs * trainer.n_batches)
    got = scores(trainer.params, preset.config, data)
    assert got["train_accuracy"] > (0.9 if name == "spiral" else 0.97), got


def test_the_window_can_fit_a_network_to_a_2d_set_before_loading_it():
    from bpviz.runs import fit_to_data, fit_to_known
    toy = get_preset("toy").config
    known, note = fit_to_known(toy, "spiral")
    loaded, _ = fit_to_data(toy, load_run_data("spiral"))
    assert known == loaded and known.sizes == (2, 4, 2) and known.output_loss == "softmax-ce"
    assert note.startswith("the network was fitted to spiral: 2 inputs and 2 outputs")
