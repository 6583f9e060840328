"""MNIST and Fashion-MNIST as uint8 arrays, found locally or downloaded, always verified.

Where the four IDX files of data set NAME are looked for, in order:

1. `data_dir` when given: the files directly in it, or in `data_dir/NAME/`;
   otherwise `$BPVIZ_DATA_DIR/NAME/` when the environment variable BPVIZ_DATA_DIR is set;
2. the user cache, `platformdirs.user_cache_dir("bpviz")/NAME/`;
3. for fashion-mnist, Debian's dataset-fashion-mnist package: /usr/share/datasets/fashion-mnist/
   (it ships the four `*-ubyte.gz` files, recompressed but with Zalando's bytes inside);
4. a download (bpviz.data.download) into `data_dir`, else `$BPVIZ_DATA_DIR/NAME/`, else the cache.

Each file may be `train-images-idx3-ubyte.gz` or uncompressed `train-images-idx3-ubyte`
(likewise train-labels-idx1, t10k-images-idx3, t10k-labels-idx1), and each name may have a
dot before `idx` instead of the dash (`train-images.idx3-ubyte`, as Kaggle's copy and several
Python packages spell it). A directory counts only when all four are there. The decompressed bytes of every file are checked against the
published data's SHA-256, so a copy from anywhere is the real data set or a DataError.
Images stay uint8 (N, 784): the engine scales each batch by 1/255 as it draws it.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from platformdirs import user_cache_dir

from bpviz.data.download import FILES, RemoteFile, download_dataset
from bpviz.data.errors import DataError
from bpviz.data.idx import check_counts, images_from_bytes, labels_from_bytes, read_hashed

DATASET_NAMES = ("mnist", "fashion-mnist")
CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
DEBIAN_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
ENV_DATA_DIR = "BPVIZ_DATA_DIR"


@dataclass(frozen=True)
class ImageDataset:
    name: str
    train_x: np.ndarray  # (60000, 784) uint8, read-only
    train_labels: np.ndarray  # (60000,) uint8
    test_x: np.ndarray  # (10000, 784) uint8
    test_labels: np.ndarray  # (10000,) uint8
    image_shape: tuple[int, int]
    class_names: tuple[str, ...]
    sha256: str  # identity: SHA-256 over the four files' decompressed SHA-256s, whatever the compression
    source: Path  # the directory the files were read from
    file_sha256: dict[str, str] = field(default_factory=dict)  # decompressed SHA-256 per file stem
    verified: bool = True  # False for a folder of the user's own IDX files (bpviz.data.custom)

    def train_set(self):
        return self._set(self.train_x, self.train_labels, "train")

    def test_set(self):
        return self._set(self.test_x, self.test_labels, "test")

    def _set(self, x, labels, part):
        from bpviz.engine.dataset import ArraySet  # the engine is only needed once sets are made
        return ArraySet(x, labels=labels, n_classes=len(self.class_names), scale=1 / 255,
                        name=f"{self.name} {part}", image_shape=self.image_shape)


def cache_dir(name: str) -> Path:
    return Path(user_cache_dir("bpviz")) / name


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories looked in for `name`, in order (they need not exist)."""
    dirs: list[Path] = []
    if data_dir is not None:
        dirs += [Path(data_dir), Path(data_dir) / name]
    elif os.environ.get(ENV_DATA_DIR):
        dirs.append(Path(os.environ[ENV_DATA_DIR]) / name)
    dirs.append(cache_dir(name))
    if name in DEBIAN_DIRS:
        dirs.append(DEBIAN_DIRS[name])
    return dirs


def download_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where a download of `name` goes: data_dir, else $BPVIZ_DATA_DIR/name, else the cache."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]) / name
    return cache_dir(name)


def spellings(stem: str) -> tuple[str, ...]:
    """The names a file `stem` (e.g. train-images-idx3-ubyte) is looked for under, in order."""
    dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte
    return (f"{stem}.gz", stem, f"{dotted}.gz", dotted)


