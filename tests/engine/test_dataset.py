"""ArraySet's float copy: made once per dtype when it fits the budget, with the very values
a per-batch conversion gives, and never written to."""
import numpy as np
import pytest

from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.trainer import Trainer


def images(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return ArraySet(rng.integers(0, 256, (n, 12), dtype=np.uint8), labels=rng.integers(0, 3, n),
                    n_classes=3, scale=1 / 255)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prepared_rows_equal_per_batch_conversion(dtype):
    fresh, prepared = images(), images()
    assert prepared.prepare(dtype)
    idx = np.random.default_rng(1).permutation(50)[:17]
    for got, want in zip(prepared.rows(idx, dtype), fresh.rows(idx, dtype)):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)  # bit for bit: same astype, same scale


def test_full_batch_is_the_copy_itself_and_read_only():
    d = images()
    d.prepare("float32")
    x, y = d.rows(np.arange(50), "float32")
    x2, _ = d.rows(slice(None), "float32")
    assert x is x2 and not x.flags.writeable and not y.flags.writeable
    xb, yb = d.batch(np.arange(50), "float32")  # batch() promises fresh, writeable arrays
    assert xb.flags.writeable and not np.shares_memory(xb, x)
    np.testing.assert_array_equal(xb, x)


def test_over_budget_converts_per_batch_and_another_dtype_replaces_the_copy():
    d = images()
    assert not d.prepare("float64", budget=50 * 15 * 8 - 1)
    x, _ = d.rows(np.arange(50), "float64")
    assert x.flags.writeable  # converted now, not shared
    assert d.prepare("float64") and d.prepare("float32")
    assert d._float[0] == np.float32  # only one dtype kept


def test_an_edited_input_never_reaches_the_data_sets_copy():
    d = images()
    cfg = NetConfig((12, 4, 3), hidden="relu", output_loss="softmax-ce", init="he", seed=0, batch_size=0)
    t = Trainer(cfg, d)
    before = d.rows(slice(None), t.dtype)[0].copy()
    t.set_input(3, np.full(12, 0.5))
    r = t.finish_step()
    np.testing.assert_array_equal(r.arrays["X"][3], np.full(12, 0.5))
    np.testing.assert_array_equal(d.rows(slice(None), t.dtype)[0], before)


def test_training_from_the_copy_matches_training_without_it():
    cfg = NetConfig((12, 5, 3), hidden="relu", output_loss="softmax-ce", init="he", seed=2, batch_size=8,
                    dtype="float32")
    a = Trainer(cfg, images())
    b = Trainer(cfg, images())
    b.data.release()  # b converts every batch
    a.run_steps(20)
    b.run_steps(20)
    for (wa, ba), (wb, bb) in zip(a.params, b.params):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ba, bb)
