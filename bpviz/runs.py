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
