"""What the trainer reads samples from: inputs and targets, fetched one batch at a time."""
from __future__ import annotations

import numpy as np


class ArraySet:
    """Samples as rows of `x`, with targets given either as a float array `y` or as
    class `labels` (one-hot encoded per batch, so no float copy of the whole set is kept).

    `x` may be uint8 (images): `scale` (e.g. 1/255) turns a batch into floats on demand,
    so the whole set never exists as floats.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray | None = None, *,
                 labels: np.ndarray | None = None, n_classes: int | None = None,
                 scale: float | None = None, name: str = "data",
                 image_shape: tuple[int, int] | None = None):
        if x.ndim != 2:
            raise ValueError(f"inputs must be a 2-D array (samples x features), got shape {x.shape}")
        if (y is None) == (labels is None):
            raise ValueError("give exactly one of y (targets) or labels (classes)")
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 1:
                y = y[:, None]
            if len(y) != len(x):
                raise ValueError(f"{len(x)} inputs but {len(y)} targets")
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != len(x):
                raise ValueError(f"{len(x)} inputs but {len(labels)} labels")
            n_classes = int(n_classes if n_classes is not None else labels.max() + 1)
        self.x = x
        self.y = y
        self.labels = labels
        self.n_classes = n_classes
        self.scale = scale
        self.name = name
        self.image_shape = image_shape
        self._max_abs: float | None = None

    @property
    def n_samples(self) -> int:
        return self.x.shape[0]

    @property
    def n_features(self) -> int:
        return self.x.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y.shape[1] if self.y is not None else int(self.n_classes)

    def batch(self, idx: np.ndarray | slice, dtype) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of the samples `idx`, as fresh arrays of `dtype`."""
        x = self.x[idx].astype(dtype)  # (m, n0), a fresh array even for a slice
        if self.scale is not None:
            x *= x.dtype.type(self.scale)
        if self.y is not None:
            y = self.y[idx].astype(dtype)  # (m, nL)
        else:
            lab = self.labels[idx]
            y = np.zeros((len(lab), self.n_classes), dtype=dtype)  # (m, classes)
            y[np.arange(len(lab)), lab] = 1
        return x, y

    def max_abs(self) -> float:
        """The largest |input| after scaling; raises ValueError when an input is not finite."""
        if self._max_abs is None:
            if np.issubdtype(self.x.dtype, np.integer):
                top = float(max(abs(int(self.x.min(initial=0))), int(self.x.max(initial=0))))
            else:
                if not np.isfinite(self.x).all():
                    raise ValueError(f"the inputs of {self.name} contain non-finite values")
                top = float(np.abs(self.x).max(initial=0.0))
            self._max_abs = top * (self.scale if self.scale is not None else 1.0)
        return self._max_abs

    def class_labels(self, idx=slice(None)) -> np.ndarray | None:
        """Class index per sample: the labels, or the argmax of one-hot/multi-output targets."""
        if self.labels is not None:
            return self.labels[idx]
        if self.y is not None and self.y.shape[1] > 1:
            return np.argmax(self.y[idx], axis=1)
        return None
