"""A run saved to one file and loaded back with identical numbers.

The file is a NumPy .npz (a zip) holding a JSON header (format, version, config,
data set identity, position in the run, breakpoints) and the arrays: the initial and
current parameters and the loss history. A long run's history may be folded (its oldest
losses kept as means, bpviz.engine.series): the header's position then says how, in
`loss_folds` and `epoch_loss_folds` (absent when nothing is folded, as in files before them).
It is written through bpviz.files.atomic_write,
so an interrupted save leaves the previous file intact.

Loading validates the whole file against its schema before returning anything, so a
caller installs all of it or nothing: every field has its type and a bound set by the
file's own configuration (array shapes by the layer sizes, the loss history by the
position in the run, the stage by the length of a step's plan), zip members are checked
by their declared sizes before a byte of them is read, and only regular files are opened.
Every problem is one line naming the file as the user gave it (SessionError).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass, fields

import numpy as np

from bpviz.files import atomic_write

from .breakpoints import KINDS, Breakpoint
from .config import ConfigError, NetConfig
from .network import Params
from .series import Series, folded_steps, folds_problem, points_for
from .trainer import Trainer, TrainerState

FORMAT = "bpviz-session"
VERSION = 1
KNOWN_EXTRAS = ("test_accuracy",)  # (k, 2) rows of (step, accuracy)
MAX_HEADER_BYTES = 4 << 20  # the JSON header, stored by NumPy as 4 bytes a character
MAX_BREAKPOINTS = 10_000
MAX_NAME_CHARS = 4096  # data set name and identity
NPY_HEADER_MAX = 1 << 16  # NumPy's own header of one array, before its data
# np.savez stores members uncompressed, so a session's contents are its size on disk; a
# file someone deflated holds float data that shrinks far less than this
MAX_UNPACK_RATIO = 8
UNPACK_SLACK = 1 << 20


class SessionError(Exception):
    """A session file that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Session:
    config: NetConfig
    dataset: str
    identity: str  # checksum of the data set's files ("toy" for the toy set)
    initial_params: Params
    state: TrainerState
    breakpoints: tuple[Breakpoint, ...]
    test_accuracy: tuple[tuple[int, float], ...] = ()  # (step, accuracy) pairs
    source: str = ""  # the path the session was loaded from, as the user gave it

    @property
    def extras(self) -> dict:
        """The saved extra series by name, as save_session takes them."""
        return {"test_accuracy": list(self.test_accuracy)}


def plan_length(cfg: NetConfig, m: int) -> int:
    """len(trainer.step_plan(cfg, m)), counted without building the plan (m may be huge)."""
    L = cfg.n_layers
    per_layer = (m if cfg.per_sample else 1) * (2 if cfg.bias else 1)
    return 2 * L + 2 + L * per_layer + 2 * (L - 1) + L


def _param_arrays(prefix: str, params: Params) -> dict[str, np.ndarray]:
    out = {}
    for l, (w, b) in enumerate(params, 1):
        out[f"{prefix}W{l}"] = np.asarray(w)
        if b is not None:
            out[f"{prefix}b{l}"] = np.asarray(b)
    return out


def save_session(path: str | os.PathLike, trainer: Trainer, dataset: str, identity: str,
                 breakpoints=(), extras: dict[str, np.ndarray] | None = None) -> None:
    """The run of `trainer` into `path`, atomically. ValueError (naming `path`) for what the
    loader would refuse (an infinite breakpoint, an unknown extra), so every save loads."""
    st = trainer.state()
    position = {"steps_done": st.steps_done, "epoch": st.epoch, "batch": st.batch, "stage_index": st.stage_index}
    for key, series in (("loss_folds", st.losses), ("epoch_loss_folds", st.epoch_losses)):
        if series.folds:
            position[key] = [list(run) for run in series.folds]
    header = {
        "format": FORMAT, "version": VERSION, "config": trainer.cfg.to_dict(),
        "dataset": {"name": dataset, "identity": identity},
        "state": position,
        "breakpoints": [bp.to_dict() for bp in breakpoints],
        "extras": sorted((extras or {}).keys()),
    }
    try:
        _checked_header(header)
        if "test_accuracy" in (extras or {}):
            _accuracy_rows(np.asarray(extras["test_accuracy"]), st.steps_done)
    except _Bad as e:
        raise ValueError(f"{os.fspath(path)}: not saved, {e}") from None
    arrays = {"header": np.asarray(json.dumps(header)),
              "losses": st.losses.view(),
              "epoch_losses": st.epoch_losses.view()}
    arrays.update(_param_arrays("init_", trainer.initial_params))
    arrays.update(_param_arrays("", st.params))
    for k, v in (extras or {}).items():
        arrays[f"extra_{k}"] = np.asarray(v)
    with atomic_write(path) as f:  # the previous file stays whole until the new one is
        np.savez(f, **arrays)


