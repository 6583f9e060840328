"""The memory budget: sizes, the limit's sources, refusals with the figure, and estimates
that are not below what a step and the accuracy pass really allocate."""
from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

from bpviz.engine import budget
from bpviz.engine.budget import BudgetError, check_budget, estimate, memory_limit, parse_size
from bpviz.engine.config import ConfigError, NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.network import accuracy, init_params, predict
from bpviz.engine.trainer import Trainer

GiB = 2**30


@pytest.mark.parametrize("text, value", [("4G", 4 * GiB), ("512M", 512 * 2**20), ("1.5g", 3 * GiB // 2),
                                         ("300", 300), ("2GiB", 2 * GiB), ("64 K", 64 * 1024), ("1T", 2**40)])
def test_sizes(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "0", "-1G", "4X", "G", "nan", "inf", "1e9", "0.1", "4 G B"])
def test_bad_sizes(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_the_limit_comes_from_the_argument_then_the_environment_then_half_the_memory(monkeypatch):
    monkeypatch.setenv(budget.ENV, "3G")
    assert memory_limit("1G") == (GiB, "--max-memory")
    assert memory_limit() == (3 * GiB, budget.ENV)
    monkeypatch.delenv(budget.ENV)
    monkeypatch.setattr(budget, "_available_bytes", lambda: 10 * GiB)
    assert memory_limit() == (5 * GiB, "default")
    monkeypatch.setenv(budget.ENV, "lots")
    with pytest.raises(ConfigError, match=budget.ENV):
        memory_limit()


def test_the_default_is_at_most_half_the_physical_memory(monkeypatch):
    monkeypatch.delenv(budget.ENV, raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit, source = memory_limit()
    assert source == "default" and 0 < limit <= physical // 2


def test_a_huge_network_is_refused_with_the_figure():
    cfg = NetConfig(sizes=(784, 100_000_000, 10), output_loss="softmax-ce", batch_size=100)
    with pytest.raises(BudgetError) as e:
        check_budget(cfg, 60000, 10000, limit="12G")
    msg = str(e.value)
    assert msg.startswith("784-100000000-10") and "TiB" in msg and "the limit is 12 GiB" in msg
    assert "--max-memory" in msg and budget.ENV in msg and "\n" not in msg
    assert isinstance(e.value, ConfigError)  # the window and the command treat it as bad settings


def test_the_presets_fit_a_modest_limit():
    cfg = NetConfig(sizes=(784, 128, 10), output_loss="softmax-ce", batch_size=100)
    assert check_budget(cfg, 60000, 10000, limit="1G") == GiB


def test_per_sample_mode_counts_every_running_sum():
    cfg = NetConfig(sizes=(784, 128, 10), output_loss="softmax-ce", batch_size=0)
    plain, per_sample = estimate(cfg, 60000), estimate(cfg.with_(per_sample=True), 60000)
    n_params = 784 * 128 + 128 + 128 * 10 + 10
    assert per_sample.step - plain.step == 60000 * n_params * 8
    with pytest.raises(BudgetError, match="per sample"):
        check_budget(cfg.with_(per_sample=True), 60000, limit="4G")


def test_float32_needs_half():
    cfg = NetConfig(sizes=(50, 300, 10), output_loss="softmax-ce", batch_size=100)
    assert estimate(cfg.with_(dtype="float32"), 1000).step * 2 == estimate(cfg, 1000).step


def _peak(fn) -> int:
    tracemalloc.start()  # NumPy reports its buffers to tracemalloc
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("per_sample", [False, True])
def test_the_estimate_covers_what_a_step_allocates(per_sample):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 40), dtype=np.uint8)  # (64, 40) images, as uint8 like MNIST
    data = ArraySet(x, labels=rng.integers(0, 5, 64), n_classes=5, scale=1 / 255)
    cfg = NetConfig(sizes=(40, 300, 200, 5), hidden="relu", output_loss="softmax-ce", init="he",
                    batch_size=32, per_sample=per_sample)
    t = Trainer(cfg, data)
    holder = []
    peak = _peak(lambda: holder.append(t.finish_step()))  # the step's results stay alive, as in a run
    assert peak <= estimate(cfg, 64).step


def test_accuracy_in_chunks_matches_one_pass_and_stays_within_its_bytes():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(3000, 30), dtype=np.uint8)  # (3000, 30)
    data = ArraySet(x, labels=rng.integers(0, 4, 3000), n_classes=4, scale=1 / 255)
    cfg = NetConfig(sizes=(30, 500, 4), hidden="relu", output_loss="softmax-ce", init="he", seed=2)
    params = init_params(cfg)
    xs, _ = data.batch(np.arange(3000), np.float64)
    whole = float(np.mean(np.argmax(predict(params, xs, cfg), axis=1) == data.labels))
    max_bytes = 200 * estimate(cfg, 1).accuracy_row  # about 200 rows per chunk
    result = []
    peak = _peak(lambda: result.append(accuracy(params, cfg, data, np.float64, max_bytes)))
    assert result[0] == whole
    assert peak <= max_bytes
    assert accuracy(params, cfg, data, np.float64, 1) == whole  # one row at a time


def test_accuracy_of_a_set_without_classes_is_none():
    data = ArraySet(np.zeros((4, 3)), np.zeros((4, 1)))
    cfg = NetConfig(sizes=(3, 2, 1))
    assert accuracy(init_params(cfg), cfg, data) is None
