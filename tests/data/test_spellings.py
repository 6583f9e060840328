"""The named sets are found under the names Kaggle and Python packages give the files
(a dot before idx), gzipped or not, and are still checked against the published digests."""
from __future__ import annotations

import pytest

from bpviz.data.datasets import load_dataset, spellings
from bpviz.data.errors import DataError

from .conftest import STEMS


def dotted(stem: str) -> str:
    return stem.replace("-idx", ".idx")  # train-images-idx3-ubyte -> train-images.idx3-ubyte


@pytest.mark.parametrize("dot", [False, True], ids=["dashed", "dotted"])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gz"])
def test_either_spelling_gzipped_or_not_loads_and_verifies(tmp_path, synthetic, dot, compressed):
    d = tmp_path / "mnist"
    d.mkdir()
    for stem in STEMS:
        name = (dotted(stem) if dot else stem) + (".gz" if compressed else "")
        (d / name).write_bytes(synthetic.gz[stem] if compressed else synthetic.raw[stem])
    ds = load_dataset("mnist", d, allow_download=False, files=synthetic.specs)
    assert ds.source == d and ds.verified
    assert (ds.train_x.reshape(-1, 28, 28) == synthetic.arrays[STEMS[0]]).all()
    assert (ds.test_labels == synthetic.arrays[STEMS[3]]).all()


def test_a_dotted_copy_of_other_bytes_is_refused(tmp_path, synthetic):
    d = tmp_path / "mnist"
    d.mkdir()
    for stem in STEMS:
        (d / dotted(stem)).write_bytes(synthetic.raw[stem])
    (d / dotted(STEMS[1])).write_bytes(synthetic.raw[STEMS[3]])  # the test labels under the training name
    with pytest.raises(DataError, match=r"train-labels\.idx1-ubyte: not the published mnist file"):
        load_dataset("mnist", d, allow_download=False, files=synthetic.specs)


def test_mixed_spellings_in_one_folder(tmp_path, synthetic):
    d = tmp_path / "m"
    d.mkdir()
    for i, stem in enumerate(STEMS):
        (d / (dotted(stem) if i % 2 else f"{stem}.gz")).write_bytes(synthetic.raw[stem] if i % 2 else synthetic.gz[stem])
    assert load_dataset("mnist", d, allow_download=False, files=synthetic.specs).source == d


def test_spellings_in_lookup_order():
    assert spellings("t10k-labels-idx1-ubyte") == ("t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte",
                                                   "t10k-labels.idx1-ubyte.gz", "t10k-labels.idx1-ubyte")
