"""Qt-free glue shared by the command line and the window: from a preset, a data set name
or a path to the training and test sets, and from there to a Trainer.

A data set is named (`toy`, `mnist`, `fashion-mnist`, and the 2-D sets `xor`, `circle`,
`gauss`, `spiral`) or given as a path: a folder of IDX files (bpviz.data.custom) or a
CSV file (bpviz.data.csvdata). How a path is read is set by DataOptions.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bpviz.data.planar import EXTENT, PLANAR_NAMES
from bpviz.data.toy import toy_set
from bpviz.engine.config import ConfigError, NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.trainer import Trainer

DATASETS = ("toy", "mnist", "fashion-mnist") + PLANAR_NAMES
UNVERIFIED = "unverified: your data"


@dataclass(frozen=True)
class DataOptions:
    """How a data set is read; every field has the command line's default."""
    label_column: str | None = None  # CSV: the label column (else label, target, y, class or species)
    test: str | None = None  # CSV: a second file with the test rows
    test_fraction: float | None = None  # CSV and 2-D sets: the share held out for testing (None: 0.2)
    noise: float = 0.0  # 2-D sets: Playground's noise, 0 to 0.5
    standardize: bool = True  # CSV: numeric columns to mean 0, deviation 1 (training rows' statistics)
    seed: int = 0  # the hold-out and the 2-D points

    @property
    def fraction(self) -> float:
        return 0.2 if self.test_fraction is None else self.test_fraction

    def check(self, kind: str, name: str) -> None:
        """ConfigError naming an option that does not apply to the data set `name` of `kind`
        ("named", "planar", "folder" or "csv"), or is out of range."""
        if self.test is not None and self.test_fraction is not None:
            raise ConfigError("give --test or --test-fraction, not both")
        if self.test is not None and kind == "csv" and not Path(self.test).is_file():
            raise ConfigError(f"--test: no such file: {self.test}")
        if not 0 <= self.fraction < 1:
            raise ConfigError(f"--test-fraction must be at least 0 and below 1 (got {self.fraction:g})")
        if not 0 <= self.noise <= 0.5:
            raise ConfigError(f"--noise must be between 0 and 0.5, as Playground's 0-50 % (got {self.noise:g})")
        for option, given, kinds in (("--label-column", self.label_column is not None, ("csv",)),
                                     ("--test", self.test is not None, ("csv",)),
                                     ("--no-standardize", not self.standardize, ("csv",)),
                                     ("--test-fraction", self.test_fraction is not None, ("csv", "planar")),
                                     ("--noise", self.noise != 0, ("planar",))):
            if given and kind not in kinds:
                what = {("csv",): "a CSV file", ("planar",): "the 2-D sets " + ", ".join(PLANAR_NAMES),
                        ("csv", "planar"): "a CSV file and the 2-D sets"}[kinds]
                raise ConfigError(f"{option} applies only to {what}, not to {name}")


@dataclass
class RunData:
    name: str  # the name, or the path as given
    train: ArraySet
    test: ArraySet | None
    class_names: tuple[str, ...] | None
    identity: str  # a checksum of the files, or what generates the points
    verified: bool = True  # False: the user's own files, checked for structure only
    task: str = "classification"  # or "regression": one number per sample, squared error
    feature_names: tuple[str, ...] | None = None  # CSV columns (one-hot ones as "column=value")
    notes: tuple[str, ...] = ()  # what was done to the data, e.g. rows dropped
    target_mean: float = 0.0  # regression: the value a target of 0 stands for
    target_std: float = 1.0  # regression: the size of one unit of the target
    extent: tuple[float, float, float, float] | None = None  # 2-D sets: (x0, x1, y0, y1) of the plane to draw

    @property
    def verification(self) -> str:
        if not self.verified:
            return UNVERIFIED
        return "built in" if self.name == "toy" or self.name in PLANAR_NAMES else "verified: the published files"


def _dataset_kind(name: str) -> str:
    if name in PLANAR_NAMES:
        return "planar"
    if name in DATASETS:
        return "named"
    path = Path(name)
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "csv"
    if not path.exists() and (os.sep in name or name.lower().endswith(".csv")):
        raise ConfigError(f"--dataset: no such file or folder: {name}")
    raise ConfigError(f"unknown data set {name!r} (choose from {', '.join(DATASETS)}, "
                      f"or give a folder of IDX files or a .csv file)")


