"""A run saved to one file and loaded back with identical numbers.

The file is a NumPy .npz (a zip) holding a JSON header (format, version, config,
data set identity, position in the run, breakpoints) and the arrays: the initial and
current parameters and the loss history. It is written to a temporary name and
renamed, so an interrupted save leaves the previous file intact. Loading checks
everything before anything is changed, and every problem is one line (SessionError).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from bpviz.files import atomic_write

from .breakpoints import Breakpoint
from .config import ConfigError, NetConfig
from .network import Params
from .trainer import Trainer, TrainerState

FORMAT = "bpviz-session"
VERSION = 1


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
    extras: dict  # other arrays the window saved (test accuracy history, ...)


def _param_arrays(prefix: str, params: Params) -> dict[str, np.ndarray]:
    out = {}
    for l, (w, b) in enumerate(params, 1):
        out[f"{prefix}W{l}"] = np.asarray(w)
        if b is not None:
            out[f"{prefix}b{l}"] = np.asarray(b)
    return out


def save_session(path: str | os.PathLike, trainer: Trainer, dataset: str, identity: str,
                 breakpoints=(), extras: dict[str, np.ndarray] | None = None) -> None:
    st = trainer.state()
    header = {
        "format": FORMAT, "version": VERSION, "config": trainer.cfg.to_dict(),
        "dataset": {"name": dataset, "identity": identity},
        "state": {"steps_done": st.steps_done, "epoch": st.epoch, "batch": st.batch,
                  "stage_index": st.stage_index},
        "breakpoints": [bp.to_dict() for bp in breakpoints],
        "extras": sorted((extras or {}).keys()),
    }
    arrays = {"header": np.asarray(json.dumps(header)),
              "losses": np.asarray(st.losses, dtype=np.float64),
              "epoch_losses": np.asarray(st.epoch_losses, dtype=np.float64)}
    arrays.update(_param_arrays("init_", trainer.initial_params))
    arrays.update(_param_arrays("", st.params))
    for k, v in (extras or {}).items():
        arrays[f"extra_{k}"] = np.asarray(v)
    with atomic_write(path) as f:  # the previous file stays whole until the new one is
        np.savez(f, **arrays)


def _params(z, prefix: str, cfg: NetConfig, name: str) -> Params:
    dtype = np.dtype(cfg.dtype)
    out = []
    for l, (n_in, n_out) in enumerate(zip(cfg.sizes[:-1], cfg.sizes[1:]), 1):
        w = z.get(f"{prefix}W{l}")
        b = z.get(f"{prefix}b{l}")
        if w is None or w.shape != (n_in, n_out) or w.dtype != dtype:
            raise SessionError(f"{name}: the weights of layer {l} do not fit the saved configuration")
        if cfg.bias and (b is None or b.shape != (n_out,) or b.dtype != dtype):
            raise SessionError(f"{name}: the biases of layer {l} do not fit the saved configuration")
        if not np.isfinite(w).all() or (b is not None and not np.isfinite(b).all()):
            raise SessionError(f"{name}: the parameters of layer {l} are not finite")
        w.flags.writeable = False
        if b is not None:
            b.flags.writeable = False
        out.append((w, b if cfg.bias else None))
    return tuple(out)


def load_session(path: str | os.PathLike) -> Session:
    name = os.path.basename(os.fspath(path))
    try:
        with np.load(path, allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise SessionError(f"{name}: no such file") from None
    except Exception as e:
        # zipfile, zlib and numpy raise many kinds (BadZipFile, zlib.error, ValueError, even
        # NotImplementedError for a damaged version field): all mean the file cannot be used
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SessionError(f"{name} is not a readable bpviz session (corrupt or truncated: {detail})") from None
    try:
        header = json.loads(str(z["header"]))
    except (KeyError, ValueError):
        raise SessionError(f"{name} is not a bpviz session (no header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SessionError(f"{name} is not a bpviz session")
    version = header.get("version")
    if version != VERSION:
        newer = isinstance(version, int) and version > VERSION
        raise SessionError(f"{name} was saved by {'a newer' if newer else 'another'} version of bpviz "
                           f"(session format {version}; this bpviz reads format {VERSION})")
    try:
        cfg = NetConfig.from_dict(header["config"]).validate()
        ds = header["dataset"]
        st = header["state"]
        bps = tuple(Breakpoint(**b) for b in header.get("breakpoints", []))
        steps, epoch, batch, stage = (int(st[k]) for k in ("steps_done", "epoch", "batch", "stage_index"))
        dataset, identity = str(ds["name"]), str(ds["identity"])
    except ConfigError as e:
        raise SessionError(f"{name}: its configuration is impossible ({e})") from None
    except (KeyError, TypeError, ValueError) as e:
        raise SessionError(f"{name}: its header is damaged ({e})") from None
    losses = z.get("losses")
    epoch_losses = z.get("epoch_losses")
    if losses is None or epoch_losses is None or losses.ndim != 1 or len(losses) != steps \
            or epoch_losses.ndim != 1 or len(epoch_losses) != epoch:
        raise SessionError(f"{name}: its loss history does not match its position in the run")
    if min(steps, epoch, batch, stage) < 0:
        raise SessionError(f"{name}: its position in the run is negative")
    init = _params(z, "init_", cfg, name)
    current = _params(z, "", cfg, name)
    extras = {k[len("extra_"):]: v for k, v in z.items() if k.startswith("extra_")}
    state = TrainerState(current, steps, epoch, batch, tuple(float(v) for v in losses),
                         tuple(float(v) for v in epoch_losses), stage)
    return Session(cfg, dataset, identity, init, state, bps, extras)


def resume(session: Session, train_set, identity: str) -> Trainer:
    """A trainer at the session's position, on `train_set` whose files have checksum
    `identity`; a different data set is refused before anything is built."""
    if identity != session.identity:
        raise SessionError(f"the session was saved with data set {session.dataset} "
                           f"({session.identity[:12]}), but the data found differs ({identity[:12]})")
    try:
        t = Trainer(session.config, train_set, session.initial_params)
    except ConfigError as e:
        raise SessionError(f"the session does not fit the data: {e}") from None
    if session.state.batch >= t.n_batches:
        raise SessionError("the session's batch position is past the end of an epoch")
    t.restore(session.state)
    return t