class _Bad(Exception):
    """A schema violation; load_session prefixes the file's name."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int_at_least(d: dict, key: str, low: int, what: str) -> int:
    v = d.get(key)
    if not _is_int(v) or v < low:
        raise _Bad(f"{what} {key} must be a whole number of at least {low}, not {_show(v)}")
    return v


def _show(v) -> str:
    text = json.dumps(v) if isinstance(v, (int, float, str, bool, type(None))) else type(v).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _keys(d, allowed: set, required: set, what: str) -> dict:
    if not isinstance(d, dict):
        raise _Bad(f"{what} must be an object, not {_show(d)}")
    unknown = set(d) - allowed
    if unknown:
        names = ", ".join(sorted(k if k.isidentifier() else json.dumps(k) for k in unknown))
        raise _Bad(f"{what} has unknown fields: {names[:200]}")
    missing = required - set(d)
    if missing:
        raise _Bad(f"{what} lacks {', '.join(sorted(missing))}")
    return d


_CONFIG_TYPES = {"sizes": list, "hidden": str, "output_loss": str, "bias": bool, "reduction": str, "init": str,
                 "seed": int, "dtype": str, "lr": float, "batch_size": int, "per_sample": bool, "shuffle": bool,
                 "leaky_slope": float}


def _config(d) -> NetConfig:
    """The configuration, every field of the type NetConfig declares, validated."""
    d = _keys(d, {f.name for f in fields(NetConfig)}, {"sizes"}, "the configuration")
    for key, v in d.items():
        kind = _CONFIG_TYPES[key]
        ok = (_is_number(v) and math.isfinite(v)) if kind is float else _is_int(v) if kind is int \
            else isinstance(v, kind)
        if not ok:
            raise _Bad(f"configuration field {key} must be {kind.__name__}, not {_show(v)}")
    sizes = d["sizes"]
    if not 2 <= len(sizes) <= 1000 or not all(_is_int(n) and 1 <= n < 2**40 for n in sizes):
        raise _Bad(f"configuration field sizes must be 2 to 1000 layer sizes from 1 to 2^40, not {_show(sizes)[:60]}")
    if d.get("seed", 0) < 0 or d.get("batch_size", 0) < 0:
        raise _Bad("configuration fields seed and batch_size must not be negative")
    try:
        return NetConfig.from_dict(d).validate()
    except ConfigError as e:
        raise _Bad(f"its configuration is impossible ({e})") from None


def _breakpoint(i: int, d, n_layers: int) -> Breakpoint:
    what = f"breakpoint {i + 1}"
    d = _keys(d, {f.name for f in fields(Breakpoint)}, {"kind", "value"}, what)
    kind, value = d["kind"], d["value"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise _Bad(f"{what} has the unknown kind {_show(kind)}")
    if not _is_number(value) or not math.isfinite(value):
        raise _Bad(f"{what} ({kind}) has the value {_show(value)}; its value must be a finite number")
    layer = d.get("layer")
    if layer is not None and not (_is_int(layer) and 1 <= layer <= n_layers):
        raise _Bad(f"{what} names layer {_show(layer)}; the network has layers 1 to {n_layers}")
    for flag in ("below", "enabled"):
        if flag in d and not isinstance(d[flag], bool):
            raise _Bad(f"{what} field {flag} must be true or false, not {_show(d[flag])}")
    if kind in ("misclassified", "step", "epoch") and abs(value) >= 2**53:
        raise _Bad(f"{what} ({kind}) has the value {_show(value)}, past any run")
    try:
        return Breakpoint(**d)
    except (ValueError, TypeError) as e:
        raise _Bad(f"{what}: {e}") from None


def _constant(name: str) -> float:
    return float(name)  # NaN, Infinity: kept as floats, refused by the field that holds them


def _parse_header(text: str) -> dict:
    try:
        header = json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise _Bad("its header is nested too deeply to be a session header") from None
    except ValueError as e:
        raise _Bad(f"its header is not valid JSON ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _Bad("it is not a bpviz session")
    return header


def _position(st: dict, cfg: NetConfig) -> tuple[int, int, int, int, tuple, tuple]:
    """(steps_done, epoch, batch, stage_index, loss folds, epoch loss folds), consistent with one
    another: a run's steps are epoch * n_batches + batch for some n_batches > batch, a stage lies
    inside a step's plan, and the folds leave the current epoch's losses exact (its mean needs them)."""
    st = _keys(st, {"steps_done", "epoch", "batch", "stage_index", "loss_folds", "epoch_loss_folds"},
               {"steps_done", "epoch", "batch", "stage_index"}, "its position in the run")
    steps, epoch, batch, stage = (_int_at_least(st, k, 0, "position field")
                                  for k in ("steps_done", "epoch", "batch", "stage_index"))
    if epoch == 0:
        ok = steps == batch
    else:
        ok = steps - batch >= epoch and (steps - batch) % epoch == 0 and batch < (steps - batch) // epoch
    if not ok:
        raise _Bad(f"its position in the run is inconsistent (step {steps} cannot be batch {batch} of epoch {epoch})")
    if cfg.per_sample and cfg.batch_size == 0:
        most = None  # the batch is the whole data set: resume() checks against it
    else:
        most = plan_length(cfg, cfg.batch_size or 1)
    if most is not None and stage >= most:
        raise _Bad(f"its stage {stage} is past the {most} stages of a step of this network")
    loss_folds = _folds(st, "loss_folds", steps - batch, "steps")
    return steps, epoch, batch, stage, loss_folds, _folds(st, "epoch_loss_folds", epoch, "epochs")


def _folds(st: dict, key: str, most: int, unit: str) -> tuple:
    """The runs of folded points under `key` (none when absent), covering at most `most` steps."""
    runs = st.get(key, [])
    if not isinstance(runs, list) or len(runs) > 64 or not all(
            isinstance(r, list) and len(r) == 3 and all(_is_int(v) and 0 <= v < 2**53 for v in r) for r in runs):
        raise _Bad(f"its {key.replace('_', ' ')} must be at most 64 runs of [first step, width, count], "
                   f"not {_show(runs)[:60]}")
    folds = tuple(tuple(r) for r in runs)
    covered = folded_steps(folds)
    problem = folds_problem(folds)
    if problem is None and covered > most:
        problem = f"they cover {covered} {unit}, past the {most} before the current epoch"
    if problem:
        raise _Bad(f"its {key.replace('_', ' ')} are impossible: {problem}")
    return folds


def _open_regular(path, shown: str):
    """The file opened for reading; a FIFO, device or folder is refused without blocking on it."""
    from bpviz.files import NotRegularFile, open_regular
    try:
        return open_regular(path)
    except FileNotFoundError:
        raise SessionError(f"{shown}: no such file") from None
    except NotRegularFile as e:
        raise SessionError(f"{shown} is {e.what}, not a bpviz session file") from None
    except OSError as e:
        raise SessionError(f"{shown}: cannot open the file ({e.strerror or e})") from None


class _Members:
    """The zip's members by name, each read only after its declared size has been checked."""

    def __init__(self, zf: zipfile.ZipFile, disk_size: int):
        self.zf = zf
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            if info.filename in self.infos:
                raise _Bad(f"its archive holds {info.filename[:60]!r} twice")
            self.infos[info.filename] = info
        unpacked = sum(i.file_size for i in self.infos.values())
        if unpacked > MAX_UNPACK_RATIO * disk_size + UNPACK_SLACK:
            raise _Bad(f"its archive claims {unpacked} bytes of contents in a file of {disk_size} bytes")

    def array(self, name: str, data_bytes: int | None, max_bytes: int | None = None,
              label: str | None = None) -> np.ndarray:
        """Member `name`.npy as an array. Its size must fit `data_bytes` of data (exactly) or, for
        the header, at most `max_bytes`; both are checked before reading."""
        label = label or f"its {name} array"
        info = self.infos.get(f"{name}.npy")
        if info is None:
            raise _Bad(f"{label} is missing")
        bound = max_bytes if max_bytes is not None else data_bytes + NPY_HEADER_MAX
        if info.file_size > bound or (data_bytes is not None and info.file_size < data_bytes):
            raise _Bad(f"{label}: {info.file_size} bytes stored where the file's header "
                       + (f"needs {data_bytes} bytes of data" if max_bytes is None else f"allows at most {bound}"))
        try:
            with self.zf.open(info) as f:
                raw = f.read(bound + 1)
            fp = io.BytesIO(raw)
            version = np.lib.format.read_magic(fp)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fp)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError,
                NotImplementedError, zlib.error) as e:  # damaged data, encrypted, unsupported compression
            detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise _Bad(f"{label} cannot be read ({detail})") from None
        if dtype.hasobject:
            raise _Bad(f"{label} holds Python objects, which are never loaded")
        count = math.prod(shape)
        if fp.tell() + count * dtype.itemsize != len(raw):
            raise _Bad(f"{label}: its size does not match its shape {shape}")
        order = "F" if fortran else "C"
        return np.frombuffer(raw, dtype=dtype, count=count, offset=fp.tell()).reshape(shape, order=order)

    def unexpected(self, expected: set[str]) -> list[str]:
        return sorted(set(self.infos) - {f"{n}.npy" for n in expected})