def default_preset(dataset: str | None) -> str:
    """The preset a data set starts from when none is given: its own for the toy and 2-D
    sets, `mnist` for MNIST and Fashion-MNIST, `your-data` for a path."""
    if dataset in (None, "toy") or dataset in PLANAR_NAMES:
        return dataset or "toy"
    return "mnist" if dataset in DATASETS else "your-data"


def load_run_data(name: str, data_dir: str | None = None, *, allow_download: bool = True,
                  progress: Callable | None = None, options: DataOptions | None = None) -> RunData:
    """The data set `name` (a name or a path); raises ConfigError for a name or an option that
    does not fit, bpviz.data.errors.DataError with a one-line message for bad data."""
    options = options or DataOptions()
    kind = _dataset_kind(name)
    options.check(kind, name)
    if name == "toy":
        return RunData("toy", toy_set(), None, None, "toy")
    if kind == "planar":
        from bpviz.data.planar import CLASS_NAMES, FEATURE_NAMES, planar_data
        d = planar_data(name, noise=options.noise, seed=options.seed, test_fraction=options.fraction)
        sets = [ArraySet(x, labels=y, n_classes=2, name=f"{name} {part}")
                for x, y, part in ((d.train_x, d.train_labels, "train"), (d.test_x, d.test_labels, "test"))]
        return RunData(name, sets[0], sets[1] if len(d.test_x) else None, CLASS_NAMES, d.identity,
                       feature_names=FEATURE_NAMES, extent=EXTENT)
    if kind == "named":
        from bpviz.data.datasets import load_dataset  # the IDX layer is only needed here
        ds = load_dataset(name, data_dir, allow_download=allow_download, progress=progress)
        return RunData(name, ds.train_set(), ds.test_set(), tuple(ds.class_names),
                       getattr(ds, "sha256", "") or name)
    if kind == "folder":
        from bpviz.data.custom import load_idx_folder
        ds = load_idx_folder(name)
        return RunData(name, ds.train_set(), ds.test_set(), tuple(ds.class_names), ds.sha256,
                       verified=ds.verified)
    from bpviz.data.csvdata import load_csv
    t = load_csv(name, label_column=options.label_column, test_path=options.test,
                 test_fraction=options.fraction, standardize=options.standardize, seed=options.seed)
    sets = []
    for x, target, part in ((t.train_x, t.train_target, "train"), (t.test_x, t.test_target, "test")):
        if x is None:
            sets.append(None)
        elif t.class_names is None:
            sets.append(ArraySet(x, target[:, None], name=f"{name} {part}"))  # (n, 1) regression targets
        else:
            sets.append(ArraySet(x, labels=target, n_classes=len(t.class_names), scale=t.scale,
                                 name=f"{name} {part}", image_shape=t.image_shape))
    return RunData(name, sets[0], sets[1], t.class_names, t.sha256, verified=False, task=t.task,
                   feature_names=t.feature_names, notes=t.notes, target_mean=t.target_mean,
                   target_std=t.target_std)


def make_trainer(cfg: NetConfig, data: RunData) -> Trainer:
    """Raises ConfigError when the configuration does not fit the data."""
    return Trainer(cfg, data.train)


# the shape of the built-in data sets, known before loading them:
# (features, outputs, classes or targets, training samples with the default options)
KNOWN_SHAPES = {"toy": (3, 1, False, 4), "mnist": (784, 10, True, 60000), "fashion-mnist": (784, 10, True, 60000),
                **{name: (2, 2, True, 400) for name in PLANAR_NAMES}}
KNOWN_TEST_SIZES = {"mnist": 10000, "fashion-mnist": 10000, **{name: 100 for name in PLANAR_NAMES}}


def fit_to_data(cfg: NetConfig, data: RunData, **keep) -> tuple[NetConfig, str]:
    """`cfg` with the input and output layers sized to `data`, an output/loss that fits its
    targets (softmax + cross-entropy for classes, identity + squared error for a regression
    target) and a batch no larger than the set; the hidden layers are kept. Returns the
    fitted configuration and a one-line note of what changed ("" when nothing did).
    `keep` passes fit_to_shape's keyword options (what the user set by hand)."""
    t = data.train
    return fit_to_shape(cfg, data.name, t.n_features, t.n_outputs, t.labels is not None, t.n_samples,
                        regression=data.task == "regression", **keep)


