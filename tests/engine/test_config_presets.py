import numpy as np
import pytest

from bpviz.engine.config import ConfigError, NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.network import init_params
from bpviz.engine.presets import PRESETS, get_preset
from bpviz.engine.trainer import Trainer


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_validates_and_runs_on_data_of_its_shape(name):
    p = get_preset(name)
    cfg = p.config.validate()
    n = 300 if p.dataset != "toy" else 4
    rng = np.random.default_rng(0)
    if p.dataset == "toy":
        from bpviz.data.toy import toy_set
        data = toy_set()
    elif p.dataset in ("xor", "circle", "gauss", "spiral"):  # generated, so the real set
        from bpviz.runs import load_run_data
        data = load_run_data(p.dataset).train
    else:  # synthetic images of the real shape until the data set is there
        data = ArraySet(rng.integers(0, 256, (n, 784), dtype=np.uint8), labels=rng.integers(0, 10, n),
                        n_classes=10, scale=1 / 255, image_shape=(28, 28))
    t = Trainer(cfg.with_(batch_size=min(cfg.batch_size, n)), data)
    t.run_steps(2)
    assert np.isfinite(t.losses).all() and len(t.losses) == 2


def test_presets_match_their_sources():
    toy = get_preset("toy").config
    assert (toy.sizes, toy.hidden, toy.output_loss, toy.bias, toy.reduction, toy.lr) == \
        ((3, 4, 1), "sigmoid", "sigmoid-mse", False, "sum", 1.0)
    m = get_preset("mnist")
    assert (m.config.sizes, m.config.lr, m.config.batch_size, m.epochs) == ((784, 128, 10), 0.001, 100, 10)
    r = get_preset("mnist-10")
    assert (r.config.sizes, r.config.lr, r.config.batch_size, r.steps) == ((784, 10, 10), 0.1, 0, 1000)
    a = get_preset("mnist-approx").config
    assert a.output_loss == "softmax-mse-approx" and a.init == "uniform-half"


@pytest.mark.parametrize("changes, needle", [
    ({"sizes": (3,)}, "at least an input"),
    ({"sizes": (3, -1, 1)}, "at least 1"),
    ({"hidden": "gelu"}, "unknown activation"),
    ({"output_loss": "softmax-ce"}, "at least 2 output"),
    ({"reduction": "median"}, "reduction"),
    ({"init": "zeros"}, "initialisation"),
    ({"dtype": "float16"}, "dtype"),
    ({"lr": 0.0}, "positive"),
    ({"lr": float("inf")}, "positive"),
    ({"batch_size": -2}, "batch size"),
    ({"leaky_slope": 2.0}, "slope"),
])
def test_impossible_configurations_are_refused(changes, needle):
    with pytest.raises(ConfigError, match=needle):
        get_preset("toy").config.with_(**changes).validate()


def test_config_round_trips_through_a_dict():
    cfg = get_preset("mnist").config
    assert NetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown configuration keys"):
        NetConfig.from_dict({**cfg.to_dict(), "momentum": 0.9})


@pytest.mark.parametrize("init", ["uniform01", "uniform-half", "he", "xavier"])
def test_inits_are_seeded_and_have_their_ranges(init):
    cfg = NetConfig((300, 200, 10), init=init, seed=5)
    a, b = init_params(cfg), init_params(cfg)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert not np.array_equal(a[0][0], init_params(cfg.with_(seed=6))[0][0])
    w = a[0][0]
    if init == "uniform01":
        assert w.min() >= 0 and w.max() < 1
    elif init == "uniform-half":
        assert w.min() >= -0.5 and w.max() < 0.5 and abs(w.mean()) < 0.01
    elif init == "he":
        assert abs(w.std() - np.sqrt(2 / 300)) < 0.005
    else:
        lim = np.sqrt(6 / 500)
        assert w.min() >= -lim and w.max() <= lim and abs(w.std() - lim / np.sqrt(3)) < 0.005
