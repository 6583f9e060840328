"""Built-in 2-D data sets with two classes, drawn as TensorFlow Playground draws them.

The geometry follows Playground's `dataset.ts` (Apache-2.0): points lie in about
[-6, 6] x [-6, 6], half of them in each class for `circle`, `gauss` and `spiral`, and
`noise` is Playground's slider divided by 100 (0 to 0.5):

- `xor`: uniform in [-5, 5]^2 pushed 0.3 away from the axes; class 1 when x*y >= 0,
  judged at the point moved by a uniform noise of up to 5*noise per coordinate;
- `circle`: class 1 inside radius 2.5, class 0 in the ring 3.5 to 5; the label is judged
  at the point moved by up to 5*noise, so noise mislabels points near the edge;
- `gauss`: two Gaussians centred on (2, 2) (class 1) and (-2, -2) (class 0), with a
  variance growing from 0.5 (noise 0) to 4 (noise 0.5);
- `spiral`: two interleaved spirals of 1.75 turns out to radius 5, each coordinate
  moved by up to `noise`.

Playground's labels -1/+1 are classes 0/1 here. Everything comes from one seeded
generator, so a name, a noise, a size and a seed always give the same points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.data.errors import DataError

PLANAR_NAMES = ("xor", "circle", "gauss", "spiral")
MAX_NOISE = 0.5  # Playground's slider stops at 50 %
EXTENT = (-6.0, 6.0, -6.0, 6.0)  # (x min, x max, y min, y max): the plane Playground draws
FEATURE_NAMES = ("x1", "x2")
CLASS_NAMES = ("0", "1")


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    p = rng.uniform(-5, 5, (n, 2))  # (n, 2)
    p += np.where(p > 0, 0.3, -0.3)  # keep points off the axes, where the class flips
    judged = p + rng.uniform(-5, 5, (n, 2)) * noise  # (n, 2)
    return p, (judged[:, 0] * judged[:, 1] >= 0).astype(np.uint8)


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)])  # (n,)
    angle = rng.uniform(0, 2 * np.pi, n)  # (n,)
    p = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)  # (n, 2)
    judged = p + rng.uniform(-radius, radius, (n, 2)) * noise  # (n, 2)
    return p, (np.hypot(judged[:, 0], judged[:, 1]) < radius * 0.5).astype(np.uint8)


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    variance = 0.5 + (4 - 0.5) * noise / MAX_NOISE
    half = n // 2
    centres = np.repeat(np.array([[2.0, 2.0], [-2.0, -2.0]]), [half, n - half], axis=0)  # (n, 2)
    p = centres + rng.normal(0, np.sqrt(variance), (n, 2))  # (n, 2)
    return p, np.repeat(np.array([1, 0], dtype=np.uint8), [half, n - half])


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    parts, labels = [], []
    for delta, label, count in ((0.0, 1, n // 2), (np.pi, 0, n - n // 2)):
        i = np.arange(count)
        r = i / count * 5  # (count,)
        t = 1.75 * i / count * 2 * np.pi + delta  # (count,)
        p = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)  # (count, 2)
        parts.append(p + rng.uniform(-1, 1, (count, 2)) * noise)
        labels.append(np.full(count, label, dtype=np.uint8))
    return np.concatenate(parts), np.concatenate(labels)


_GENERATORS = {"xor": _xor, "circle": _circle, "gauss": _gauss, "spiral": _spiral}


@dataclass(frozen=True)
class PlanarData:
    name: str
    noise: float
    seed: int
    train_x: np.ndarray  # (n_train, 2) float64
    train_labels: np.ndarray  # (n_train,) uint8, 0 or 1
    test_x: np.ndarray  # (n_test, 2)
    test_labels: np.ndarray  # (n_test,)

    @property
    def identity(self) -> str:
        """What makes these points: a run saved with them can check it gets them back."""
        return f"{self.name} noise={self.noise:g} seed={self.seed} n={len(self.train_x)}+{len(self.test_x)}"


def planar_data(name: str, n_samples: int = 500, noise: float = 0.0, seed: int = 0,
                test_fraction: float = 0.2) -> PlanarData:
    """`n_samples` points of the set `name`, shuffled, the last `test_fraction` of them kept
    for testing (Playground draws one set and splits it the same way)."""
    if name not in _GENERATORS:
        raise DataError(f"unknown 2-D data set {name!r} (choose from {', '.join(PLANAR_NAMES)})")
    if not 0 <= noise <= MAX_NOISE:
        raise DataError(f"the noise of {name} must be between 0 and {MAX_NOISE} (got {noise:g})")
    if not 0 <= test_fraction < 1:
        raise DataError(f"the test fraction must be at least 0 and below 1 (got {test_fraction:g})")
    if n_samples < 4:
        raise DataError(f"{name} needs at least 4 points (got {n_samples})")
    rng = np.random.default_rng(seed)
    x, labels = _GENERATORS[name](n_samples, float(noise), rng)  # (n, 2), (n,)
    order = rng.permutation(n_samples)
    n_test = int(n_samples * test_fraction)
    train, test = order[: n_samples - n_test], order[n_samples - n_test:]
    return PlanarData(name, float(noise), seed, x[train], labels[train], x[test], labels[test])
