"""The 4-sample toy set of seed 001, chapter 8: the output is 1 when exactly one of the
first two inputs is 1 (the third input is a constant 1 standing in for a bias)."""
from __future__ import annotations

import numpy as np

from bpviz.engine.dataset import ArraySet

TOY_X = ((0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1))
TOY_Y = (0, 1, 1, 0)


def toy_set() -> ArraySet:
    x = np.array(TOY_X, dtype=np.float64)  # (4, 3)
    y = np.array(TOY_Y, dtype=np.float64)[:, None]  # (4, 1)
    return ArraySet(x, y, name="toy")
