"""bpviz: backpropagation made visible, one equation at a time.

In a notebook, the engine without the window:

    import bpviz
    t = bpviz.trainer("toy")            # a preset; keyword options override it (lr=0.5, hidden="tanh")
    r = t.next_stage()                  # one equation; r.spec.eq is its id, e.g. "F1"
    r.arrays["Z1"]                      # every array of the step so far, by name
    t.finish_pass(); t.finish_step(); t.run_steps(100)
    bpviz.outputs(t)                    # the network's outputs on the training set

Importing bpviz loads nothing heavy: NumPy and the engine come with the first call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import numpy as np

    from bpviz.engine.trainer import Trainer

# the engine's names, loaded when first used (`bpviz --version` stays fast)
_LAZY = {
    "Trainer": "bpviz.engine.trainer", "DivergenceError": "bpviz.engine.trainer",
    "NetConfig": "bpviz.engine.config", "ConfigError": "bpviz.engine.config",
    "StageResult": "bpviz.engine.snapshot", "StageSpec": "bpviz.engine.snapshot",
    "CATALOGUE": "bpviz.engine.equations", "PRESETS": "bpviz.engine.presets",
}

__all__ = ["__version__", "trainer", "outputs", "equation", "load_data", "step_plan", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bpviz' has no attribute {name!r}")


def load_data(dataset: str = "toy", data_dir: str | None = None):
    """The training and test sets of "toy", "mnist" or "fashion-mnist" (`.train`, `.test`),
    found or downloaded as `bpviz train` does."""
    from bpviz.runs import load_run_data
    return load_run_data(dataset, data_dir)


def trainer(preset: str = "toy", *, dataset: str | None = None, data_dir: str | None = None,
            **options) -> "Trainer":
    """A Trainer for `preset` ("toy", "mnist", "mnist-10", "mnist-approx") on its data set
    or `dataset`; `options` are NetConfig fields that override the preset: sizes, hidden,
    output_loss, lr, batch_size, seed, init, dtype, reduction, bias, per_sample, shuffle,
    leaky_slope. Raises ConfigError (one line, naming the setting) for an impossible setup.

    Step it with next_stage() (one equation), next_sample(), finish_pass(), finish_step(),
    finish_epoch() or run_steps(n); each returns a StageResult whose `arrays` maps every
    name of the step so far (X, A0, Y, W1, b1, Z1, A1, ..., loss, Delta2, dW2, db2, dA1,
    ..., W1_after, b1_after) to a read-only NumPy array."""
    from dataclasses import fields

    from bpviz.engine.config import ConfigError, NetConfig
    from bpviz.engine.presets import get_preset
    from bpviz.runs import make_trainer
    p = get_preset(preset)
    known = {f.name for f in fields(NetConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r} (choose from {', '.join(sorted(known))})")
    cfg = p.config.with_(**options).validate()
    return make_trainer(cfg, load_data(dataset or p.dataset, data_dir))


def outputs(t: "Trainer", x: "np.ndarray | None" = None) -> "np.ndarray":
    """The network's outputs for the inputs `x` (rows are samples; default: the whole
    training set) with the trainer's current weights, i.e. after its last completed update."""
    import numpy as np

    from bpviz.engine.network import predict
    if x is None:
        x, _ = t.data.batch(np.arange(t.data.n_samples), t.dtype)  # (n, n0)
    return predict(t.params, np.asarray(x, dtype=t.dtype), t.cfg)  # (n, nL)


def equation(eq_id: str):
    """The catalogue entry of an equation id ("F1", "B1-CE", ..., "U1"): its title, its
    row and column forms as text, its sources and their slips."""
    from bpviz.engine.equations import CATALOGUE
    return CATALOGUE[eq_id]


def step_plan(t: "Trainer"):
    """The stages (StageSpec: equation id, layer, phase, sample) of the trainer's current step."""
    return t.plan