def _float_series(members: _Members, name: str, steps: int, folds: tuple) -> Series:
    """The series `name` of `steps` steps (or epochs), `folds` at its start."""
    n = points_for(folds, steps)
    a = members.array(name, 8 * n)
    if a.shape != (n,) or a.dtype != np.float64:
        need = "its position in the run and its folds need" if folds else "its position in the run needs"
        raise _Bad(f"its {name} array is {a.dtype} {a.shape}; {need} float64 ({n},)")
    return Series(a, folds)


def _layer_params(members: _Members, prefix: str, cfg: NetConfig) -> Params:
    dtype = np.dtype(cfg.dtype)
    out = []
    for l, (n_in, n_out) in enumerate(zip(cfg.sizes[:-1], cfg.sizes[1:]), 1):
        pair = []
        for key, shape in ((f"{prefix}W{l}", (n_in, n_out)), (f"{prefix}b{l}", (n_out,))):
            if key[len(prefix)] == "b" and not cfg.bias:
                pair.append(None)
                continue
            label = f"the {'weights' if key[len(prefix)] == 'W' else 'biases'} of layer {l} ({key})"
            a = members.array(key, math.prod(shape) * dtype.itemsize, label=label)
            if a.shape != shape or a.dtype != dtype:
                raise _Bad(f"{label} are {a.dtype} {a.shape}; the configuration needs {dtype} {shape}")
            if not np.isfinite(a).all():
                raise _Bad(f"the parameters of layer {l} are not finite")
            a = np.array(a)  # its own memory: a view would keep the whole member alive
            a.flags.writeable = False
            pair.append(a)
        out.append(tuple(pair))
    return tuple(out)


