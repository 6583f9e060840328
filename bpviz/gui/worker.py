"""Training on a worker thread.

TrainingWorker lives in a plain QThread; its slots are verbs (step, play, pause, ...).
It publishes immutable Snapshots, but only after the GUI has drawn the previous one
(the ready flag), so Play never floods the event loop; every loss value still reaches
the GUI because each snapshot carries the whole loss history.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from bpviz.engine.breakpoints import Breakpoint, BreakpointSet
from bpviz.engine.config import ConfigError, NetConfig
from bpviz.engine.network import predict
from bpviz.engine.snapshot import Snapshot, StageResult
from bpviz.engine.stats import layer_stats
from bpviz.engine.trainer import DivergenceError, Trainer, TrainerState
from bpviz.runs import RunData, load_run_data, make_trainer

FRAME_MS = 33  # the GUI draws at most ~30 frames a second
GUI_DUTY = 0.15  # and spends at most about this share of its time drawing, so training keeps the rest
CHUNK_S = 0.005  # at full speed the worker runs stages for this long between looks at its queue
DRAW_WAIT_S = 0.25  # the longest the worker waits for the GUI to finish drawing a frame
STATS_HISTORY = 4000  # per-layer figures kept for the inspector's plots
STATS_EVERY = 10  # at full speed, per-layer figures are recorded every this many steps
HISTORY_MB = 256  # default memory for stepping back: about 320 checkpoints of 784-128-10 in float64
CHECKPOINT_EVERY = 10  # at full speed a checkpoint every this many steps (recomputing 10 steps takes ~10 ms)


class Cancelled(Exception):
    """The user cancelled a download."""


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def status_text(trainer: Trainer, r: StageResult | None) -> str:
    if r is None:
        return f"epoch {trainer.epoch} · batch {trainer.batch} · stage: ready"
    sample = f" · sample {r.sample + 1}" if r.sample is not None else ""
    return (f"epoch {r.epoch} · batch {r.batch} · stage {r.index + 1}/{r.n_stages} · "
            f"{r.eq} ({r.spec.title}){sample}: {r.spec.text(bias=trainer.cfg.bias)}")


class TrainingWorker(QObject):
    """Owns the Trainer. Every slot runs in the training thread."""

    snapshot_ready = Signal(object)  # Snapshot
    errored = Signal(str)
    playing_changed = Signal(bool)
    rebuilt = Signal(object)  # the new NetConfig, after Apply or a load
    download_progress = Signal(int, int, str)  # done bytes, total bytes (0 unknown), file name
    gradcheck_done = Signal(object)  # list of gradcheck.Check
    session_saved = Signal(str)
    breakpoints_loaded = Signal(object)  # the loaded session's breakpoints

    def __init__(self):
        super().__init__()
        self.trainer: Trainer | None = None
        self.data: RunData | None = None
        self.breakpoints = BreakpointSet()
        self.playing = False
        self.speed = 0.0  # stages per second; 0 is full speed
        self._ready = True  # the GUI has drawn the last snapshot
        self._dirty = False  # something happened since the last snapshot
        self._serial = 0
        self._run_id = 0  # bumped whenever the run is replaced
        self._test_accuracy: list[tuple[int, float]] = []
        self._stats_history: deque = deque(maxlen=STATS_HISTORY)
        self._message = ""
        self._cancel = threading.Event()
        # set by the GUI thread while it draws a frame: the worker waits, so the two do not
        # fight over the GIL (which made frames 3x slower and training 2x slower)
        self.drawing = threading.Event()
        self._blas = None
        self.checkpoints: deque[tuple[TrainerState, int]] = deque()  # (checkpoint, bytes it keeps)
        self.history_bytes = 0
        self.history_budget = HISTORY_MB * 2**20
        self.history_dropped = 0

    # -- set-up --------------------------------------------------------------------------
    @Slot()
    def on_thread_started(self) -> None:
        from bpviz.engine import threads  # the GUI thread keeps a core busy: reserve it
        self._blas = threads.limit(threads.choose(reserve=1))

    @Slot(object, str, object)
    def rebuild(self, cfg: NetConfig, dataset: str, data_dir) -> None:
        """Load `dataset` (downloading when needed) and build a fresh trainer for `cfg`;
        on any problem the running network is left as it was."""
        self._set_playing(False)
        self._cancel.clear()
        try:
            if self.data is None or self.data.name != dataset or data_dir:
                data = load_run_data(dataset, data_dir, progress=self._progress)
            else:
                data = self.data
            trainer = make_trainer(cfg, data)
        except Cancelled:
            self.errored.emit("download cancelled; the network is unchanged")
            return
        except (ConfigError, ValueError) as e:
            self.errored.emit(str(e))
            return
        except Exception as e:  # DataError and anything unexpected: one line, state kept
            self.errored.emit(_one_line(e))
            return
        self._install(trainer, data)
        self.rebuilt.emit(cfg)
        self._publish(force=True)

    def _install(self, trainer: Trainer, data: RunData) -> None:
        self.trainer, self.data = trainer, data
        trainer.on_stage = self._remember
        self._reset_history()
        self._labels = data.train.class_labels if data.train.class_labels() is not None else None

    def _progress(self, done, total, name="") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.download_progress.emit(int(done), int(total or 0), str(name))

    def cancel_download(self) -> None:
        """Called from the GUI thread: an Event is safe to set from any thread."""
        self._cancel.set()

    def _reset_history(self) -> None:
        self._run_id += 1
        self._test_accuracy = []
        self._stats_history.clear()
        self._message = ""
        self.checkpoints.clear()
        self.history_bytes = 0
        self.history_dropped = 0

    # -- stepping back -----------------------------------------------------------------
    # The history is a list of checkpoints: the parameters a step started from, with its
    # position. Any stage after the oldest checkpoint is recomputed from the nearest one
    # (the engine is deterministic, so the numbers are identical). Keeping every stage's
    # arrays instead would keep ~2 MB a step of MNIST alive and slow training by a third.
    def _remember(self, r: StageResult) -> None:
        if r.index != 0:
            return
        every = 1 if not self.playing or self.speed > 0 else CHECKPOINT_EVERY
        if self.checkpoints and (r.step - self.checkpoints[-1][0].steps_done < every):
            return
        params = tuple((r.info.base[f"W{l}"], r.info.base.get(f"b{l}")) for l in range(1, self.trainer.cfg.n_layers + 1))
        self._add_checkpoint(TrainerState(params, r.step, r.epoch, r.batch, (), (), 0))

    def _add_checkpoint(self, st: TrainerState) -> None:
        size = sum(w.nbytes + (0 if b is None else b.nbytes) for w, b in st.params)
        self.checkpoints.append((st, size))
        self.history_bytes += size
        self._trim_history()

    def _trim_history(self) -> None:
        while self.history_bytes > self.history_budget and len(self.checkpoints) > 1:
            _, old = self.checkpoints.popleft()
            self.history_bytes -= old
            self.history_dropped += 1

    @Slot(int)
    def set_history_mb(self, mb: int) -> None:
        self.history_budget = max(1, int(mb)) * 2**20
        self._trim_history()
        self._publish(force=True)

    @Slot()
    def step_back(self) -> None:
        """One stage back, across batch and epoch boundaries while the history reaches."""
        self._set_playing(False)
        r = self.trainer.last
        if r is None:
            self._message = "history: this is the first stage"
            self._publish(force=True)
            return
        if r.index > 0:
            target = (r.step, r.index - 1)
        elif r.step > 0:
            target = (r.step - 1, None)  # the previous step's last stage, whatever its plan's length
        else:
            self._message = "history: this is the first stage"
            self._publish(force=True)
            return
        self.rewind_to_stage(*target)

    @Slot(int)
    def rewind_to(self, step: int) -> None:
        """To the end of the backward pass of `step` (the scrubber's unit is a step)."""
        self.rewind_to_stage(int(step), None)

    def rewind_to_stage(self, step: int, index: int | None) -> None:
        """Recompute the run up to stage `index` of `step` (None: its last stage) from the
        nearest checkpoint; stepping forward then continues training from there."""
        self._set_playing(False)
        usable = [c for c, _ in self.checkpoints if c.steps_done <= step]
        if not usable:
            self._message = "history: nothing older is kept (raise the history memory to keep more)"
            self._publish(force=True)
            return
        c = usable[-1]
        t = self.trainer
        observer, t.on_stage = t.on_stage, None
        try:
            t.restore(TrainerState(c.params, c.steps_done, c.epoch, c.batch, tuple(t.losses[:c.steps_done]),
                                   tuple(t.epoch_losses[:c.epoch]), 0))
            while True:
                r = t.next_stage()
                if r.step == step and (r.index == index or (index is None and r.step_end)):
                    break
        except Exception as e:
            t.on_stage = observer
            self._fail(e)
            return
        t.on_stage = observer
        while self.checkpoints and self.checkpoints[-1][0].steps_done > step:
            _, size = self.checkpoints.pop()
            self.history_bytes -= size
        self._test_accuracy = [(s, a) for s, a in self._test_accuracy if s <= step]
        while self._stats_history and self._stats_history[-1][0] >= step:
            self._stats_history.pop()
        self._message = ""
        self._publish(force=True)

    def _resync_history(self) -> None:
        """After an edit changed the parameters the current step starts from, its
        checkpoint (and any later one) is replaced."""
        st = self.trainer.state()
        while self.checkpoints and self.checkpoints[-1][0].steps_done >= st.steps_done:
            _, size = self.checkpoints.pop()
            self.history_bytes -= size
        self._add_checkpoint(TrainerState(st.params, st.steps_done, st.epoch, st.batch, (), (), 0))

    # -- editing, checking, contributions -------------------------------------------------
    @Slot(str, object, float)
    def edit_param(self, name: str, index, value: float) -> None:
        """Change one weight or bias while paused; the current step is recomputed."""
        self._edit(lambda t: t.set_param(name, tuple(index), float(value)), f"{name}{list(index)}",
                   f"edited {name}{list(index)} = {value:g}; this step was recomputed")

    @Slot(int, object)
    def edit_input(self, row: int, values) -> None:
        self._edit(lambda t: t.set_input(int(row), np.asarray(values, dtype=float)), f"sample {row}",
                   f"edited the input of sample {row}; this step was recomputed")

    def _edit(self, change, what: str, done: str) -> None:
        self._set_playing(False)
        try:
            change(self.trainer)
        except Exception as e:
            self.errored.emit(f"cannot edit {what}: {_one_line(e)}")
            return
        self._resync_history()
        self._message = done
        self._publish(force=True)

    @Slot(int, object)
    def run_gradcheck(self, layer: int, cell) -> None:
        """Central differences on the current batch for one layer (or one weight of it),
        from the parameters the current step starts from."""
        from bpviz.engine.gradcheck import gradcheck
        t = self.trainer
        try:
            r = t.last if t.last is not None and not t.last.step_end else t.next_stage()
            self._publish(force=True)
            arrays = r.arrays
            params = tuple((arrays[f"W{l}"], arrays.get(f"b{l}")) for l in range(1, t.cfg.n_layers + 1))
            names = {f"W{layer}"} | ({f"b{layer}"} if t.cfg.bias else set())
            entries = {f"W{layer}": [tuple(cell)]} if cell is not None else None
            if entries:
                names = {f"W{layer}"}
            checks = gradcheck(t.cfg, arrays["X"], arrays["Y"], params, names=names, entries=entries,
                               max_entries=None if entries else 40, intermediates=False)
        except Exception as e:
            self.errored.emit(f"gradient check failed to run: {_one_line(e)}")
            return
        self.gradcheck_done.emit(checks)

    # -- sessions ----------------------------------------------------------------------
    @Slot(str, object)
    def save_session(self, path: str, breakpoints) -> None:
        from bpviz.engine.session import save_session
        try:
            extras = {"test_accuracy": np.array(self._test_accuracy, dtype=float).reshape(-1, 2)}
            save_session(path, self.trainer, self.data.name, self.data.identity, list(breakpoints), extras)
        except Exception as e:
            self.errored.emit(f"could not save the session: {_one_line(e)}")
            return
        self.session_saved.emit(path)

    @Slot(str, object)
    def load_session(self, path: str, data_dir) -> None:
        """Everything is checked before anything changes: a bad file leaves the run as it was."""
        from bpviz.engine.session import SessionError, load_session, resume
        self._set_playing(False)
        try:
            s = load_session(path)
            data = self.data if self.data is not None and self.data.name == s.dataset else \
                load_run_data(s.dataset, data_dir, progress=self._progress)
            trainer = resume(s, data.train, data.identity)
        except (SessionError, ConfigError) as e:
            self.errored.emit(f"session not loaded: {e}")
            return
        except Exception as e:
            self.errored.emit(f"session not loaded: {_one_line(e)}")
            return
        self._install(trainer, data)
        acc = s.extras.get("test_accuracy")
        if acc is not None:
            self._test_accuracy = [(int(a), float(b)) for a, b in np.asarray(acc).reshape(-1, 2)]
        self.breakpoints = BreakpointSet(list(s.breakpoints))
        self.breakpoints_loaded.emit(list(s.breakpoints))
        self.rebuilt.emit(s.config)
        self._message = f"session loaded: step {s.state.steps_done}, epoch {s.state.epoch}"
        self._publish(force=True)

    # -- the verbs -----------------------------------------------------------------------
    @Slot()
    def step(self) -> None:
        self._advance(lambda t: t.next_stage())

    @Slot()
    def step_sample(self) -> None:
        self._advance(lambda t: t.next_sample() if t.cfg.per_sample else t.next_stage())

    @Slot()
    def finish_pass(self) -> None:
        self._advance(lambda t: t.finish_pass())

    @Slot()
    def step_batch(self) -> None:
        self._advance(lambda t: t.finish_step())

    @Slot()
    def step_epoch(self) -> None:
        self._advance(lambda t: t.finish_epoch())

    @Slot()
    def reset(self) -> None:
        self._set_playing(False)
        if self.trainer is not None:
            self.trainer.reset()
            self._reset_history()
            self._publish(force=True)

    @Slot(float)
    def set_speed(self, stages_per_second: float) -> None:
        self.speed = max(0.0, float(stages_per_second))

    @Slot(object)
    def set_breakpoints(self, items: list) -> None:
        self.breakpoints = BreakpointSet([b if isinstance(b, Breakpoint) else Breakpoint(**b) for b in items])

    @Slot()
    def play(self) -> None:
        if self.trainer is None or self.playing:
            return
        self._message = ""
        self._set_playing(True)
        QTimer.singleShot(0, self._play_tick)

    @Slot()
    def pause(self) -> None:
        self._set_playing(False)
        self._publish()

    @Slot()
    def frame_consumed(self) -> None:
        self._ready = True
        if self._dirty:
            self._publish()

    # -- running -------------------------------------------------------------------------
    def _advance(self, how) -> None:
        """One user-requested move, with breakpoints watched on the way."""
        if self.trainer is None:
            return
        self._set_playing(False)
        self._message = ""
        try:
            r = self._run_stage(how)
            if r is None:
                return
        except Exception as e:
            self._fail(e)
            return
        self._publish(force=True)

    def _run_stage(self, how):
        r = how(self.trainer)
        self._after_stages(r)
        return r

    def _after_stages(self, r: StageResult) -> None:
        t = self.trainer
        if r.step_end:
            self._record_stats(r)
        if r.epoch_end:
            self._measure_test_accuracy(t.steps_done)

    def _record_stats(self, r: StageResult) -> None:
        """Per-layer figures of a finished step, for the inspector's history."""
        cfg = self.trainer.cfg
        self._stats_history.append((r.step, layer_stats(r.arrays, cfg.n_layers, cfg.hidden, cfg.lr)))

    def _check_breakpoints(self, r: StageResult, previous_loss) -> str | None:
        if not self.breakpoints.items:
            return None
        t = self.trainer
        return self.breakpoints.check(r, previous_loss, t.cfg.lr, t.cfg.n_layers, self._labels,
                                      t.steps_done, t.epoch)

    def _play_tick(self) -> None:
        if not self.playing or self.trainer is None:
            return
        try:
            if self.speed > 0:
                self._play_one()
                if self.playing:
                    QTimer.singleShot(max(1, int(1000 / self.speed)), self._play_tick)
                return
            if self.drawing.is_set():
                _wait_cleared(self.drawing, DRAW_WAIT_S)
            deadline = time.perf_counter() + CHUNK_S
            while self.playing and time.perf_counter() < deadline:
                self._play_one()
        except Exception as e:
            self._fail(e)
            return
        self._dirty = True
        self._publish()
        if self.playing:
            QTimer.singleShot(0, self._play_tick)  # let pause and other requests in

    def _play_one(self) -> None:
        t = self.trainer
        prev_loss = t.losses[-1] if t.losses else None
        r = t.next_stage()
        if r.step_end and (self.speed > 0 or r.step % STATS_EVERY == 0):
            self._record_stats(r)
        if r.epoch_end:
            self._measure_test_accuracy(t.steps_done)
        msg = self._check_breakpoints(r, prev_loss)
        if msg:
            self._message = msg
            self._set_playing(False)
            self._publish(force=True)
        else:
            self._dirty = True
            if self.speed > 0:
                self._publish()

    def _measure_test_accuracy(self, step: int) -> None:
        test = self.data.test if self.data is not None else None
        if test is None or test.class_labels() is None:
            return
        t = self.trainer
        correct = 0
        for s in range(0, test.n_samples, 5000):
            idx = np.arange(s, min(s + 5000, test.n_samples))
            x, _ = test.batch(idx, t.dtype)  # (chunk, n0)
            with np.errstate(all="ignore"):
                out = predict(t.params, x, t.cfg)  # (chunk, nL)
            correct += int(np.sum(np.argmax(out, axis=1) == test.class_labels(idx)))
        self._test_accuracy.append((step, correct / test.n_samples))

    def _fail(self, e: Exception) -> None:
        self._set_playing(False)
        if isinstance(e, DivergenceError):
            msg = f"training stopped: {e}"
        else:
            msg = f"error: {_one_line(e)}"
            traceback.print_exc()
        self._message = msg
        self._publish(force=True)
        self.errored.emit(msg)

    def _set_playing(self, on: bool) -> None:
        if on != self.playing:
            self.playing = on
            self.playing_changed.emit(on)

    # -- publishing ----------------------------------------------------------------------
    def _publish(self, force: bool = False) -> None:
        """Send a snapshot if the GUI is ready for one; otherwise remember to send the
        latest when it is. `force` sends regardless (single steps, errors, pauses)."""
        if self.trainer is None:
            return
        if not (self._ready or force):
            self._dirty = True
            return
        self._ready = False
        self._dirty = False
        self.snapshot_ready.emit(self.snapshot())

    def snapshot(self) -> Snapshot:
        t = self.trainer
        r = t.last
        arrays = r.arrays if r is not None else None
        stats = layer_stats(arrays, t.cfg.n_layers, t.cfg.hidden, t.cfg.lr) if arrays is not None else {}
        self._serial += 1
        d = self.data
        contrib = None
        if r is not None and not self.playing:  # per-sample parts cost a pass over the batch: paused only
            from bpviz.engine.contrib import gradient_shares, per_sample_losses
            losses = per_sample_losses(arrays, t.cfg)
            if losses is not None:
                contrib = {"losses": losses, "shares": gradient_shares(arrays, t.cfg)}
        oldest = self.checkpoints[0][0].steps_done if self.checkpoints else t.steps_done
        return Snapshot(stage=r, config=t.cfg, params=t.params, losses=_frozen(t.losses),
                        epoch_losses=_frozen(t.epoch_losses), test_accuracy=tuple(self._test_accuracy),
                        stats=stats, stats_history=tuple(self._stats_history), data_name=d.name,
                        image_shape=d.train.image_shape, class_names=d.class_names,
                        status=status_text(t, r), message=self._message, serial=self._serial,
                        history=(len(self.checkpoints), oldest, self.history_dropped), contrib=contrib,
                        message_kind=_kind(self._message), warnings=(), run_id=self._run_id)


def _kind(message: str) -> str:
    if message.startswith(("training stopped", "error")):
        return "error"
    return "warning" if message.startswith("breakpoint") else "info"


def _wait_cleared(event: threading.Event, timeout: float) -> None:
    """Sleep (releasing the GIL) until `event` is cleared or `timeout` passes."""
    end = time.perf_counter() + timeout
    while event.is_set() and time.perf_counter() < end:
        time.sleep(0.001)


def _one_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
