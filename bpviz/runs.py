"""Qt-free glue shared by the command line and the window: from a preset or a data set
name to the training and test sets, and from there to a Trainer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bpviz.data.toy import toy_set
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.trainer import Trainer

DATASETS = ("toy", "mnist", "fashion-mnist")


@dataclass
class RunData:
    name: str
    train: ArraySet
    test: ArraySet | None
    class_names: tuple[str, ...] | None
    identity: str  # a checksum of the files, or "toy"


def load_run_data(name: str, data_dir: str | None = None, *, allow_download: bool = True,
                  progress: Callable | None = None) -> RunData:
    """The data set `name`; raises bpviz.data.errors.DataError with a one-line message."""
    if name == "toy":
        return RunData("toy", toy_set(), None, None, "toy")
    if name not in DATASETS:
        from bpviz.engine.config import ConfigError
        raise ConfigError(f"unknown data set {name!r} (choose from {', '.join(DATASETS)})")
    from bpviz.data.datasets import load_dataset  # the IDX layer is only needed here
    ds = load_dataset(name, data_dir, allow_download=allow_download, progress=progress)
    return RunData(name, ds.train_set(), ds.test_set(), tuple(ds.class_names),
                   getattr(ds, "sha256", "") or name)


def make_trainer(cfg: NetConfig, data: RunData) -> Trainer:
    """Raises ConfigError when the configuration does not fit the data."""
    return Trainer(cfg, data.train)


# the shape of the built-in data sets, known before loading them:
# (features, outputs, classes or targets, training samples)
KNOWN_SHAPES = {"toy": (3, 1, False, 4), "mnist": (784, 10, True, 60000), "fashion-mnist": (784, 10, True, 60000)}


def fit_to_data(cfg: NetConfig, data: RunData) -> tuple[NetConfig, str]:
    """`cfg` with the input and output layers sized to `data`, an output/loss that fits its
    targets and a batch no larger than the set; the hidden layers are kept. Returns the
    fitted configuration and a one-line note of what changed ("" when nothing did)."""
    t = data.train
    return fit_to_shape(cfg, data.name, t.n_features, t.n_outputs, t.labels is not None, t.n_samples)


def fit_to_known(cfg: NetConfig, dataset: str) -> tuple[NetConfig, str]:
    """fit_to_data for a built-in data set, without loading it; unknown sets are left as they are."""
    shape = KNOWN_SHAPES.get(dataset)
    return fit_to_shape(cfg, dataset, *shape) if shape else (cfg, "")


def fit_to_shape(cfg: NetConfig, name: str, n_features: int, n_outputs: int, classes: bool,
                 n_samples: int) -> tuple[NetConfig, str]:
    changes, notes = {}, []
    sizes = (n_features,) + tuple(cfg.sizes[1:-1]) + (n_outputs,)
    if sizes != tuple(cfg.sizes):
        changes["sizes"] = sizes
        notes.append(f"{n_features} inputs and {n_outputs} outputs")
    softmax = cfg.output_loss.startswith("softmax")
    if classes and n_outputs >= 2 and not softmax:
        changes["output_loss"] = "softmax-ce"
        notes.append("softmax with cross-entropy for its classes")
    elif n_outputs < 2 and softmax:
        changes["output_loss"] = "sigmoid-mse"
        notes.append("a sigmoid output with squared error for its single target")
    if cfg.batch_size > n_samples:
        changes["batch_size"] = 0
        notes.append(f"the whole set as one batch ({n_samples} samples)")
    if not changes:
        return cfg, ""
    return cfg.with_(**changes), f"the network was fitted to {name}: " + ", ".join(notes) + " (hidden layers kept)"
