"""IDX files (the MNIST format), read and written without any third-party reader.

Layout: two zero bytes, a dtype byte (only 0x08, unsigned bytes, is used by MNIST and
accepted here), a byte with the number of dimensions, one big-endian uint32 per
dimension, then the data in C order. Images have magic 0x00000803 = 2051 (N, rows,
cols), labels 0x00000801 = 2049 (N,). A file may be gzip-compressed; that is detected by
its first two bytes, never by its name.

Every problem raises DataError with one line naming the file.
"""
from __future__ import annotations

import gzip as _gzip
import hashlib
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from bpviz.data.errors import DataError
from bpviz.files import write_bytes

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08
IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension
_DTYPE_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int",
                0x0D: "float", 0x0E: "double"}


MAX_BYTES = 2 << 30  # the largest IDX file read without an explicit max_size: 2 GiB, held in memory
CHUNK = 1 << 20


def _open_regular(path: Path):
    """`path` opened for reading; a FIFO or device is refused without blocking on it."""
    from bpviz.files import NotRegularFile, open_regular
    try:
        return open_regular(path)
    except NotRegularFile as e:
        raise DataError(f"{path}: cannot read the file (it is {e.what}, not a regular file)") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror or e})") from None


def _declared_size(head: bytes) -> int | None:
    """Header plus data bytes the IDX header `head` declares, or None when `head` is not a
    complete uint8 IDX header (parse_idx then names the problem)."""
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] != UBYTE or head[3] == 0:
        return None
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    return header + math.prod(struct.unpack(f">{head[3]}I", head[4:header]))


def read_hashed(path: str | os.PathLike, max_size: int | None = None) -> tuple[bytes, str]:
    """(the file's contents, decompressed when it starts with the gzip magic bytes, and the
    SHA-256 of what was read). Read in chunks and refused as soon as the contents pass what the IDX header
    declares or `max_size` (default MAX_BYTES): a small .gz that unpacks to gigabytes costs
    one chunk of memory beyond the declared size, never the whole stream. Contents whose
    first bytes are not a uint8 IDX header are read no further than those bytes."""
    path = Path(path)
    limit = MAX_BYTES if max_size is None else max_size
    with _open_regular(path) as f:
        gz = f.read(2) == GZIP_MAGIC
        f.seek(0)
        src = _gzip.GzipFile(fileobj=f, mode="rb") if gz else f
        out, digest = io.BytesIO(), hashlib.sha256()

        def take(n: int) -> bytes:
            try:
                chunk = src.read(n)
            except EOFError:  # the stream ends before its end marker: a cut-off download
                raise DataError(f"{path}: truncated gzip data (the compressed stream ends early)") from None
            except (OSError, zlib.error) as e:  # BadGzipFile is an OSError; a bad CRC or block is zlib.error
                raise DataError(f"{path}: corrupt gzip data ({e})") from None
            out.write(chunk)
            digest.update(chunk)
            return chunk

        head = take(4)
        if len(head) == 4 and head[2] == UBYTE:
            head += take(4 * head[3])
        declared = _declared_size(head)
        if declared is not None:
            need = declared - len(head)
            shape = "x".join(str(d) for d in struct.unpack(f">{head[3]}I", head[4:len(head)]))
            size = os.fstat(f.fileno()).st_size
            if not gz and size < declared:  # known without reading
                raise DataError(f"{path}: truncated: dimensions {shape} need {need} data bytes but the file "
                                f"has {size - len(head)}")
            if declared > limit:
                raise DataError(f"{path}: its header declares dimensions {shape}, {declared} bytes, "
                                f"more than the {limit} bytes allowed")
            if not gz and size > declared:  # known without reading
                raise DataError(f"{path}: {size - declared} trailing bytes after the {need} data bytes "
                                f"of dimensions {shape}")
            limit = declared
        elif len(head) >= 4:  # not an IDX header: the first bytes are all parse_idx needs to say why
            return out.getvalue(), digest.hexdigest()
        while out.tell() <= limit:  # one byte past the limit is enough to refuse
            if not take(min(CHUNK, limit + 1 - out.tell())):
                break
        if out.tell() > limit:
            if declared is not None:
                raise DataError(f"{path}: more data after the {need} data bytes of dimensions {shape} "
                                f"(it {'unpacks' if gz else 'grew'} past the size its header declares)")
            raise DataError(f"{path}: {'unpacks to' if gz else 'holds'} more than the {limit} bytes allowed")
    if out.tell() == 0:
        raise DataError(f"{path}: the file is empty" + (" (a gzip stream with no data)" if gz else ""))
    return out.getvalue(), digest.hexdigest()


