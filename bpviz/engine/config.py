"""One frozen configuration for a network and its training."""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, fields, replace

from .activations import HIDDEN_ACTIVATIONS
from .losses import OUTPUT_LOSSES

INITS = ("uniform01", "uniform-half", "he", "xavier")
REDUCTIONS = ("mean", "sum")
DTYPES = ("float64", "float32")
MAX_LAYERS = 100  # each layer adds a dozen equations to step through; deeper is not a lesson
FLOAT32_MAX = 3.4028234663852886e38
SEED_MAX = 2**32 - 1  # NumPy's legacy generator (the uniform inits) takes no larger seed


class ConfigError(ValueError):
    """An impossible configuration; the message is one line meant for the user."""


@dataclass(frozen=True)
class NetConfig:
    sizes: tuple[int, ...]  # (n0, n1, ..., nL): inputs first, outputs last
    hidden: str = "sigmoid"  # activation of every hidden layer
    output_loss: str = "sigmoid-mse"  # output activation + loss pairing
    bias: bool = True
    reduction: str = "mean"  # "mean": gradients carry 1/m; "sum": they do not
    init: str = "uniform01"
    seed: int = 1
    dtype: str = "float64"
    lr: float = 0.1
    batch_size: int = 0  # 0 means the whole data set in one batch
    per_sample: bool = False  # build dW and db one sample at a time (B2/B3 per sample)
    shuffle: bool = True  # seeded shuffle per epoch (only when batches are smaller than the set)
    leaky_slope: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def activation(self, layer: int) -> str:
        """The name of layer `layer`'s activation: the hidden one, or the output pairing's."""
        return OUTPUT_LOSSES[self.output_loss].output if layer == self.n_layers else self.hidden

    def validate(self, n_samples: int | None = None, n_features: int | None = None,
                 n_outputs: int | None = None) -> "NetConfig":
        """Raise ConfigError naming the first impossible setting; return self when all is well."""
        if len(self.sizes) < 2:
            raise ConfigError("sizes need at least an input and an output layer, e.g. 3,4,1")
        if len(self.sizes) > MAX_LAYERS + 1:
            raise ConfigError(f"at most {MAX_LAYERS} layers after the input (got {len(self.sizes) - 1})")
        if any(s <= 0 for s in self.sizes):
            raise ConfigError(f"every layer size must be at least 1 (got {','.join(map(str, self.sizes))})")
        if self.hidden not in HIDDEN_ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.hidden!r} (choose from {', '.join(HIDDEN_ACTIVATIONS)})")
        if self.output_loss not in OUTPUT_LOSSES:
            raise ConfigError(f"unknown output/loss pairing {self.output_loss!r} (choose from {', '.join(OUTPUT_LOSSES)})")
        if self.output_loss.startswith("softmax") and self.sizes[-1] < 2:
            raise ConfigError("a softmax output needs at least 2 output units")
        if self.reduction not in REDUCTIONS:
            raise ConfigError(f"unknown reduction {self.reduction!r} (choose mean or sum)")
        if self.init not in INITS:
            raise ConfigError(f"unknown initialisation {self.init!r} (choose from {', '.join(INITS)})")
        if self.dtype not in DTYPES:
            raise ConfigError(f"unknown dtype {self.dtype!r} (choose float32 or float64)")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"the learning rate must be a positive number (got {self.lr})")
        if self.dtype == "float32" and self.lr > FLOAT32_MAX:
            raise ConfigError(f"the learning rate {self.lr} does not fit in float32 (at most {FLOAT32_MAX:.4g})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed <= SEED_MAX:
            raise ConfigError(f"the seed must be a whole number from 0 to {SEED_MAX} (got {self.seed})")
        if self.batch_size < 0:
            raise ConfigError(f"the batch size must be positive, or 0 for the whole set (got {self.batch_size})")
        if not (math.isfinite(self.leaky_slope) and 0 <= self.leaky_slope < 1):
            raise ConfigError(f"the leaky ReLU slope must be in [0, 1) (got {self.leaky_slope})")
        if n_samples is not None and self.batch_size > n_samples:
            raise ConfigError(f"batch size {self.batch_size} is larger than the data set ({n_samples} samples)")
        if n_features is not None and self.sizes[0] != n_features:
            raise ConfigError(f"the input layer has {self.sizes[0]} units but the data has {n_features} features")
        if n_outputs is not None and self.sizes[-1] != n_outputs:
            raise ConfigError(f"the output layer has {self.sizes[-1]} units but the data has {n_outputs} targets")
        return self

    def batch_for(self, n_samples: int) -> int:
        return self.batch_size or n_samples

    def with_(self, **changes) -> "NetConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**d)
