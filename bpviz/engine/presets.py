"""Named setups that reproduce the source documents, and networks that learn the built-in
2-D sets. `toy` is the default everywhere; `your-data` (not listed) starts a run on the
user's own files."""
from __future__ import annotations

from dataclasses import dataclass

from .config import ConfigError, NetConfig


@dataclass(frozen=True)
class Preset:
    name: str
    config: NetConfig
    dataset: str  # "toy", "mnist", "fashion-mnist", a 2-D set, or "" for the user's own files
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

    # TensorFlow Playground's 2-D sets with small tanh networks; each reaches the train accuracy
    # benchmarks/planar_accuracy.py prints with its defaults (noise 0, 400 training points)
    Preset("xor", NetConfig((2, 8, 2), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=0,
                            lr=0.3, batch_size=10),
           "xor", None, 100,
           "TensorFlow Playground's exclusive-or data: 2-8-2 tanh, softmax + cross-entropy, lr 0.3, "
           "batch 10, 100 epochs"),
    Preset("circle", NetConfig((2, 4, 2), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=0,
                               lr=0.3, batch_size=10),
           "circle", None, 50,
           "TensorFlow Playground's circle data: 2-4-2 tanh (three units can enclose the centre), "
           "softmax + cross-entropy, lr 0.3, batch 10, 50 epochs"),
    Preset("gauss", NetConfig((2, 2, 2), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=0,
                              lr=0.3, batch_size=10),
           "gauss", None, 20,
           "TensorFlow Playground's two Gaussians: 2-2-2 tanh, softmax + cross-entropy, lr 0.3, "
           "batch 10, 20 epochs (a straight line separates them)"),
    Preset("spiral", NetConfig((2, 8, 8, 2), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=0,
                               lr=0.1, batch_size=10),
           "spiral", None, 500,
           "TensorFlow Playground's spiral data: 2-8-8-2 tanh, softmax + cross-entropy, lr 0.1, "
           "batch 10, 500 epochs"),
)}

# the start for the user's own data (a CSV file or a folder of IDX files): the input and
# output sizes and the output/loss come from the data, so only the hidden layer is given here
YOUR_DATA = Preset("your-data", NetConfig((2, 16, 2), hidden="tanh", output_loss="softmax-ce", init="xavier",
                                          seed=0, lr=0.1, batch_size=32),
                   "", None, 20,
                   "your own data: one hidden layer of 16 tanh units, softmax + cross-entropy for classes or "
                   "identity + squared error for numbers, lr 0.1, batch 32, 20 epochs")


def get_preset(name: str) -> Preset:
    if name == YOUR_DATA.name:
        return YOUR_DATA
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None