def read_bytes(path: str | os.PathLike, max_size: int | None = None) -> bytes:
    """The file's contents, decompressed when it starts with the gzip magic bytes; bounded
    as in read_hashed."""
    return read_hashed(path, max_size)[0]


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>", magic: int | None = None) -> np.ndarray:
    """The array an IDX file holds, as a read-only uint8 view of `data` (no copy).

    `magic` (2051 or 2049) also demands that exact kind of file."""
    if len(data) < 4:
        raise DataError(f"{path}: too short for an IDX header ({len(data)} bytes, need at least 4)")
    found = int.from_bytes(data[:4], "big")
    if data[:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (magic number 0x{found:08x} does not start with two zero bytes)")
    dtype, ndim = data[2], data[3]
    if dtype != UBYTE:
        what = _DTYPE_NAMES.get(dtype, "unknown")
        raise DataError(f"{path}: unsupported IDX dtype byte 0x{dtype:02x} ({what}); only 0x08 (unsigned byte) is supported")
    if magic is not None and found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels" if magic == LABELS_MAGIC else "data"
        raise DataError(f"{path}: wrong magic number {found} (0x{found:08x}); {kind} files have {magic} (0x{magic:08x})")
    if ndim == 0:
        raise DataError(f"{path}: the IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    need = 1
    for d in dims:
        need *= d  # Python ints: no overflow however large the header claims
    have = len(data) - header
    shape = "x".join(str(d) for d in dims)
    if have < need:
        raise DataError(f"{path}: truncated: dimensions {shape} need {need} data bytes but the file has {have}")
    if have > need:
        raise DataError(f"{path}: {have - need} trailing bytes after the {need} data bytes of dimensions {shape}")
    try:
        return np.frombuffer(data, dtype=np.uint8, count=need, offset=header).reshape(dims)
    except ValueError:  # an empty array whose other dimensions multiply past what NumPy can index
        raise DataError(f"{path}: dimensions {shape} cannot be held in an array") from None


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Any uint8 IDX file (raw or gzip) as an array of its own shape."""
    return parse_idx(read_bytes(path), path, magic)


def images_from_bytes(data: bytes, path: str | os.PathLike = "<bytes>") -> tuple[np.ndarray, tuple[int, int]]:
    """(images flattened to (N, rows*cols) uint8, (rows, cols)) from an images file's bytes."""
    arr = parse_idx(data, path, IMAGES_MAGIC)  # (N, rows, cols)
    n, rows, cols = arr.shape
    return arr.reshape(n, rows * cols), (rows, cols)  # (N, rows*cols), still a view


def labels_from_bytes(data: bytes, path: str | os.PathLike = "<bytes>", n_classes: int = 10) -> np.ndarray:
    """Labels (N,) uint8 from a labels file's bytes; every label must be below `n_classes`."""
    labels = parse_idx(data, path, LABELS_MAGIC)  # (N,)
    if labels.size and int(labels.max()) >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise DataError(f"{path}: label {int(labels[bad])} at index {bad} is outside 0-{n_classes - 1}")
    return labels


def read_images(path: str | os.PathLike) -> tuple[np.ndarray, tuple[int, int]]:
    """(images (N, rows*cols) uint8, (rows, cols)) from an IDX images file, raw or gzip."""
    return images_from_bytes(read_bytes(path), path)


def read_labels(path: str | os.PathLike, n_classes: int = 10) -> np.ndarray:
    """Labels (N,) uint8 from an IDX labels file, raw or gzip."""
    return labels_from_bytes(read_bytes(path), path, n_classes)


def check_counts(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    if len(images) != len(labels):
        raise DataError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")


def read_pair(images_path, labels_path, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(images (N, rows*cols), labels (N,), (rows, cols)); the two counts must agree."""
    x, shape = read_images(images_path)
    y = read_labels(labels_path, n_classes)
    check_counts(x, y, images_path, labels_path)
    return x, y, shape


def encode_idx(array: np.ndarray) -> bytes:
    """The raw IDX bytes of a uint8 array of 1 to 255 dimensions."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"only uint8 arrays can be written as IDX here, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX holds 1 to 255 dimensions, got {array.ndim}")
    header = bytes((0, 0, UBYTE, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, gzip: bool = False) -> Path:
    """Write `array` (uint8) as an IDX file, gzip-compressed when `gzip`; returns the path."""
    data = encode_idx(array)
    if gzip:
        data = _gzip.compress(data, mtime=0)  # mtime 0: the same array always gives the same bytes
    return write_bytes(path, data)
