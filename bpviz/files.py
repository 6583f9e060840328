"""Writing files so that a crash or a full disk never leaves a half-written one: write
a temporary file beside the target, flush it to disk, then rename it into place."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

import numpy as np


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Yields a file object; the target appears only when the block ends without error."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bpviz-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_trace(path, arrays, config_json: str) -> int:
    """One training step's arrays as .npz, in the format of `bpviz trace`; returns the count."""
    out = {name: np.asarray(a) for name, a in arrays.items() if name != "A0"}  # A0 is X again
    out["config"] = np.asarray(config_json)
    with atomic_write(path) as f:
        np.savez(f, **out)
    return len(out) - 1


def save_losses_csv(path, losses, epoch_losses, n_batches: int, test_accuracy=()) -> None:
    """step,loss[,epoch_mean][,test_accuracy] rows, one per completed step."""
    epoch_at = {(e + 1) * n_batches: v for e, v in enumerate(epoch_losses)}
    acc_at = dict(test_accuracy)
    with atomic_write(path, "w") as f:
        f.write("step,loss,epoch_mean_loss,test_accuracy\n")
        for k, loss in enumerate(losses, 1):
            cells = [str(k), repr(float(loss))]
            cells += [repr(float(epoch_at[k])) if k in epoch_at else "", repr(float(acc_at[k])) if k in acc_at else ""]
            f.write(",".join(cells) + "\n")
