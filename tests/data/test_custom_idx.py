"""A folder of the user's own IDX files: any image size, the classes its labels hold,
structure checked, nothing claimed as verified."""
from __future__ import annotations

import numpy as np
import pytest

from bpviz.data import custom
from bpviz.data.custom import load_idx_folder
from bpviz.data.errors import DataError
from bpviz.data.idx import write_idx
from bpviz.engine.config import NetConfig
from bpviz.runs import fit_to_data, load_run_data, make_trainer, scores


def three_classes(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """12x12 images of a horizontal bar, a vertical bar or a diagonal, with speckle."""
    labels = rng.integers(0, 3, n).astype(np.uint8)  # (n,)
    images = rng.integers(0, 60, (n, 12, 12)).astype(np.uint8)  # (n, 12, 12) background
    for i, k in enumerate(labels):
        if k == 0:
            images[i, 5:7, :] = 255
        elif k == 1:
            images[i, :, 5:7] = 255
        else:
            images[i][np.eye(12, dtype=bool)] = 255
    return images, labels


def write_folder(d, train, test, *, dotted=False, gz=False, prefix=""):
    d.mkdir(parents=True, exist_ok=True)
    sep = "." if dotted else "-"
    ext = ".gz" if gz else ""
    for part, (x, y) in (("train", train), ("t10k", test)):
        write_idx(d / f"{prefix}{part}-images{sep}idx3-ubyte{ext}", x, gzip=gz)
        write_idx(d / f"{prefix}{part}-labels{sep}idx1-ubyte{ext}", y, gzip=gz)
    return d


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    return write_folder(tmp_path / "bars", three_classes(300, rng), three_classes(60, rng), dotted=True)


def test_a_12x12_three_class_folder_loads_unverified(folder):
    data = load_run_data(str(folder))
    assert not data.verified and data.verification == "unverified: your data"
    assert data.class_names == ("0", "1", "2") and data.task == "classification"
    assert data.train.image_shape == (12, 12) and data.train.n_features == 144
    assert data.train.n_samples == 300 and data.test.n_samples == 60 and data.train.n_outputs == 3


def test_a_12x12_three_class_folder_trains(folder):
    data = load_run_data(str(folder))
    cfg, note = fit_to_data(NetConfig((2, 16, 2), hidden="tanh", init="xavier", seed=0, lr=0.1, batch_size=30), data)
    assert cfg.sizes == (144, 16, 3) and cfg.output_loss == "softmax-ce" and "144 inputs and 3 outputs" in note
    trainer = make_trainer(cfg, data)
    before = scores(trainer.params, cfg, data)
    trainer.run_steps(100)
    after = scores(trainer.params, cfg, data)
    assert trainer.losses[-1] < trainer.losses[0] / 4
    # the three bar shapes are easy: the network must get far beyond the 1/3 of guessing
    assert after["train_accuracy"] > 0.95 and after["test_accuracy"] > 0.9
    assert after["test_accuracy"] > before["test_accuracy"]


@pytest.mark.parametrize("dotted", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_either_spelling_with_a_prefix(tmp_path, dotted, gz):
    rng = np.random.default_rng(1)
    d = write_folder(tmp_path / "e", three_classes(30, rng), three_classes(9, rng), dotted=dotted, gz=gz,
                     prefix="emnist-bars-")
    ds = load_idx_folder(d)
    assert ds.image_shape == (12, 12) and len(ds.train_x) == 30 and not ds.verified


def test_labels_that_skip_numbers_become_classes_named_by_value(tmp_path):
    rng = np.random.default_rng(2)
    (x, y), (tx, ty) = three_classes(30, rng), three_classes(9, rng)
    d = write_folder(tmp_path / "letters", (x, (y * 5 + 1).astype(np.uint8)), (tx, (ty * 5 + 1).astype(np.uint8)))
    ds = load_idx_folder(d)  # labels 1, 6, 11 like EMNIST letters' 1-26
    assert ds.class_names == ("1", "6", "11")
    assert (ds.train_labels == y).all() and (ds.test_labels == ty).all()


def test_the_published_bytes_in_a_folder_are_recognised(tmp_path, synthetic, monkeypatch):
    from .conftest import STEMS
    d = tmp_path / "copy"
    d.mkdir()
    for stem in STEMS:
        (d / stem.replace("-idx", ".idx")).write_bytes(synthetic.raw[stem])
    monkeypatch.setitem(custom.FILES, "fashion-mnist", synthetic.specs)  # stands for the published digests
    ds = load_idx_folder(d)
    assert ds.verified and ds.name == "fashion-mnist" and ds.class_names[0] == "T-shirt/top"


def bad(tmp_path, change) -> str:
    rng = np.random.default_rng(3)
    train, test = list(three_classes(20, rng)), list(three_classes(6, rng))
    change(train, test)
    d = write_folder(tmp_path / "bad", tuple(train), tuple(test))
    with pytest.raises(DataError) as e:
        load_idx_folder(d)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(d))
    return message


def test_counts_must_agree(tmp_path):
    def drop(train, test):
        train[1] = train[1][:-1]
    message = bad(tmp_path, drop)
    assert "has 20 images but" in message and message.endswith("has 19 labels")


def test_image_sizes_must_agree(tmp_path):
    def wider(train, test):
        test[0] = np.zeros((6, 12, 13), np.uint8)
    assert "images are 12x13 but the training images" in bad(tmp_path, wider)


def test_a_test_label_must_be_a_training_class(tmp_path):
    def new_class(train, test):
        test[1] = test[1].copy()
        test[1][4] = 7
    assert "label 7 at index 4 is not a class of the training labels" in bad(tmp_path, new_class)


def test_one_class_is_refused(tmp_path):
    def one(train, test):
        train[1] = np.zeros(20, np.uint8)
        test[1] = np.zeros(6, np.uint8)
    assert "every label is 0; a classifier needs at least 2 classes" in bad(tmp_path, one)


def test_the_size_budget_is_checked_from_the_headers(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    d = write_folder(tmp_path / "big", three_classes(20, rng), three_classes(6, rng), gz=True)
    read = []
    monkeypatch.setattr(custom, "read_bytes", lambda p: read.append(p))
    with pytest.raises(DataError, match="declare 3,770 bytes of data, more than the 2,880 bytes bpviz loads"):
        load_idx_folder(d, max_bytes=20 * 144)  # the 26 images and 26 labels declare 3,770 bytes
    assert read == []  # refused before any file was read whole


def test_a_missing_file_is_named(tmp_path):
    rng = np.random.default_rng(5)
    d = write_folder(tmp_path / "three", three_classes(20, rng), three_classes(6, rng))
    (d / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"three: t10k-labels-idx1-ubyte \(or .gz, or with a dot before idx\) is missing"):
        load_idx_folder(d)


def test_two_data_sets_in_one_folder_are_refused(tmp_path):
    rng = np.random.default_rng(6)
    d = write_folder(tmp_path / "two", three_classes(20, rng), three_classes(6, rng), prefix="a-")
    write_folder(d, three_classes(20, rng), three_classes(6, rng), prefix="b-")
    with pytest.raises(DataError, match="several data sets"):
        load_idx_folder(d)


def test_a_folder_without_idx_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="no IDX files here"):
        load_run_data(str(tmp_path))
