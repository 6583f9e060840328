"""Named setups that reproduce the source documents. `toy` is the default everywhere."""
from __future__ import annotations

from dataclasses import dataclass

from .config import ConfigError, NetConfig


@dataclass(frozen=True)
class Preset:
    name: str
    config: NetConfig
    dataset: str  # the data set it is made for
    steps: int | None  # default length of `bpviz train`: steps, or else epochs
    epochs: int | None
    description: str


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("toy", NetConfig((3, 4, 1), hidden="sigmoid", output_loss="sigmoid-mse", bias=False,
                            reduction="sum", init="uniform01", seed=1, lr=1.0, batch_size=0),
           "toy", 1000, None,
           "The Maths of Deep Learning (Punnen), chapter 8: 3-4-1 sigmoid, no biases, squared error summed "
           "over the 4 samples, lr 1"),
    Preset("mnist", NetConfig((784, 128, 10), hidden="relu", output_loss="softmax-ce", bias=True,
                              reduction="mean", init="he", seed=0, lr=0.001, batch_size=100),
           "mnist", None, 10,
           "Mathematics of Neural Network (Rasyid): 784-128-10 ReLU, softmax + cross-entropy, lr 0.001, "
           "batch 100, 10 epochs"),
    Preset("mnist-10", NetConfig((784, 10, 10), hidden="relu", output_loss="softmax-ce", bias=True,
                                 reduction="mean", init="uniform-half", seed=0, lr=0.1, batch_size=0),
           "mnist", 1000, None,
           "Backpropagation Calculus (Rui): 784-10-10 ReLU, softmax + cross-entropy, full batch, lr 0.1, "
           "1000 steps"),
    Preset("mnist-approx", NetConfig((784, 10, 10), hidden="relu", output_loss="softmax-mse-approx",
                                     bias=True, reduction="mean", init="uniform-half", seed=0, lr=0.1,
                                     batch_size=0),
           "mnist", 1000, None,
           "Neural Network with Hidden Layers: ReLU hidden, softmax + squared error with the approximate "
           "gradient A − Y, "
           "init rand − 1/2, full batch (lr and length are not given by the source: 0.1, 1000 steps)"),
    Preset("fashion-mnist", NetConfig((784, 128, 10), hidden="relu", output_loss="softmax-ce", bias=True,
                                      reduction="mean", init="he", seed=0, lr=0.1, batch_size=100),
           "fashion-mnist", None, 10,
           "Fashion-MNIST with the 784-128-10 network of Mathematics of Neural Network (Rasyid), "
           "He initialisation and lr 0.1 (the source's lr 0.001 learns slowly on clothes)"),
)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None
