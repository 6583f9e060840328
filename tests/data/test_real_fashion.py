"""The real Fashion-MNIST from Debian's dataset-fashion-mnist package (`make test` installs
it), read through the same reader and the same verification as any other copy."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bpviz.data.datasets import read_dataset
from bpviz.data.idx import read_pair

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(not (DEBIAN / "train-images-idx3-ubyte.gz").is_file(),
                                reason=f"{DEBIAN} is missing: apt-get install dataset-fashion-mnist")


def test_reader_on_debian_files():
    x, y, shape = read_pair(DEBIAN / "train-images-idx3-ubyte.gz", DEBIAN / "train-labels-idx1-ubyte.gz")
    assert shape == (28, 28)
    assert x.shape == (60000, 784) and x.dtype == np.uint8  # (60000, 784)
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [6000] * 10
    tx, ty, _ = read_pair(DEBIAN / "t10k-images-idx3-ubyte.gz", DEBIAN / "t10k-labels-idx1-ubyte.gz")
    assert tx.shape == (10000, 784) and tx.dtype == np.uint8
    assert np.bincount(ty, minlength=10).tolist() == [1000] * 10
    assert x.min() == 0 and x.max() == 255


def test_debian_copy_matches_the_published_contents():
    ds = read_dataset("fashion-mnist", DEBIAN)  # raises DataError if any file's contents differ
    assert ds.train_x.shape == (60000, 784) and ds.test_x.shape == (10000, 784)
    assert ds.class_names[ds.train_labels[0]] == "Ankle boot"  # Zalando's first training image
    assert ds.train_set().n_outputs == 10