def find_files(directory: Path, specs: Sequence[RemoteFile]) -> list[Path] | None:
    """The four files in `directory` (each .gz or uncompressed, either spelling), or None if
    any is missing."""
    found = []
    for spec in specs:
        for candidate in (directory / name for name in spellings(spec.stem)):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _verified_bytes(path: Path, spec: RemoteFile, name: str) -> bytes:
    data, digest = read_hashed(path, spec.raw_size)  # stops past the published size: no gzip bomb
    if digest != spec.raw_sha256:
        raise DataError(f"{path}: not the published {name} file {spec.stem} (SHA-256 of its contents is "
                        f"{digest[:16]}..., expected {spec.raw_sha256[:16]}...); delete it to download it again")
    return data


def read_dataset(name: str, directory: Path, files: Sequence[RemoteFile] | None = None) -> ImageDataset:
    """The data set from the four files in `directory`, verified; DataError when not all there."""
    specs = tuple(files) if files is not None else FILES[name]
    paths = find_files(directory, specs)
    if paths is None:
        raise DataError(f"{directory}: the {name} files are not all there "
                        f"(need {', '.join(s.stem + '[.gz]' for s in specs)})")
    data = [_verified_bytes(p, s, name) for p, s in zip(paths, specs)]
    n_classes = len(CLASS_NAMES[name])
    train_x, shape = images_from_bytes(data[0], paths[0])  # (60000, 784)
    train_y = labels_from_bytes(data[1], paths[1], n_classes)  # (60000,)
    test_x, test_shape = images_from_bytes(data[2], paths[2])  # (10000, 784)
    test_y = labels_from_bytes(data[3], paths[3], n_classes)  # (10000,)
    check_counts(train_x, train_y, paths[0], paths[1])
    check_counts(test_x, test_y, paths[2], paths[3])
    if test_shape != shape:
        raise DataError(f"{paths[2]}: images are {test_shape[0]}x{test_shape[1]} but the training "
                        f"images in {paths[0]} are {shape[0]}x{shape[1]}")
    digests = {s.stem: s.raw_sha256 for s in specs}
    identity = hashlib.sha256("\n".join(f"{k} {v}" for k, v in digests.items()).encode()).hexdigest()
    return ImageDataset(name, train_x, train_y, test_x, test_y, shape, CLASS_NAMES[name], identity,
                        directory, digests)


def locate(name: str, data_dir: str | os.PathLike | None = None,
           files: Sequence[RemoteFile] | None = None) -> Path | None:
    """The first search directory holding all four files of `name`, or None."""
    specs = tuple(files) if files is not None else FILES[name]
    for d in search_dirs(name, data_dir):
        if find_files(d, specs) is not None:
            return d
    return None


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *, allow_download: bool = True,
                 progress: Callable[[int, int | None, str], None] | None = None,
                 mirrors: Sequence[str] | None = None,
                 files: Sequence[RemoteFile] | None = None) -> ImageDataset:
    """MNIST or Fashion-MNIST, from the first place in the module docstring's order that has
    all four files, else downloaded (unless `allow_download` is False). `progress(done_bytes,
    total_bytes_or_None, file_name)` follows a download. `mirrors` and `files` override the
    built-in mirrors and published digests (tests use them). Raises DataError with one line."""
    if name not in DATASET_NAMES:
        raise DataError(f"unknown data set {name!r} (choose from {', '.join(DATASET_NAMES)})")
    found = locate(name, data_dir, files)
    if found is not None:
        return read_dataset(name, found, files)
    target = download_dir(name, data_dir)
    if not allow_download:
        places = ", ".join(str(d) for d in search_dirs(name, data_dir))
        raise DataError(f"{name} is not on this computer (looked in {places}); "
                        f"run `bpviz download {name}` or put its four IDX files into {target}")
    download_dataset(name, target, mirrors=mirrors, files=files, progress=progress)
    return read_dataset(name, target, files)