def _test_accuracy(members: _Members, steps: int) -> tuple[tuple[int, float], ...]:
    return _accuracy_rows(members.array("extra_test_accuracy", None, max_bytes=16 * (steps + 1) + NPY_HEADER_MAX),
                          steps)


def _accuracy_rows(a: np.ndarray, steps: int) -> tuple[tuple[int, float], ...]:
    if a.ndim != 2 or a.shape[1] != 2 or a.dtype.kind not in "fiu" or a.dtype.itemsize > 8 or len(a) > steps + 1:
        raise _Bad(f"its test accuracy array is {a.dtype} {a.shape}; it needs (k, 2) numbers, k at most {steps + 1}")
    step, acc = a[:, 0].astype(np.float64), a[:, 1].astype(np.float64)
    if not (np.isfinite(step).all() and np.isfinite(acc).all()):
        raise _Bad("its test accuracy holds values that are not finite")
    if ((step != np.round(step)) | (step < 0) | (step > steps)).any() or ((acc < 0) | (acc > 1)).any():
        raise _Bad(f"its test accuracy holds steps outside 0-{steps} or accuracies outside 0-1")
    return tuple((int(s), float(v)) for s, v in zip(step.tolist(), acc.tolist()))


def _checked_header(header: dict):
    """(config, data set, position, breakpoints, extras) of a parsed header, every field
    checked; _Bad otherwise. The saver runs it too, so a file saved is a file loadable."""
    version = header.get("version")
    if version != VERSION:
        newer = _is_int(version) and version > VERSION
        raise _Bad(f"it was saved by {'a newer' if newer else 'another'} version of bpviz "
                   f"(session format {_show(version)}; this bpviz reads format {VERSION})")
    _keys(header, {"format", "version", "config", "dataset", "state", "breakpoints", "extras"},
          {"config", "dataset", "state"}, "its header")
    cfg = _config(header["config"])
    ds = _keys(header["dataset"], {"name", "identity"}, {"name", "identity"}, "its data set")
    for key in ("name", "identity"):
        if not isinstance(ds[key], str) or not 0 < len(ds[key]) <= MAX_NAME_CHARS or not ds[key].isprintable():
            raise _Bad(f"its data set {key} must be printable text of 1 to {MAX_NAME_CHARS} characters")
    position = _position(header["state"], cfg)
    bps = header.get("breakpoints", [])
    if not isinstance(bps, list) or len(bps) > MAX_BREAKPOINTS:
        raise _Bad(f"its breakpoints must be a list of at most {MAX_BREAKPOINTS}")
    breakpoints = tuple(_breakpoint(i, b, cfg.n_layers) for i, b in enumerate(bps))
    extras = header.get("extras", [])
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras) \
            or not set(extras) <= set(KNOWN_EXTRAS):
        raise _Bad(f"its extras must be among {', '.join(KNOWN_EXTRAS)}, not {_show(extras)[:60]}")
    return cfg, ds, position, breakpoints, extras


