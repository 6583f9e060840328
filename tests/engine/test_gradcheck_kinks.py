"""Gradient checks at a ReLU kink: entries whose difference interval straddles z = 0 are
counted and left out of the verdict; a wrong gradient elsewhere still fails."""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from bpviz.cli import main
from bpviz.engine import trainer as trainer_module
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.gradcheck import TOLERANCE, gradcheck
from bpviz.engine.network import init_params, loss_from

FASHION = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist package


def kinked_net(hidden: str = "relu"):
    """2-2-1 without biases; sample 0 puts hidden unit 0 exactly at z = 0, sample 1 is away
    from every kink."""
    cfg = NetConfig(sizes=(2, 2, 1), hidden=hidden, output_loss="identity-mse", bias=False, reduction="sum")
    w1 = np.array([[0.5, 0.3], [0.5, -0.8]])  # (2, 2): x0 = (1, -1) gives z = (0, 1.1)
    w2 = np.array([[1.5], [-0.7]])  # (2, 1)
    x = np.array([[1.0, -1.0], [0.4, 0.9]])  # (2, 2)
    y = np.array([[1.0], [-0.5]])  # (2, 1)
    return cfg, ((w1, None), (w2, None)), x, y


def by_name(checks):
    return {c.name: c for c in checks}


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_entries_at_a_kink_are_counted_and_left_out(hidden):
    cfg, params, x, y = kinked_net(hidden)
    c = by_name(gradcheck(cfg, x, y, params))
    # W1[:, 0] feeds the unit at z = 0 (through sample 0); Delta1[0, 0] is that z itself
    assert c["W1"].n_kinks == 2 and c["W1"].n_checked == 2
    assert c["Delta1"].n_kinks == 1 and c["Delta1"].n_checked == 3
    assert c["W2"].n_kinks == 0 and c["Delta2"].n_kinks == 0
    assert all(ch.ok for ch in c.values())


def test_a_kink_entry_really_disagrees_with_its_finite_difference():
    """The left-out entry is one the plain comparison would fail: the analytic ReLU'(0) = 0
    against the difference's average slope."""
    cfg, params, x, y = kinked_net()
    analytic = by_name(gradcheck(cfg, x, y, params, names={"W2"}))  # run for the arrays only
    assert analytic["W2"].ok
    eps = 1e-5
    (w1, _), (w2, _) = params
    plus, minus = w1.copy(), w1.copy()
    plus[0, 0] += eps
    minus[0, 0] -= eps
    numeric = (loss_from(((plus, None), (w2, None)), x, y, cfg) - loss_from(((minus, None), (w2, None)), x, y, cfg)) / (2 * eps)
    t = trainer_module.Trainer(cfg, ArraySet(x, y), params)
    exact = t.finish_pass().arrays["dW1"][0, 0]
    assert abs(numeric - exact) > 100 * TOLERANCE * max(abs(numeric), abs(exact), 1e-3)


def test_a_wrong_gradient_away_from_the_kink_still_fails(monkeypatch):
    cfg, params, x, y = kinked_net()
    right = trainer_module.get_activation("relu")
    wrong = dataclasses.replace(right, grad=lambda z, a: 1.5 * (z > 0))  # a slope error of 50%
    monkeypatch.setattr(trainer_module, "get_activation", lambda name, slope=0.01: wrong)
    c = by_name(gradcheck(cfg, x, y, params))
    assert not c["W1"].ok and c["W1"].n_kinks == 2
    assert not c["Delta1"].ok


def test_no_kink_is_reported_for_a_smooth_activation():
    cfg, params, x, y = kinked_net("tanh")
    assert all(ch.n_kinks == 0 for ch in gradcheck(cfg, x, y, params))


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.skipif(not os.path.isdir(FASHION), reason=f"Fashion-MNIST is not in {FASHION} "
                    "(Debian package dataset-fashion-mnist)")
def test_the_issue_command_passes_with_its_kinks_counted(capsys):
    argv = ["gradcheck", "--dataset", "fashion-mnist", "--data-dir", FASHION, "--sizes", "784,2,7,10",
            "--hidden", "relu", "--output-loss", "softmax-mse", "--init", "xavier", "--reduction", "mean",
            "--no-bias", "--seed", "33", "--batch", "8"]
    code, out, _ = run(capsys, *argv, "--json")
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["ok"]
    assert sum(report["at_kink"].values()) > 0
    assert all(n > 0 for n in report["checked"].values())
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "at a kink, not checkable" in out and "all checks passed" in out


def test_seed_002_approximate_gradient_still_fails_with_relu():
    cfg = NetConfig(sizes=(4, 6, 3), hidden="relu", output_loss="softmax-mse-approx", init="he", seed=3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4))  # (5, 4)
    y = np.eye(3)[rng.integers(0, 3, 5)]  # (5, 3)
    checks = by_name(gradcheck(cfg, x, y, init_params(cfg)))
    assert not checks["W2"].ok and checks["W2"].n_checked > 0
