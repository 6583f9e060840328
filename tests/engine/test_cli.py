"""The headless commands: the contract other tools rely on (JSON, files, exit codes)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from bpviz.cli import main


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own exits
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def test_train_toy_json_reproduces_seed_001(capsys):
    code, out, _ = run(capsys, "train", "--preset", "toy", "--steps", "1000", "--json")
    assert code == 0
    s = last_json(out)
    assert s["preset"] == "toy" and s["steps"] == 1000 and s["seconds"] >= 0
    assert np.round(np.array(s["outputs"]).ravel(), 3).tolist() == [0.028, 0.925, 0.925, 0.090]
    assert s["loss"] < 0.02


def test_train_zero_steps_gives_the_untrained_outputs(capsys):
    code, out, _ = run(capsys, "train", "--steps", "0", "--json")
    s = last_json(out)
    assert code == 0 and s["steps"] == 0 and s["loss"] is None
    assert np.round(np.array(s["outputs"]).ravel(), 3).tolist() == [0.758, 0.771, 0.791, 0.801]


def test_train_with_overrides(capsys):
    code, out, _ = run(capsys, "train", "--preset", "toy", "--sizes", "3,8,1", "--hidden", "tanh",
                       "--lr", "0.5", "--steps", "500", "--json")
    s = last_json(out)
    assert code == 0
    assert s["config"]["sizes"] == [3, 8, 1] and s["config"]["hidden"] == "tanh"
    assert s["config"]["lr"] == 0.5 and s["steps"] == 500
    outs = np.array(s["outputs"]).ravel()
    assert outs[0] < 0.2 and outs[1] > 0.8 and outs[2] > 0.8 and outs[3] < 0.2  # learned XOR


def test_train_human_output(capsys):
    code, out, _ = run(capsys, "train", "--steps", "10")
    assert code == 0 and "10 steps" in out and "outputs:" in out


@pytest.mark.parametrize("argv, needle", [
    (["--sizes", "3,0,1"], "at least 1"),
    (["--lr", "-1"], "argument --lr"),
    (["--hidden", "swish"], "unknown activation"),
    (["--batch", "10"], "larger than the data set"),
    (["--output-loss", "hinge"], "output/loss"),
    (["--sizes", "3,x"], "comma-separated"),
    (["--sizes", "4,4,1"], "input layer has 4 units"),
    (["--steps", "-3"], "--steps"),
    (["--steps", "1", "--epochs", "1"], "not both"),
    (["--frobnicate"], "unrecognized"),
])
def test_bad_options_give_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, "train", *argv)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_option_as_a_process_exits_2_without_traceback():
    p = subprocess.run([sys.executable, "-m", "bpviz.cli", "train", "--lr", "nan"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.startswith("bpviz: error:") and "Traceback" not in p.stderr


def test_gradcheck_json_passes_on_exact_gradients(capsys):
    code, out, _ = run(capsys, "gradcheck", "--preset", "toy", "--json")
    r = last_json(out)
    assert code == 0 and r["ok"] and r["approximate_gradient"] is False
    assert set(r["max_rel_error"]) >= {"W1", "W2", "Delta1", "Delta2", "dA1"}
    assert max(r["max_rel_error"].values()) < r["tolerance"]


def test_gradcheck_fails_on_seed_002s_approximation(capsys):
    code, out, _ = run(capsys, "gradcheck", "--sizes", "3,4,2", "--output-loss", "softmax-mse-approx",
                       "--dataset", "toy", "--json")
    # the toy set has one target: a 2-unit output does not fit it
    assert code == 2


def test_trace_saves_every_array_of_one_step(capsys, tmp_path):
    path = tmp_path / "toy-step.npz"
    code, out, _ = run(capsys, "trace", "--preset", "toy", "--out", str(path))
    assert code == 0 and path.exists()
    d = np.load(path)
    assert set(d.files) == {"X", "Y", "W1", "W2", "Z1", "A1", "Z2", "A2", "loss", "Delta2", "dW2",
                            "dA1", "Delta1", "dW1", "W1_after", "W2_after", "config"}
    cfg = json.loads(str(d["config"]))
    assert cfg["sizes"] == [3, 4, 1] and cfg["bias"] is False and cfg["lr"] == 1.0
    # the trace is self-consistent: the notebook check a user would do
    np.testing.assert_allclose(d["Z1"], d["X"] @ d["W1"])
    np.testing.assert_allclose(d["dW1"], d["X"].T @ d["Delta1"])
    np.testing.assert_allclose(d["W1_after"], d["W1"] - d["dW1"])
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_trace_with_biases_has_b_keys(capsys, tmp_path):
    path = tmp_path / "t.npz"
    assert run(capsys, "trace", "--bias", "--out", str(path))[0] == 0
    d = np.load(path)
    assert {"b1", "b2", "db1", "db2", "b1_after", "b2_after"} <= set(d.files)


def test_trace_into_a_missing_directory_fails_cleanly(capsys, tmp_path):
    code, _, err = run(capsys, "trace", "--out", str(tmp_path / "nope" / "t.npz"))
    assert code != 0 and "bpviz: error" in err and "Traceback" not in err


def test_train_divergence_exits_1_and_names_the_equation(capsys):
    code, out, err = run(capsys, "train", "--hidden", "identity", "--output-loss", "identity-mse",
                         "--lr", "1e300", "--steps", "50", "--json")
    assert code == 1
    s = last_json(out)
    assert "non-finite" in s["error"] and "step" in s["error"]
    assert "produced by" in err


def test_a_data_set_without_a_preset_starts_from_seed_000s_setup(monkeypatch):
    """--dataset fashion-mnist alone must not inherit the toy's sigmoid, full batch and summed loss."""
    import argparse
    from bpviz.cli import _resolve
    ns = argparse.Namespace(preset=None, dataset="fashion-mnist", sizes=(784, 64, 10), hidden=None,
                            output_loss=None, lr=0.1, batch=None, seed=None, init=None, dtype=None,
                            reduction=None, bias=None, per_sample=None)
    name, _, cfg, dataset = _resolve(ns)
    assert (name, dataset) == ("mnist", "fashion-mnist")
    assert (cfg.sizes, cfg.hidden, cfg.output_loss, cfg.batch_size, cfg.lr) == ((784, 64, 10), "relu", "softmax-ce", 100, 0.1)


