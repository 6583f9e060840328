"""CSV files as people have them: a header, a label column found by name, classes or a
regression target, numbers standardised, words one-hot, missing values dropped, Kaggle's
MNIST layout as images, and one line naming the file, row and column for what cannot be read."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from bpviz.data.csvdata import MISSING, load_csv
from bpviz.data.errors import DataError
from bpviz.engine.config import NetConfig
from bpviz.runs import DataOptions, fit_to_data, load_run_data, make_trainer, scores


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


IRIS_LIKE = """sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
4.7,3.2,1.3,0.2,setosa
5.0,3.6,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.9,3.1,4.9,1.5,versicolor
5.5,2.3,4.0,1.3,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica
7.1,3.0,5.9,2.1,virginica
6.5,3.0,5.8,2.2,virginica
"""


def refused(path, **kw) -> str:
    with pytest.raises(DataError) as e:
        load_csv(path, **kw)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


# -- what cannot be read: one line with the file, and the row and column where they apply --
def test_ragged_row(tmp_path):
    p = write(tmp_path, "ragged.csv", "a,b,label\n1,2,0\n3,4,1\n5,6\n")
    assert refused(p).endswith("ragged.csv: row 4 has 2 values but the header has 3 columns")
    p = write(tmp_path, "short.csv", "a,b,label\n1,2,0\n5\n")
    assert refused(p).endswith("short.csv: row 3 has 1 value but the header has 3 columns")


def test_empty_file(tmp_path):
    p = write(tmp_path, "empty.csv", "")
    assert "the file is empty" in refused(p)


def test_header_only(tmp_path):
    p = write(tmp_path, "header.csv", "a,b,label\n")
    assert refused(p).endswith("no data rows after the header")


def test_binary_file(tmp_path):
    p = tmp_path / "model.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "not a text file (a zero byte at offset 8)" in refused(p)


def test_compressed_file(tmp_path):
    p = tmp_path / "data.csv"
    p.write_bytes(gzip.compress(IRIS_LIKE.encode()))
    assert "not a text file (compressed data)" in refused(p)


def test_not_utf8(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("name,label\ncaf\xe9,0\nbar,1\n".encode("latin-1"))
    assert "not UTF-8 text" in refused(p)


def test_one_class_only(tmp_path):
    p = write(tmp_path, "one.csv", "a,b,label\n1,2,cat\n3,4,cat\n5,6,cat\n")
    assert refused(p).endswith("column 'label': every row has the label 'cat'; a classifier needs at least 2 classes")


def test_no_label_column(tmp_path):
    p = write(tmp_path, "nolabel.csv", "a,b,outcome\n1,2,0\n3,4,1\n")
    message = refused(p)
    assert "no label column" in message and "--label-column" in message and "a, b, outcome" in message


def test_a_named_label_column_that_is_not_there(tmp_path):
    p = write(tmp_path, "d.csv", "a,b,label\n1,2,0\n3,4,1\n")
    assert "no column named 'outcome' for --label-column" in refused(p, label_column="outcome")


def test_a_word_in_a_column_of_numbers(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(3000)) + "seven,1\n"
    p = write(tmp_path, "word.csv", "a,label\n" + rows)
    assert refused(p).endswith("row 3002, column 'a': 'seven' is not a number, but the rows above hold "
                               "numbers in this column")
    # in a small file the word is in the first rows read: still a typo, not 289 categories
    rows = "".join(f"{i},{i % 2}\n" for i in range(150)) + "1.O,1\n" + "".join(f"{i},{i % 2}\n" for i in range(150))
    p = write(tmp_path, "typo.csv", "a,label\n" + rows)
    assert refused(p).endswith("row 152, column 'a': '1.O' is not a number, but 300 of the column's first "
                               "301 values are")


def test_infinity_is_not_a_value(tmp_path):
    p = write(tmp_path, "inf.csv", "a,b,label\n1,2,0\n3,inf,1\n")
    assert refused(p).endswith("row 3, column 'b': inf is not a finite number")


def test_numbers_where_the_header_should_be(tmp_path):
    p = write(tmp_path, "noheader.csv", "5.1,3.5,0\n4.9,3.0,1\n")
    assert "row 1 holds numbers, not column names" in refused(p)


def test_a_test_file_with_an_unknown_class(tmp_path):
    train = write(tmp_path, "train.csv", IRIS_LIKE)
    test = write(tmp_path, "test.csv", IRIS_LIKE.splitlines()[0] + "\n5.0,3.0,1.5,0.2,setosa\n6.0,3.0,4.0,1.0,daisy\n")
    with pytest.raises(DataError) as e:
        load_csv(train, test_path=test)
    assert str(e.value) == (f"{test}: row 3, column 'species': the class 'daisy' does not occur in the "
                            f"training file {train}")


def test_a_test_file_with_other_columns(tmp_path):
    train = write(tmp_path, "train.csv", IRIS_LIKE)
    test = write(tmp_path, "test.csv", "sepal_length,sepal_width,petal_length,species\n5,3,1,setosa\n")
    with pytest.raises(DataError, match=r"test.csv: the test file lacks petal_width"):
        load_csv(train, test_path=test)


def test_the_size_budget(tmp_path):
    p = write(tmp_path, "big.csv", "a,b,label\n" + "1,2,0\n3,4,1\n" * 10)
    assert "row 6: more than 12 values" in refused(p, max_values=12)


@pytest.mark.parametrize("name", ["ragged", "empty", "binary", "one class", "no label"])
def test_every_bad_file_is_one_line_on_the_command_line(tmp_path, capsys, name):
    from bpviz.cli import main
    texts = {"ragged": "a,label\n1,0\n2\n3,1\n", "one class": "a,label\n1,x\n2,x\n",
             "no label": "a,b\n1,2\n"}
    p = tmp_path / "bad.csv"
    if name == "binary":
        p.write_bytes(bytes(range(256)))
    else:
        p.write_text(texts.get(name, ""))
    assert main(["train", "--dataset", str(p), "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"bpviz: error: {p}: ")


# -- what is read ---------------------------------------------------------------------
def test_string_labels_are_named_classes_and_features_standardised_on_the_training_rows(tmp_path):
    p = write(tmp_path, "iris.csv", IRIS_LIKE)
    t = load_csv(p, test_fraction=0.25)
    assert t.class_names == ("setosa", "versicolor", "virginica") and t.task == "classification"
    assert t.label_column == "species" and t.feature_names[0] == "sepal_length"
    # stratified: one of each class's 4 rows is held out
    assert len(t.test_x) == 3 and sorted(t.test_target.tolist()) == [0, 1, 2]
    assert np.allclose(t.train_x.mean(axis=0), 0) and np.allclose(t.train_x.std(axis=0), 1)
    # the test rows are scaled with the training rows' statistics, not their own
    kept = load_csv(p, test_fraction=0.25, standardize=False)
    mean, std = kept.train_x.mean(axis=0), kept.train_x.std(axis=0)
    assert np.allclose(t.test_x, (kept.test_x - mean) / std)


def test_the_hold_out_is_seeded(tmp_path):
    p = write(tmp_path, "iris.csv", IRIS_LIKE)
    a, b = load_csv(p, test_fraction=0.5, seed=3), load_csv(p, test_fraction=0.5, seed=3)
    c = load_csv(p, test_fraction=0.5, seed=4)
    assert np.array_equal(a.test_x, b.test_x) and not np.array_equal(a.test_x, c.test_x)


def test_no_standardize_keeps_the_numbers(tmp_path):
    p = write(tmp_path, "iris.csv", IRIS_LIKE)
    t = load_csv(p, test_fraction=0, standardize=False)
    assert t.train_x[0].tolist() == [5.1, 3.5, 1.4, 0.2] and t.test_x is None


@pytest.mark.parametrize("label", ["label", "Target", "y", "class", "species"])
def test_label_column_names(tmp_path, label):
    p = write(tmp_path, "d.csv", f"x1,{label},x2\n1,a,2\n3,b,4\n5,a,6\n")
    t = load_csv(p, test_fraction=0)
    assert t.label_column == label and t.feature_names == ("x1", "x2")


def test_label_column_option_and_words_one_hot(tmp_path):
    p = write(tmp_path, "pets.csv", "colour,weight,kind\nred,1.5,cat\nblue,20,dog\nred,2,cat\ngreen,30,dog\n")
    t = load_csv(p, label_column="kind", test_fraction=0, standardize=False)
    assert t.feature_names == ("weight", "colour=blue", "colour=green", "colour=red")
    assert t.train_x.tolist() == [[1.5, 0, 0, 1], [20, 1, 0, 0], [2, 0, 0, 1], [30, 0, 1, 0]]
    assert t.class_names == ("cat", "dog") and t.train_target.tolist() == [0, 1, 0, 1]


def test_rows_with_a_missing_value_are_dropped_and_counted(tmp_path):
    lines = ["a,b,label"] + [f"{i},{v},{i % 2}" for i, v in enumerate(["1", "", "NA", "NaN", "2", "nan", "N/A", "3"])]
    p = write(tmp_path, "gaps.csv", "\n".join(lines) + "\n")
    t = load_csv(p, test_fraction=0, standardize=False)
    assert t.train_x[:, 1].tolist() == [1, 2, 3]
    assert t.notes == (f"{p}: dropped 5 of 8 rows with a missing value (the first at row 3, column 'b')",)
    assert set(MISSING) >= {"", "NA", "NaN"}


def test_numeric_labels_with_few_values_are_classes(tmp_path):
    p = write(tmp_path, "d.csv", "a,label\n" + "".join(f"{i},{i % 3 + 1}\n" for i in range(30)))
    t = load_csv(p, test_fraction=0)
    assert t.class_names == ("1", "2", "3") and t.train_target[:3].tolist() == [0, 1, 2]


def regression_file(tmp_path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) * [3, 50] + [10, 200]  # (n, 2) columns of unlike scales
    y = 4 * (x[:, 0] - 10) / 3 - 2 * (x[:, 1] - 200) / 50 + 1000 + rng.normal(0, 0.1, n)  # (n,)
    text = "rooms,area,price\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f}\n" for (a, b), c in zip(x, y))
    return write(tmp_path, "houses.csv", text), y


def test_a_numeric_label_with_many_values_is_a_regression_target(tmp_path):
    p, y = regression_file(tmp_path)
    t = load_csv(p, label_column="price", test_fraction=0.2)
    assert t.class_names is None and t.task == "regression"
    raw = load_csv(p, label_column="price", test_fraction=0.2, standardize=False)
    assert (t.target_mean, t.target_std) == (raw.train_target.mean(), raw.train_target.std())
    assert np.allclose(t.train_target * t.target_std + t.target_mean, raw.train_target)
    assert np.allclose(t.test_target * t.target_std + t.target_mean, raw.test_target)
    assert np.isclose(t.train_target.mean(), 0) and np.isclose(t.train_target.std(), 1)


def test_a_regression_csv_trains_with_squared_error(tmp_path):
    p, y = regression_file(tmp_path)
    data = load_run_data(str(p), options=DataOptions(label_column="price"))
    assert data.task == "regression" and not data.verified
    cfg, note = fit_to_data(NetConfig((2, 16, 2), hidden="tanh", output_loss="softmax-ce", init="xavier",
                                      seed=0, lr=0.1, batch_size=16), data)
    assert cfg.sizes == (2, 16, 1) and cfg.output_loss == "identity-mse" and "squared error" in note
    trainer = make_trainer(cfg, data)
    before = scores(trainer.params, cfg, data)
    trainer.run_steps(300)
    after = scores(trainer.params, cfg, data)
    assert set(after) == {"train_rmse", "test_rmse"}
    # in the price's own units: well below its spread (predicting the mean scores about 1x the deviation)
    assert after["test_rmse"] < 0.25 * y.std() < before["test_rmse"]
    assert trainer.losses[-1] < trainer.losses[0] / 10


def kaggle_file(tmp_path, name, n, seed, pixel_names):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)  # (n,)
    pixels = rng.integers(0, 256, (n, 784))  # (n, 784)
    header = ",".join(["label"] + pixel_names)
    body = "".join(f"{k}," + ",".join(map(str, row)) + "\n" for k, row in zip(labels, pixels))
    return write(tmp_path, name, header + "\n" + body), labels, pixels


@pytest.mark.parametrize("names", ["pixel", "RxC"])
def test_kaggle_mnist_layout_gives_28x28_images(tmp_path, names):
    pixel_names = ([f"pixel{i}" for i in range(784)] if names == "pixel" else
                   [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)])
    train, labels, pixels = kaggle_file(tmp_path, "mnist_train.csv", 60, 0, pixel_names)
    test, test_labels, test_pixels = kaggle_file(tmp_path, "mnist_test.csv", 20, 1, pixel_names)
    data = load_run_data(str(train), options=DataOptions(test=str(test)))
    assert data.train.image_shape == (28, 28) and data.train.x.dtype == np.uint8 and data.train.scale == 1 / 255
    assert (data.train.x == pixels).all() and (data.test.x == test_pixels).all()
    assert [data.class_names[k] for k in data.train.labels] == [str(k) for k in labels]
    x, _ = data.train.batch(np.arange(2), np.float64)
    assert np.allclose(x, pixels[:2] / 255)


def test_a_table_of_784_measurements_is_not_taken_for_images(tmp_path):
    p = write(tmp_path, "wide.csv", "label," + ",".join(f"m{i}" for i in range(784)) + "\n"
              + "0," + ",".join(["0.5"] * 784) + "\n1," + ",".join(["300"] * 784) + "\n")
    t = load_csv(p, test_fraction=0)
    assert t.image_shape is None and t.train_x.dtype == np.float64


def test_semicolons_and_quotes(tmp_path):
    p = write(tmp_path, "eu.csv", 'x;"name, full";label\n1;"a, b";yes\n2;"c";no\n')
    t = load_csv(p, test_fraction=0, standardize=False)
    assert t.feature_names == ("x", "name, full=a, b", "name, full=c") and t.class_names == ("no", "yes")


def test_a_quoted_field_with_a_line_break(tmp_path):
    p = write(tmp_path, "notes.csv", 'note,label\n"two\nlines",a\nfine,b\nthree,c,d\n')
    assert refused(p).endswith("row 5 has 3 values but the header has 2 columns")  # rows count the file's lines
    p = write(tmp_path, "notes2.csv", 'note,label\n"two\nlines",a\nfine,b\n')
    t = load_csv(p, test_fraction=0)
    assert t.feature_names == ("note=fine", "note=two\nlines") and t.class_names == ("a", "b")
