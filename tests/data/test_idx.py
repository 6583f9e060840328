"""The IDX reader on files the tests write: raw and gzip, and every way a file can be bad."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from bpviz.data.errors import DataError
from bpviz.data.idx import (encode_idx, parse_idx, read_bytes, read_idx, read_images, read_labels, read_pair,
                            write_idx)


def images(n=5, rows=28, cols=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, rows, cols), dtype=np.uint8)  # (n, rows, cols)


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


@pytest.mark.parametrize("compressed", [False, True])
def test_images_and_labels_round_trip(tmp_path, compressed):
    x = images(7, 3, 4)
    y = np.array([0, 9, 3, 3, 1, 5, 2], dtype=np.uint8)
    pi = write_idx(tmp_path / "imgs", x, gzip=compressed)
    pl = write_idx(tmp_path / "labs", y, gzip=compressed)
    assert (pi.read_bytes()[:2] == b"\x1f\x8b") == compressed
    flat, shape = read_images(pi)
    assert shape == (3, 4)
    assert flat.dtype == np.uint8 and flat.shape == (7, 12)
    np.testing.assert_array_equal(flat, x.reshape(7, 12))
    labels = read_labels(pl)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, y)
    fx, fy, _ = read_pair(pi, pl)
    np.testing.assert_array_equal(fy, y)


def test_gzip_is_detected_by_magic_bytes_not_name(tmp_path):
    x = images(2)
    gz_named_raw = tmp_path / "a.gz"
    gz_named_raw.write_bytes(encode_idx(x))  # uncompressed despite the name
    raw_named_gz = tmp_path / "b-idx3-ubyte"
    raw_named_gz.write_bytes(gzip.compress(encode_idx(x)))  # compressed without the name
    for p in (gz_named_raw, raw_named_gz):
        np.testing.assert_array_equal(read_images(p)[0], x.reshape(2, 784))


def test_header_bytes_are_big_endian(tmp_path):
    data = encode_idx(images(3, 2, 5))
    assert data[:4] == bytes([0, 0, 8, 3])
    assert struct.unpack(">3I", data[4:16]) == (3, 2, 5)
    assert len(data) == 16 + 3 * 2 * 5


def test_arrays_stay_uint8_and_are_not_copied_to_float(tmp_path):
    p = write_idx(tmp_path / "i", images(4))
    flat, _ = read_images(p)
    assert flat.dtype == np.uint8 and flat.nbytes == 4 * 784
    assert not flat.flags.writeable  # a view of the file's bytes: nobody edits the data set in place


def write(tmp_path, data: bytes, name="f-idx3-ubyte") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_empty_file(tmp_path):
    p = write(tmp_path, b"")
    with pytest.raises(DataError) as e:
        read_images(p)
    assert one_line(e) == f"{p}: the file is empty"


def test_empty_gzip_stream(tmp_path):
    p = write(tmp_path, gzip.compress(b""))
    with pytest.raises(DataError, match="empty") as e:
        read_labels(p)
    assert p in one_line(e)


@pytest.mark.parametrize("cut", [5, 20, -9])
def test_truncated_gzip(tmp_path, cut):
    good = gzip.compress(encode_idx(images(3)))
    p = write(tmp_path, good[:cut])
    with pytest.raises(DataError, match="truncated gzip|corrupt gzip") as e:
        read_images(p)
    assert one_line(e).startswith(p + ": ")


def test_corrupt_gzip(tmp_path):
    good = bytearray(gzip.compress(encode_idx(images(3))))
    good[len(good) // 2] ^= 0xFF  # a flipped byte in the deflate stream or a CRC failure
    p = write(tmp_path, bytes(good))
    with pytest.raises(DataError, match="gzip") as e:
        read_images(p)
    assert one_line(e).startswith(p + ": ")


def test_gzip_magic_then_garbage(tmp_path):
    p = write(tmp_path, b"\x1f\x8b" + b"not really gzip at all")
    with pytest.raises(DataError, match=r"corrupt gzip data") as e:
        read_images(p)
    assert p in one_line(e)


def test_images_file_given_as_labels_is_wrong_magic(tmp_path):
    pi = write_idx(tmp_path / "i", images(2))
    with pytest.raises(DataError) as e:
        read_labels(pi)
    assert one_line(e) == (f"{pi}: wrong magic number 2051 (0x00000803); labels files have 2049 (0x00000801)")


def test_labels_file_given_as_images_is_wrong_magic(tmp_path):
    pl = write_idx(tmp_path / "l", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"wrong magic number 2049 .*images files have 2051"):
        read_images(pl)


def test_magic_not_starting_with_zero_bytes(tmp_path):
    p = write(tmp_path, b"\x89PNG\r\n\x1a\n" + bytes(40))
    with pytest.raises(DataError, match=r"not an IDX file \(magic number 0x89504e47") as e:
        read_images(p)
    assert p in one_line(e)


@pytest.mark.parametrize("dtype_byte,name", [(0x09, "signed byte"), (0x0D, "float"), (0x42, "unknown")])
def test_unsupported_dtype_byte(tmp_path, dtype_byte, name):
    data = bytearray(encode_idx(images(2)))
    data[2] = dtype_byte
    p = write(tmp_path, bytes(data))
    with pytest.raises(DataError) as e:
        read_images(p)
    assert one_line(e) == (f"{p}: unsupported IDX dtype byte 0x{dtype_byte:02x} ({name}); "
                           "only 0x08 (unsigned byte) is supported")


def test_dimensions_longer_than_file(tmp_path):
    data = encode_idx(images(3))
    p = write(tmp_path, data[:-10])
    with pytest.raises(DataError) as e:
        read_images(p)
    assert one_line(e) == f"{p}: truncated: dimensions 3x28x28 need 2352 data bytes but the file has 2342"


def test_trailing_bytes(tmp_path):
    p = write(tmp_path, encode_idx(images(3)) + b"xyz")
    with pytest.raises(DataError) as e:
        read_images(p)
    assert one_line(e) == f"{p}: 3 trailing bytes after the 2352 data bytes of dimensions 3x28x28"


def test_huge_claimed_dimensions_do_not_allocate(tmp_path):
    p = write(tmp_path, bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1) + bytes(10))
    with pytest.raises(DataError, match="truncated: dimensions 4294967295x"):
        read_images(p)


def test_truncated_header(tmp_path):
    p = write(tmp_path, bytes([0, 0, 8, 3, 0, 0, 0, 5]))
    with pytest.raises(DataError) as e:
        read_images(p)
    assert one_line(e) == f"{p}: truncated IDX header (8 bytes, 3 dimensions need 16)"


def test_too_short_for_header(tmp_path):
    p = write(tmp_path, b"\x00\x00")
    with pytest.raises(DataError, match=r"too short for an IDX header \(2 bytes"):
        read_idx(p)


def test_zero_dimensions(tmp_path):
    p = write(tmp_path, bytes([0, 0, 8, 0]))
    with pytest.raises(DataError, match="0 dimensions"):
        read_idx(p)


def test_label_outside_0_to_9(tmp_path):
    p = write_idx(tmp_path / "l", np.array([1, 2, 10, 3], np.uint8))
    with pytest.raises(DataError) as e:
        read_labels(p)
    assert one_line(e) == f"{p}: label 10 at index 2 is outside 0-9"


def test_label_255(tmp_path):
    p = write_idx(tmp_path / "l", np.array([255], np.uint8), gzip=True)
    with pytest.raises(DataError, match="label 255 at index 0 is outside 0-9"):
        read_labels(p)


def test_image_and_label_counts_differ(tmp_path):
    pi = write_idx(tmp_path / "i", images(5))
    pl = write_idx(tmp_path / "l", np.zeros(4, np.uint8))
    with pytest.raises(DataError) as e:
        read_pair(pi, pl)
    assert one_line(e) == f"{pi} has 5 images but {pl} has 4 labels"


def test_missing_file(tmp_path):
    p = tmp_path / "nothing-here"
    with pytest.raises(DataError, match=r"cannot read the file \(No such file or directory\)") as e:
        read_bytes(p)
    assert str(p) in one_line(e)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="cannot read the file"):
        read_bytes(tmp_path)


def test_writer_refuses_non_uint8(tmp_path):
    with pytest.raises(ValueError, match="only uint8"):
        write_idx(tmp_path / "x", np.zeros(3, np.float32))


def test_empty_array_with_dimensions_past_numpy_is_refused():
    # zero images of 3355443200 x 2751463424: no data, but NumPy cannot shape it (found by the fuzz test)
    data = b"\x00\x00\x08\x03" + struct.pack(">3I", 3355443200, 2751463424, 0)
    with pytest.raises(DataError, match="dimensions 3355443200x2751463424x0 cannot be held in an array"):
        parse_idx(data, "f")
