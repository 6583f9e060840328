"""load_dataset: where files are found (data_dir > env > cache > Debian > download), what
it returns, and that every copy is checked against the published contents."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from bpviz.data import datasets
from bpviz.data.datasets import load_dataset, search_dirs
from bpviz.data.errors import DataError

from .conftest import STEMS, gz_files


@pytest.fixture
def places(tmp_path, monkeypatch):
    env = tmp_path / "env"
    monkeypatch.setenv("BPVIZ_DATA_DIR", str(env))
    return {"data_dir": tmp_path / "explicit", "env": env / "fashion-mnist",
            "cache": tmp_path / "usercache" / "bpviz" / "fashion-mnist",
            "debian": tmp_path / "debian" / "fashion-mnist"}


def test_resolution_order(places, synthetic, server):
    url = server.serve("m", gz_files(synthetic))
    kw = dict(files=synthetic.specs, mirrors=[url])
    for key in ("data_dir", "env", "cache", "debian"):
        synthetic.write(places[key])
    assert load_dataset("fashion-mnist", places["data_dir"], **kw).source == places["data_dir"]
    assert load_dataset("fashion-mnist", **kw).source == places["env"]  # no data_dir: the env var
    for shadowing, next_one in (("env", "cache"), ("cache", "debian")):
        for f in places[shadowing].iterdir():
            f.unlink()
        assert load_dataset("fashion-mnist", **kw).source == places[next_one]
    assert server.requests == []  # nothing was downloaded while a local copy existed
    for f in places["debian"].iterdir():
        f.unlink()
    ds = load_dataset("fashion-mnist", **kw)  # nothing local: downloaded into $BPVIZ_DATA_DIR/NAME
    assert ds.source == places["env"] and len(server.requests) == 4


def test_data_dir_wins_over_env_and_download_goes_there(places, synthetic, server):
    url = server.serve("m", gz_files(synthetic))
    synthetic.write(places["env"])
    d = places["data_dir"]
    # data_dir replaces the env var; with no copy in data_dir, cache or Debian it is downloaded there
    ds = load_dataset("fashion-mnist", d, files=synthetic.specs, mirrors=[url])
    assert ds.source == d and sorted(p.name for p in d.iterdir()) == sorted(f"{s}.gz" for s in STEMS)


def test_download_into_the_cache_without_env(tmp_path, monkeypatch, synthetic, server):
    monkeypatch.delenv("BPVIZ_DATA_DIR", raising=False)
    url = server.serve("m", gz_files(synthetic))
    ds = load_dataset("mnist", files=synthetic.specs, mirrors=[url])
    assert ds.source == tmp_path / "usercache" / "bpviz" / "mnist"
    assert load_dataset("mnist", files=synthetic.specs, mirrors=[]).source == ds.source  # cached now


def test_data_dir_may_hold_a_subdirectory_per_data_set(tmp_path, synthetic):
    synthetic.write(tmp_path / "d" / "mnist")
    assert load_dataset("mnist", tmp_path / "d", files=synthetic.specs, allow_download=False).source == \
        tmp_path / "d" / "mnist"


def test_debian_is_only_for_fashion(places):
    assert places["debian"] in search_dirs("fashion-mnist")
    assert search_dirs("mnist") == [places["env"].parent / "mnist", places["cache"].parent / "mnist"]


def test_uncompressed_and_mixed_names(tmp_path, synthetic):
    d = synthetic.write(tmp_path / "raw", compressed=False)
    (d / "t10k-labels-idx1-ubyte").unlink()
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(synthetic.gz[STEMS[3]])
    ds = load_dataset("mnist", d, files=synthetic.specs, allow_download=False)
    np.testing.assert_array_equal(ds.test_labels, synthetic.arrays[STEMS[3]])


def test_what_a_data_set_holds(tmp_path, synthetic):
    ds = load_dataset("fashion-mnist", synthetic.write(tmp_path / "d"), files=synthetic.specs)
    assert ds.name == "fashion-mnist" and ds.image_shape == (28, 28)
    assert ds.train_x.dtype == np.uint8 and ds.train_x.shape == (20, 784)
    np.testing.assert_array_equal(ds.train_x, synthetic.arrays[STEMS[0]].reshape(20, 784))
    np.testing.assert_array_equal(ds.train_labels, synthetic.arrays[STEMS[1]])
    assert ds.test_x.shape == (10, 784) and ds.test_labels.shape == (10,)
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot" and len(ds.class_names) == 10
    assert len(ds.sha256) == 64
    train, test = ds.train_set(), ds.test_set()
    assert train.x is ds.train_x  # no float copy of the whole set
    assert (train.n_samples, train.n_features, train.n_outputs, train.image_shape) == (20, 784, 10, (28, 28))
    x, y = train.batch(np.arange(3), np.float32)  # (3, 784), (3, 10)
    np.testing.assert_allclose(x, synthetic.arrays[STEMS[0]][:3].reshape(3, 784) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y.argmax(1), synthetic.arrays[STEMS[1]][:3])
    assert test.n_samples == 10 and test.name == "fashion-mnist test"


def test_identity_does_not_depend_on_compression(tmp_path, synthetic):
    a = load_dataset("mnist", synthetic.write(tmp_path / "a"), files=synthetic.specs)
    b = load_dataset("mnist", synthetic.write(tmp_path / "b", compressed=False), files=synthetic.specs)
    assert a.sha256 == b.sha256


def test_mnist_class_names():
    assert datasets.CLASS_NAMES["mnist"] == tuple("0123456789")


def test_a_copy_with_other_contents_is_refused(tmp_path, synthetic):
    d = synthetic.write(tmp_path / "d")
    other = gzip.compress(synthetic.raw[STEMS[1]][:-1] + b"\x07")  # one label changed, still valid IDX
    (d / "train-labels-idx1-ubyte.gz").write_bytes(other)
    with pytest.raises(DataError) as e:
        load_dataset("mnist", d, files=synthetic.specs)
    assert str(e.value).startswith(f"{d / 'train-labels-idx1-ubyte.gz'}: not the published mnist file "
                                   "train-labels-idx1-ubyte (SHA-256 of its contents is ")
    assert str(e.value).endswith("; delete it to download it again")


def test_the_real_digests_are_checked_by_default(tmp_path, synthetic):
    """Synthetic files under the real names are not MNIST: refused, not silently used."""
    d = synthetic.write(tmp_path / "d")
    with pytest.raises(DataError, match="not the published mnist file train-images-idx3-ubyte"):
        load_dataset("mnist", d)


def test_incomplete_directory_is_skipped_and_offline_says_so(tmp_path, synthetic, closed_port_url):
    d = synthetic.write(tmp_path / "d")
    (d / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        load_dataset("mnist", d, files=synthetic.specs, mirrors=[closed_port_url])
    assert str(e.value).startswith(f"no network: could not reach {closed_port_url} for mnist; put ")
    assert str(e.value).endswith(f"into {d} and run again")


def test_not_here_and_downloads_not_allowed(tmp_path):
    with pytest.raises(DataError) as e:
        load_dataset("mnist", tmp_path / "d", allow_download=False)
    msg = str(e.value)
    assert msg.startswith("mnist is not on this computer (looked in ")
    assert f"run `bpviz download mnist` or put its four IDX files into {tmp_path / 'd'}" in msg


def test_unknown_name():
    with pytest.raises(DataError, match="unknown data set 'toy'"):
        load_dataset("toy")