# -- the rule: every option checked before any work -------------------------------------
def test_trace_divergence_is_one_line_and_exit_1(capsys, tmp_path):
    path = tmp_path / "t.npz"
    code, _, err = run(capsys, "trace", "--dtype", "float32", "--lr", "3e38", "--output-loss", "identity-mse",
                       "--out", str(path))
    assert code == 1 and err.startswith("bpviz: error: non-finite value") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["--max-entries", "0"], ["--max-entries", "-1"], ["--samples", "0"]])
def test_gradcheck_refuses_to_check_nothing(capsys, argv):
    code, out, err = run(capsys, "gradcheck", *argv)
    assert code == 2 and out == "" and "must be at least 1" in err


def test_a_network_over_the_memory_limit_is_refused_up_front(capsys):
    code, out, err = run(capsys, "train", "--sizes", "3,4000,1", "--max-memory", "1M")
    assert code == 2 and out == ""
    assert err.startswith("bpviz: error: 3-4000-1") and "the limit is 1 MiB" in err and "--max-memory" in err


def test_the_limit_can_come_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("BPVIZ_MAX_MEMORY", "1M")
    code, _, err = run(capsys, "gradcheck", "--sizes", "3,4000,1")
    assert code == 2 and "the limit is 1 MiB" in err


@pytest.mark.parametrize("path, needle", [("/etc/passwd", "not a folder: /etc/passwd"),
                                          ("/no/such/dir", "no such folder: /no/such/dir")])
def test_data_dir_must_be_a_folder(capsys, path, needle):
    code, _, err = run(capsys, "train", "--data-dir", path)
    assert code == 2 and "--data-dir" in err and needle in err


def test_the_window_options_take_the_space_form(monkeypatch):
    import bpviz.gui.main as gui_main
    seen = []
    monkeypatch.setattr(gui_main, "run_gui", lambda args: seen.append(args) or 0)
    assert main(["--preset", "mnist", "--dataset", "fashion-mnist", "--max-memory", "2G"]) == 0
    assert (seen[0].preset, seen[0].dataset, seen[0].max_memory) == ("mnist", "fashion-mnist", 2 * 2**30)


def test_help_lists_the_window_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for option in ("--preset", "--dataset", "--data-dir", "--max-memory", "train", "screenshot"):
        assert option in out


def test_window_options_before_a_command_are_refused(capsys):
    code, _, err = run(capsys, "--preset", "mnist", "train")
    assert code == 2 and "--preset goes after the command" in err


def test_subcommands_keep_their_own_preset(capsys):
    code, out, _ = run(capsys, "train", "--preset", "toy", "--steps", "1", "--json")
    assert code == 0 and last_json(out)["preset"] == "toy"
