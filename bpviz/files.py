"""Writing files so that a crash or a full disk never leaves a half-written one: write
a temporary file beside the target, flush it to disk, then rename it into place.

Every file bpviz writes (sessions, traces, CSVs, panel exports, downloads) goes through
`atomic_write`. The temporary file is named `.NAME.bpviz-PID-XXXXXXXX.tmp` after its
target and its writer, so the next write to the same folder can remove the ones a killed
writer left behind.
"""
from __future__ import annotations

import errno
import os
import stat
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

TMP_TAG = ".bpviz-"
TMP_SUFFIX = ".tmp"
STALE_SECONDS = 24 * 3600  # a temporary file this old is abandoned even if its pid was reused
_NAME_ROOM = 150  # keeps `.NAME.bpviz-PID-XXXXXXXX.tmp` under the usual 255-byte name limit


def _tmp_prefix(target_name: str) -> str:
    return f".{target_name[:_NAME_ROOM]}{TMP_TAG}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


LEGACY_SECONDS = 600  # `.bpviz-XXXXXXXX.tmp` of older versions, unwritten this long, are abandoned


def _is_legacy(name: str) -> bool:
    """The name older bpviz versions gave every temporary: `.bpviz-` + mkstemp's 8 characters + `.tmp`."""
    return name.startswith(TMP_TAG) and name.endswith(TMP_SUFFIX) and len(name) == len(TMP_TAG) + 8 + len(TMP_SUFFIX)


def remove_stale_temporaries(folder: str | os.PathLike, target_name: str,
                             max_age: float = STALE_SECONDS) -> list[str]:
    """Remove the temporary files of writes to `folder`/`target_name` whose writer process
    no longer exists or that are older than `max_age` seconds, and older versions' unnamed
    temporaries not written to for LEGACY_SECONDS; returns their names."""
    prefix = _tmp_prefix(target_name)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if _is_legacy(name):
            full = os.path.join(folder, name)
            try:
                if now - os.lstat(full).st_mtime > LEGACY_SECONDS:  # a live writer keeps it fresh
                    os.unlink(full)
                    removed.append(name)
            except OSError:
                pass
            continue
        if not (name.startswith(prefix) and name.endswith(TMP_SUFFIX)):
            continue
        pid_text = name[len(prefix):-len(TMP_SUFFIX)].split("-", 1)[0]
        full = os.path.join(folder, name)
        try:
            old = now - os.lstat(full).st_mtime > max_age
            if old or not pid_text.isdigit() or not _alive(int(pid_text)):
                os.unlink(full)
                removed.append(name)
        except OSError:  # gone already, or not ours to remove: the write itself goes on
            pass
    return removed


def _create_temporary(folder: str, target_name: str) -> tuple[int, str]:
    """An exclusive new file beside the target. Created with mode 0o666 so the kernel
    applies the user's umask (and any default ACL), as for any file a tool writes;
    mkstemp would make it 0600."""
    prefix = _tmp_prefix(target_name)
    for _ in range(100):
        tmp = os.path.join(folder, f"{prefix}{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", tmp)


def _naming(e: OSError, path: str) -> OSError:
    """`e` about the user's `path` instead of the temporary file."""
    if e.errno is None:  # an OSError with only a message: keep it, with the path beside it
        return OSError(errno.EIO, str(e) or type(e).__name__, path)
    return OSError(e.errno, e.strerror or os.strerror(e.errno), path)


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable; a file system that cannot sync a folder is left as it is."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Yields a file object; the target appears only when the block ends without error.
    An OSError names `path` as given, never the temporary file."""
    user_path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(user_path))
    target_name = os.path.basename(os.path.abspath(user_path))
    remove_stale_temporaries(folder, target_name)
    try:
        fd, tmp = _create_temporary(folder, target_name)
    except OSError as e:
        raise _naming(e, user_path) from None
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, user_path)
        _sync_folder(folder)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            raise _naming(e, user_path) from None
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """`data` into `path`, atomically."""
    with atomic_write(path) as f:
        f.write(data)
    return Path(path)


def save_trace(path, arrays, config_json: str) -> int:
    """One training step's arrays as .npz, in the format of `bpviz trace`; returns the count."""
    out = {name: np.asarray(a) for name, a in arrays.items() if name != "A0"}  # A0 is X again
    out["config"] = np.asarray(config_json)
    with atomic_write(path) as f:
        np.savez(f, **out)
    return len(out) - 1


def save_losses_csv(path, losses, epoch_losses, n_batches: int, test_accuracy=(), loss_folds=(),
                    epoch_loss_folds=()) -> None:
    """step,loss,epoch_mean_loss,test_accuracy rows, one per completed step, steps counted
    from 0 as the window counts them. When a long run's oldest losses were folded into means
    (`loss_folds`, `epoch_loss_folds`: a Snapshot's), a first column first_step says which
    steps a row covers: its loss is the mean loss of steps first_step to step, its
    epoch_mean_loss the mean of the epochs ending in those steps; rows whose steps differ are
    kept apart (cells left empty). An epoch's mean and the test accuracy measured after it
    are on its last step."""
    from bpviz.engine.series import spans
    rows: dict[tuple[int, int], list] = {}  # (first step, last step) -> [loss, epoch mean, accuracy]
    first, width = spans(loss_folds, len(losses))
    for a, w, v in zip(first.tolist(), width.tolist(), np.asarray(losses, dtype=float).tolist()):
        rows[a, a + w - 1] = [v, None, None]
    first, width = spans(epoch_loss_folds, len(epoch_losses))  # in epochs: epoch e ends at step (e + 1) * n_batches - 1
    for a, w, v in zip(first.tolist(), width.tolist(), np.asarray(epoch_losses, dtype=float).tolist()):
        rows.setdefault(((a + 1) * n_batches - 1, (a + w) * n_batches - 1), [None, None, None])[1] = v
    for steps_done, acc in test_accuracy:  # measured after that many steps: on the last of them
        rows.setdefault((int(steps_done) - 1, int(steps_done) - 1), [None, None, None])[2] = acc
    folded = bool(loss_folds or epoch_loss_folds)
    with atomic_write(path, "w") as f:
        f.write(("first_step," if folded else "") + "step,loss,epoch_mean_loss,test_accuracy\n")
        for a, b in sorted(rows, key=lambda k: (k[1], k[0])):
            cells = [str(a)] if folded else []
            cells += [str(b)] + ["" if v is None else repr(float(v)) for v in rows[a, b]]
            f.write(",".join(cells) + "\n")


class NotRegularFile(OSError):
    """A path that is a folder, a pipe or a device: `what` says which, for the message."""

    def __init__(self, path, what: str):
        super().__init__(f"{path} is {what}, not a regular file")
        self.what = what


def open_regular(path):
    """`path` opened for binary reading. A FIFO or a device is refused without blocking on
    it (an ordinary open of a FIFO waits for a writer): raises NotRegularFile, or the
    OSError of the open (FileNotFoundError, PermissionError, ...)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else "a device or socket"
            raise NotRegularFile(path, what)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
