"""Property tests: whatever bytes the reader is given, it returns the array those bytes
encode exactly, or raises DataError; never another exception."""
from __future__ import annotations

import gzip
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.data.errors import DataError
from bpviz.data.idx import (IMAGES_MAGIC, LABELS_MAGIC, encode_idx, images_from_bytes, labels_from_bytes,
                            parse_idx, read_bytes)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes, magic=None):
    """Parse; a returned array must re-encode to exactly the input bytes."""
    try:
        arr = parse_idx(data, "fuzz", magic)
    except DataError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz")
        return None
    assert arr.dtype == np.uint8
    assert encode_idx(arr) == data  # header and every byte accounted for: nothing dropped, nothing invented
    if magic is not None:
        assert int.from_bytes(data[:4], "big") == magic
    return arr


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data):
    check(data)
    check(data, IMAGES_MAGIC)
    check(data, LABELS_MAGIC)


@st.composite
def valid_then_mutated(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    arr = np.frombuffer(draw(st.binary(min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                        dtype=np.uint8).reshape(shape)
    data = bytearray(encode_idx(arr))
    header = 4 + 4 * ndim
    for _ in range(draw(st.integers(0, 3))):  # overwrite header bytes: magic, dtype, ndim, dims
        data[draw(st.integers(0, header - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    tail = draw(st.binary(max_size=8))
    return bytes(data[:cut] + tail) if draw(st.booleans()) else bytes(data), arr


@FUZZ
@given(valid_then_mutated())
def test_mutated_headers(case):
    data, original = case
    arr = check(data)
    if data == encode_idx(original):
        assert arr is not None and np.array_equal(arr, original)


@FUZZ
@given(valid_then_mutated(), st.integers(10))
def test_images_and_labels_views(case, n_classes):
    data, _ = case
    try:
        x, (rows, cols) = images_from_bytes(data, "fuzz")
        assert x.shape[1] == rows * cols and x.dtype == np.uint8
    except DataError:
        pass
    try:
        y = labels_from_bytes(data, "fuzz", 10)
        assert y.ndim == 1 and (y.size == 0 or y.max() <= 9)
    except DataError:
        pass


def _not_idx(raw: bytes) -> bool:
    try:
        parse_idx(raw)
    except DataError:
        return True
    return False


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 60), st.binary(max_size=4))
def test_gzip_of_anything_cut_or_extended(payload, cut, tail):
    """Gzip streams cut short, extended with junk, or not gzip after the magic bytes."""
    whole = gzip.compress(payload, mtime=0)
    data = whole[: cut] + tail if cut < len(whole) else whole + tail
    fd, path = tempfile.mkstemp()
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            raw = read_bytes(path)
        except DataError as e:
            assert "\n" not in str(e) and str(e).startswith(path)
            return
        assert raw  # a successful read never gives empty bytes
        if data == whole:  # all of it, or (not IDX) no further than the header that says so
            assert raw == payload or (payload.startswith(raw) and _not_idx(raw))
        check(raw)
    finally:
        os.unlink(path)
