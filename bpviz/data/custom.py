"""A folder of the user's own IDX files: any image size, the classes its labels hold.

The folder holds four files, each gzipped or not, with a dash or a dot before `idx` and
an optional prefix shared by all four (EMNIST's `emnist-letters-`):

    train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte

(`test-` may stand for `t10k-`). Nothing is checked against a published checksum, so the
data set is "unverified: your data" -- unless all four files are byte for byte MNIST or
Fashion-MNIST, which are then named and verified as such. Its structure is checked: a size
budget from the headers before any data is read, image and label counts, equal image sizes
in training and test files, and every test label being a class the training labels hold.
Classes are the distinct training labels in increasing order, named by their values.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from bpviz.data.datasets import CLASS_NAMES, ImageDataset
from bpviz.data.download import FILES
from bpviz.data.errors import DataError
from bpviz.data.idx import GZIP_MAGIC, check_counts, images_from_bytes, labels_from_bytes, read_bytes

MAX_BYTES = 1 << 30  # data bytes of the four files together; bigger sets are refused before reading
_NAME = re.compile(r"^(?P<prefix>.*?)(?P<part>train|t10k|test)-(?P<kind>images|labels)[-.]"
                   r"idx(?P<dims>[13])-ubyte(?P<gz>\.gz)?$")
ROLES = (("train", "images"), ("train", "labels"), ("test", "images"), ("test", "labels"))


def find_idx_files(directory: Path) -> list[Path] | None:
    """The four files (train images, train labels, test images, test labels) in `directory`,
    or None when it holds none of them; DataError when only some are there or when several
    data sets share the folder."""
    found: dict[str, dict[tuple[str, str], list[Path]]] = {}
    try:
        names = sorted(p.name for p in directory.iterdir() if p.is_file())
    except OSError as e:
        raise DataError(f"{directory}: cannot list the folder ({e.strerror or e})") from None
    for name in names:
        m = _NAME.match(name)
        if m is None or (m["kind"] == "images") != (m["dims"] == "3"):
            continue
        part = "train" if m["part"] == "train" else "test"
        found.setdefault(m["prefix"], {}).setdefault((part, m["kind"]), []).append(directory / name)
    if not found:
        return None
    if len(found) > 1:
        prefixes = ", ".join(repr(p) if p else "(no prefix)" for p in found)
        raise DataError(f"{directory}: holds the IDX files of several data sets (prefixes {prefixes}); "
                        f"give a folder with one of them")
    prefix, roles = next(iter(found.items()))
    missing = [f"{prefix}{'t10k' if part == 'test' else part}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
               for part, kind in ROLES if (part, kind) not in roles]
    if missing:
        raise DataError(f"{directory}: {', '.join(missing)} (or .gz, or with a dot before idx) is missing; "
                        f"a data set folder holds four IDX files")
    # gzipped first, then dashed: the same order as the named data sets look in
    return [sorted(roles[r], key=lambda p: (p.suffix != ".gz", ".idx" in p.name))[0] for r in ROLES]


def _data_bytes(path: Path) -> int:
    """The data bytes the IDX header of `path` declares, read without reading the data."""
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw) if magic == GZIP_MAGIC else raw
            head = f.read(4)
            if len(head) < 4 or head[:2] != b"\x00\x00":
                return 0  # not an IDX header: reading the file names the problem
            dims = f.read(4 * head[3])
    except (OSError, EOFError, zlib.error):
        return 0  # a damaged file: reading it names the problem
    if len(dims) < 4 * head[3]:
        return 0
    total = 1
    for d in struct.unpack(f">{head[3]}I", dims):
        total *= d
    return total


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 2**20 else f"{n / 2**20:,.0f} MiB"


def _published_name(digests: list[str]) -> str | None:
    for name, specs in FILES.items():
        if [s.raw_sha256 for s in specs] == digests:
            return name
    return None


def load_idx_folder(directory: str | os.PathLike, max_bytes: int = MAX_BYTES) -> ImageDataset:
    """The four IDX files in `directory` as a data set; DataError with one line."""
    directory = Path(directory)
    paths = find_idx_files(directory)
    if paths is None:
        raise DataError(f"{directory}: no IDX files here (looked for train-images-idx3-ubyte, "
                        f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
                        f"each .gz or not, with a dash or a dot before idx)")
    declared = sum(_data_bytes(p) for p in paths)
    if declared > max_bytes:
        raise DataError(f"{directory}: the IDX headers declare {_size(declared)} of data, more than "
                        f"the {_size(max_bytes)} bpviz loads")
    data = [read_bytes(p) for p in paths]
    train_x, shape = images_from_bytes(data[0], paths[0])  # (N, rows*cols) uint8
    train_y = labels_from_bytes(data[1], paths[1], 256)  # (N,) uint8, any byte a label
    test_x, test_shape = images_from_bytes(data[2], paths[2])  # (M, rows*cols)
    test_y = labels_from_bytes(data[3], paths[3], 256)  # (M,)
    check_counts(train_x, train_y, paths[0], paths[1])
    check_counts(test_x, test_y, paths[2], paths[3])
    if test_shape != shape:
        raise DataError(f"{paths[2]}: images are {test_shape[0]}x{test_shape[1]} but the training "
                        f"images in {paths[0]} are {shape[0]}x{shape[1]}")
    if len(train_x) == 0:
        raise DataError(f"{paths[0]}: holds no images")
    classes = np.unique(train_y)  # (k,) sorted label values
    if len(classes) < 2:
        raise DataError(f"{paths[1]}: every label is {int(classes[0])}; a classifier needs at least 2 classes")
    unknown = ~np.isin(test_y, classes)
    if unknown.any():
        i = int(np.argmax(unknown))
        raise DataError(f"{paths[3]}: label {int(test_y[i])} at index {i} is not a class of the training "
                        f"labels in {paths[1]} ({', '.join(str(int(c)) for c in classes[:12])}"
                        f"{', ...' if len(classes) > 12 else ''})")
    if not np.array_equal(classes, np.arange(len(classes))):
        # labels such as EMNIST letters' 1-26 become class indices 0-25, named by their values
        train_y = np.searchsorted(classes, train_y).astype(np.uint8)  # (N,)
        test_y = np.searchsorted(classes, test_y).astype(np.uint8)  # (M,)
    digests = [hashlib.sha256(d).hexdigest() for d in data]
    known = _published_name(digests)
    stems = {p.name: d for p, d in zip(paths, digests)}
    identity = hashlib.sha256("\n".join(f"{k} {v}" for k, v in stems.items()).encode()).hexdigest()
    names = CLASS_NAMES[known] if known else tuple(str(int(c)) for c in classes)
    return ImageDataset(known or str(directory), train_x, train_y, test_x, test_y, shape, names,
                        identity, directory, stems, verified=known is not None)