def _load(f, disk_size: int, shown: str) -> Session:
    try:
        zf = zipfile.ZipFile(f)
    except Exception as e:
        # zipfile raises many kinds (BadZipFile, ValueError, even NotImplementedError for a damaged
        # version field): all mean the file cannot be used
        detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise _Bad(f"it is not a readable bpviz session (corrupt or truncated: {detail})") from None
    with zf:
        members = _Members(zf, disk_size)
        h = members.array("header", None, max_bytes=MAX_HEADER_BYTES)
        if h.shape != () or h.dtype.kind != "U":
            raise _Bad("its header is not text")
        header = _parse_header(str(h[()]))
        cfg, ds, (steps, epoch, batch, stage, loss_folds, epoch_folds), breakpoints, extras = _checked_header(header)
        expected = {"header", "losses", "epoch_losses"} | {f"extra_{e}" for e in extras}
        for prefix in ("init_", ""):
            for l in range(1, cfg.n_layers + 1):
                expected |= {f"{prefix}W{l}"} | ({f"{prefix}b{l}"} if cfg.bias else set())
        unexpected = members.unexpected(expected)
        if unexpected:
            raise _Bad(f"its archive holds {len(unexpected)} member(s) no session has, e.g. {unexpected[0][:60]!r}")
        losses = _float_series(members, "losses", steps, loss_folds)
        epoch_losses = _float_series(members, "epoch_losses", epoch, epoch_folds)
        init = _layer_params(members, "init_", cfg)
        current = _layer_params(members, "", cfg)
        accuracy = _test_accuracy(members, steps) if "test_accuracy" in extras else ()
    state = TrainerState(current, steps, epoch, batch, losses, epoch_losses, stage)
    return Session(cfg, ds["name"], ds["identity"], init, state, breakpoints, accuracy, shown)


def load_session(path: str | os.PathLike) -> Session:
    """The session in `path`, wholly validated: either every part is usable or SessionError
    (one line naming `path`) is raised and nothing is returned."""
    shown = os.fspath(path)
    with _open_regular(path, shown) as f:
        try:
            return _load(f, os.fstat(f.fileno()).st_size, shown)
        except _Bad as e:
            raise SessionError(f"{shown}: {e}") from None
        except MemoryError:
            raise SessionError(f"{shown}: too large to load in the memory available") from None

def resume(session: Session, train_set, identity: str) -> Trainer:
    """A trainer at the session's position, on `train_set` whose files have checksum
    `identity`; a different data set, or one the saved position does not fit, is refused
    before anything is built (SessionError naming the file it was loaded from)."""
    where = f"{session.source}: " if session.source else ""
    if identity != session.identity:
        raise SessionError(f"{where}the session was saved with data set {session.dataset} "
                           f"({session.identity[:12]}), but the data found differs ({identity[:12]})")
    try:
        t = Trainer(session.config, train_set, session.initial_params)
    except ConfigError as e:
        raise SessionError(f"{where}the session does not fit the data: {e}") from None
    st = session.state
    if st.batch >= t.n_batches:
        raise SessionError(f"{where}the session's batch position is past the end of an epoch")
    if st.steps_done != st.epoch * t.n_batches + st.batch:
        raise SessionError(f"{where}the session's step {st.steps_done} is not batch {st.batch} of epoch {st.epoch} "
                           f"with {t.n_batches} batches an epoch on this data")
    stages = plan_length(session.config, min(t.batch_size, train_set.n_samples - st.batch * t.batch_size))
    if st.stage_index >= stages:  # replaying past the plan would never end the step
        raise SessionError(f"{where}the session's stage {st.stage_index} is past the {stages} stages of its step")
    try:
        t.restore(st)
    except ArithmeticError as e:  # DivergenceError: saved weights that overflow when the step is replayed
        raise SessionError(f"{where}replaying the saved step fails: {str(e).splitlines()[0] if str(e) else e!r}") from None
    return t