def fit_to_known(cfg: NetConfig, dataset: str, **keep) -> tuple[NetConfig, str]:
    """fit_to_data for a built-in data set, without loading it; unknown sets are left as they are."""
    shape = KNOWN_SHAPES.get(dataset)
    return fit_to_shape(cfg, dataset, *shape, **keep) if shape else (cfg, "")


def fit_to_shape(cfg: NetConfig, name: str, n_features: int, n_outputs: int, classes: bool,
                 n_samples: int, *, regression: bool = False, hidden_sizes: tuple[int, ...] | None = None,
                 keep_sizes: bool = False, keep_output_loss: bool = False,
                 keep_batch: bool = False) -> tuple[NetConfig, str]:
    """`hidden_sizes` replaces the hidden layers; `keep_*` leave what the user set by hand
    (a misfit is then the Trainer's ConfigError)."""
    changes, notes = {}, []
    hidden = tuple(hidden_sizes) if hidden_sizes else tuple(cfg.sizes[1:-1])
    sizes = (n_features,) + hidden + (n_outputs,)
    if keep_sizes:
        if hidden_sizes:
            raise ConfigError("give --sizes or --hidden-sizes, not both")
    elif sizes != tuple(cfg.sizes):
        changes["sizes"] = sizes
        notes.append(f"{n_features} inputs and {n_outputs} outputs")
    softmax = cfg.output_loss.startswith("softmax")
    if keep_output_loss:
        pass
    elif regression and cfg.output_loss != "identity-mse":
        changes["output_loss"] = "identity-mse"
        notes.append("an identity output with squared error for its numbers")
    elif classes and n_outputs >= 2 and not softmax:
        changes["output_loss"] = "softmax-ce"
        notes.append("softmax with cross-entropy for its classes")
    elif n_outputs < 2 and softmax:
        changes["output_loss"] = "sigmoid-mse"
        notes.append("a sigmoid output with squared error for its single target")
    if cfg.batch_size > n_samples and not keep_batch:
        changes["batch_size"] = 0
        notes.append(f"the whole set as one batch ({n_samples} samples)")
    if not changes:
        return cfg, ""
    kept = "hidden layers " + ",".join(map(str, hidden)) if hidden_sizes else "hidden layers kept"
    return cfg.with_(**changes), f"the network was fitted to {name}: " + ", ".join(notes) + f" ({kept})"


def scores(params, cfg: NetConfig, data: RunData, dtype=None, max_bytes: int | None = None) -> dict[str, float]:
    """How well `params` do on the training and test sets: `train_accuracy`/`test_accuracy`
    (the share whose largest output is their class) for classes, `train_rmse`/`test_rmse`
    (root mean squared error, in the units of the CSV's target column) for regression.
    Rows go through in chunks within `max_bytes` (default: the memory budget). A diverged
    network's NaN outputs count as wrong."""
    from bpviz.engine.budget import accuracy_chunk, memory_limit
    from bpviz.engine.network import ACCURACY_CHUNK_BYTES, accuracy, predict
    dtype = np.dtype(dtype if dtype is not None else cfg.dtype)
    out: dict[str, float] = {}
    for part, data_set in (("train", data.train), ("test", data.test)):
        if data_set is None or data_set.n_samples == 0:
            continue
        if data.task != "regression":
            acc = accuracy(params, cfg, data_set, dtype, max_bytes)
            if acc is not None:  # a single 0/1 target (the toy set) has no classes: its outputs are reported
                out[f"{part}_accuracy"] = acc
            continue
        limit = min(memory_limit()[0] if max_bytes is None else max_bytes, ACCURACY_CHUNK_BYTES)
        chunk = accuracy_chunk(cfg.with_(dtype=dtype.name), data_set.n_samples, limit)
        total = 0.0
        for start in range(0, data_set.n_samples, chunk):
            idx = np.arange(start, min(start + chunk, data_set.n_samples))
            x, y = data_set.batch(idx, dtype)  # (chunk, n0), (chunk, nL)
            with np.errstate(all="ignore"):
                a = predict(params, x, cfg)  # (chunk, nL)
            err = (a.astype(np.float64) - y) * data.target_std  # (chunk, 1) in the target's units
            total += float(np.sum(err * err)) if np.all(np.isfinite(err)) else float("inf")
        out[f"{part}_rmse"] = float(np.sqrt(total / data_set.n_samples))
    return out
