"""`bpviz train --dataset PATH`: the data's sizes, the task's output/loss, and a summary that
says the data is unverified and how well the network does."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bpviz.cli import main
from bpviz.data.idx import write_idx


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own exits
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def summary(out):
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def two_blobs(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["width,height,colour,label"]
    for i in range(120):
        k = i % 2
        w, h = rng.normal(3 * k, 0.5, 2)
        rows.append(f"{w:.3f},{h:.3f},{'red' if rng.random() < 0.5 else 'blue'},{'big' if k else 'small'}")
    rows.insert(7, "1.0,,red,big")  # one row with a missing value
    path = tmp_path / "blobs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_csv_reports_dataset_unverified_sizes_and_accuracy(capsys, two_blobs):
    code, out, err = run(capsys, "train", "--dataset", str(two_blobs), "--json")
    assert code == 0, err
    s = summary(out)
    assert s["dataset"] == str(two_blobs) and s["verified"] is False
    assert s["verification"] == "unverified: your data" and s["task"] == "classification"
    # width, height and colour one-hot (blue, red); one hidden layer of 16; two classes with softmax
    assert s["sizes"] == [4, 16, 2] and s["config"]["output_loss"] == "softmax-ce" and s["preset"] == "your-data"
    assert s["train_accuracy"] > 0.95 and s["test_accuracy"] > 0.95
    assert any("dropped 1 of 121 rows" in n for n in s["notes"])


def test_hidden_sizes_and_the_text_summary(capsys, two_blobs):
    code, out, _ = run(capsys, "train", "--dataset", str(two_blobs), "--hidden-sizes", "8,4", "--epochs", "2")
    assert code == 0
    assert f"{two_blobs}: unverified: your data" in out and "test accuracy:" in out
    code, out, _ = run(capsys, "train", "--dataset", str(two_blobs), "--hidden-sizes", "8,4", "--steps", "0", "--json")
    assert summary(out)["sizes"] == [4, 8, 4, 2]


def test_a_regression_csv_reports_rmse(capsys, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (150, 3))  # (150, 3)
    y = 100 + 20 * x[:, 0] - 10 * x[:, 1] * x[:, 2]  # (150,)
    path = tmp_path / "y.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f},{t:.4f}\n" for (a, b, c), t in zip(x, y)))
    code, out, err = run(capsys, "train", "--dataset", str(path), "--epochs", "60", "--json")
    assert code == 0, err
    s = summary(out)
    assert s["task"] == "regression" and s["sizes"] == [3, 16, 1] and s["config"]["output_loss"] == "identity-mse"
    assert "train_accuracy" not in s and s["test_rmse"] < 0.3 * y.std()


def test_an_idx_folder_on_the_command_line(capsys, tmp_path):
    rng = np.random.default_rng(2)
    for part, n in (("train", 60), ("t10k", 20)):
        labels = rng.integers(0, 3, n).astype(np.uint8)
        images = np.zeros((n, 12, 12), np.uint8)
        for i, k in enumerate(labels):
            images[i, 4 * k:4 * k + 4, :] = 255  # a bar in one of three bands
        write_idx(tmp_path / f"{part}-images.idx3-ubyte", images)
        write_idx(tmp_path / f"{part}-labels.idx1-ubyte", labels)
    code, out, err = run(capsys, "train", "--dataset", str(tmp_path), "--lr", "0.5", "--json")
    assert code == 0, err
    s = summary(out)
    assert s["verified"] is False and s["sizes"] == [144, 16, 3] and s["test_accuracy"] > 0.9


def test_a_2d_set_by_name(capsys):
    code, out, _ = run(capsys, "train", "--dataset", "circle", "--noise", "0.1", "--steps", "0", "--json")
    s = summary(out)
    assert code == 0 and s["preset"] == "circle" and s["verified"] is True and s["sizes"] == [2, 4, 2]
    code, out, _ = run(capsys, "train", "--dataset", "circle", "--hidden-sizes", "5", "--steps", "0", "--json")
    assert code == 0 and summary(out)["sizes"] == [2, 5, 2]


@pytest.mark.parametrize("argv, needle", [
    (["--dataset", "no/such.csv"], "--dataset: no such file or folder: no/such.csv"),
    (["--dataset", "spirals"], "unknown data set 'spirals'"),
    (["--dataset", "toy", "--label-column", "y"], "--label-column applies only to a CSV file, not to toy"),
    (["--dataset", "toy", "--test-fraction", "0.3"], "--test-fraction applies only to a CSV file and the 2-D sets"),
    (["--dataset", "xor", "--noise", "2"], "--noise must be between 0 and 0.5"),
    (["--dataset", "xor", "--sizes", "2,4,2", "--hidden-sizes", "3"], "give --sizes or --hidden-sizes, not both"),
    (["--dataset", "CSV", "--test", "no/test.csv"], "--test: no such file: no/test.csv"),
    (["--dataset", "CSV", "--test", "CSV", "--test-fraction", "0.1"], "give --test or --test-fraction, not both"),
    (["--dataset", "CSV", "--batch", "500"], "batch size 500 is larger than the data set"),
    (["--dataset", "xor", "--hidden-sizes", "8,0"], "hidden sizes must be comma-separated whole numbers of at least 1"),
])
def test_misapplied_options_are_usage_errors(capsys, two_blobs, argv, needle):
    code, out, err = run(capsys, "train", *[str(two_blobs) if a == "CSV" else a for a in argv])
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err


def test_gradcheck_and_trace_on_a_csv(capsys, two_blobs, tmp_path):
    code, out, _ = run(capsys, "gradcheck", "--dataset", str(two_blobs), "--json")
    assert code == 0 and summary(out)["ok"]
    code, _, err = run(capsys, "trace", "--dataset", str(two_blobs), "--out", str(tmp_path / "t.npz"))
    assert code == 0, err
    with np.load(tmp_path / "t.npz") as z:
        assert z["X"].shape[1] == 4 and z["W1"].shape == (4, 16)
