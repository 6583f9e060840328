"""Training on a worker thread, and the GUI-thread facade that talks to it.

TrainingWorker lives in a plain QThread; its slots are verbs (step, play, pause, ...).
It publishes immutable Snapshots, but only after the GUI has drawn the previous one
(the ready flag), so Play never floods the event loop; every loss value still reaches
the GUI because each snapshot carries the whole loss history.

Controller lives in the GUI thread. Panels, the window and tests talk only to it. It
keeps the latest snapshot and emits `snapshot_changed` from a frame timer, at most
about 30 times a second, then tells the worker the frame was consumed.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

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
        # one BLAS thread: with the GUI thread busy, OpenBLAS's second thread collapses throughput
        try:
            from threadpoolctl import threadpool_limits
            self._blas = threadpool_limits(1)
        except Exception:  # threadpoolctl cannot see every BLAS; training still works
            self._blas = None

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
        self._test_accuracy = list(s.test_accuracy)  # validated (step, accuracy) pairs
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
                        history=(len(self.checkpoints), oldest, self.history_dropped), contrib=contrib)


def _wait_cleared(event: threading.Event, timeout: float) -> None:
    """Sleep (releasing the GIL) until `event` is cleared or `timeout` passes."""
    end = time.perf_counter() + timeout
    while event.is_set() and time.perf_counter() < end:
        time.sleep(0.001)


def _one_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class Controller(QObject):
    """The GUI thread's handle on training. Request methods return at once; results
    arrive as `snapshot_changed`."""

    snapshot_changed = Signal(object)
    error_occurred = Signal(str)
    playing_changed = Signal(bool)
    config_changed = Signal(object)
    focus_changed = Signal(int)
    download_progress = Signal(int, int, str)

    # queued requests to the worker (connected to its slots, so they run in its thread)
    _do_step = Signal()
    _do_step_sample = Signal()
    _do_finish_pass = Signal()
    _do_step_batch = Signal()
    _do_step_epoch = Signal()
    _do_play = Signal()
    _do_pause = Signal()
    _do_reset = Signal()
    _do_speed = Signal(float)
    _do_rebuild = Signal(object, str, object)
    _do_breakpoints = Signal(object)
    _frame_consumed = Signal()
    _do_step_back = Signal()
    _do_rewind = Signal(int)
    _do_history_mb = Signal(int)
    _do_edit_param = Signal(str, object, float)
    _do_edit_input = Signal(int, object)
    _do_gradcheck = Signal(int, object)
    _do_save = Signal(str, object)
    _do_load = Signal(str, object)
    gradcheck_done = Signal(object)
    session_saved = Signal(str)
    breakpoints_loaded = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.latest: Snapshot | None = None
        self.playing = False
        self.focus = 0
        self.dataset = "toy"
        self._dirty = False
        self._last_frame = 0.0
        self.frame_cost = 0.0  # seconds a frame takes to redraw and paint, smoothed
        self.speed = 0.0  # stages per second while playing; 0 is full speed
        self._thread = QThread()
        self._thread.setObjectName("bpviz-training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.on_thread_started)
        for sig, slot in ((self._do_step, self.worker.step), (self._do_step_sample, self.worker.step_sample),
                          (self._do_finish_pass, self.worker.finish_pass),
                          (self._do_step_batch, self.worker.step_batch),
                          (self._do_step_epoch, self.worker.step_epoch), (self._do_play, self.worker.play),
                          (self._do_pause, self.worker.pause), (self._do_reset, self.worker.reset),
                          (self._do_speed, self.worker.set_speed), (self._do_rebuild, self.worker.rebuild),
                          (self._do_breakpoints, self.worker.set_breakpoints),
                          (self._frame_consumed, self.worker.frame_consumed),
                          (self._do_step_back, self.worker.step_back), (self._do_rewind, self.worker.rewind_to),
                          (self._do_history_mb, self.worker.set_history_mb),
                          (self._do_edit_param, self.worker.edit_param),
                          (self._do_edit_input, self.worker.edit_input),
                          (self._do_gradcheck, self.worker.run_gradcheck),
                          (self._do_save, self.worker.save_session), (self._do_load, self.worker.load_session)):
            sig.connect(slot)
        # worker -> controller: @Slot methods of this GUI-thread object, so they run here
        self.worker.snapshot_ready.connect(self._on_snapshot)
        self.worker.errored.connect(self._on_error)
        self.worker.playing_changed.connect(self._on_playing)
        self.worker.rebuilt.connect(self._on_rebuilt)
        self.worker.download_progress.connect(self._on_progress)
        self.worker.gradcheck_done.connect(self._on_gradcheck)
        self.worker.session_saved.connect(self._on_saved)
        self.worker.breakpoints_loaded.connect(self._on_breakpoints_loaded)
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS // 3)  # checks often; _frame_gap decides when to draw
        self._frame.timeout.connect(self._on_frame)
        self._thread.start()
        self._frame.start()

    # -- requests ----------------------------------------------------------------------
    def request_step(self):
        self._do_step.emit()

    def request_step_sample(self):
        self._do_step_sample.emit()

    def request_finish_pass(self):
        self._do_finish_pass.emit()

    def request_step_batch(self):
        self._do_step_batch.emit()

    def request_step_epoch(self):
        self._do_step_epoch.emit()

    def request_play(self):
        self._do_play.emit()

    def request_pause(self):
        self._do_pause.emit()

    def toggle_play(self):
        (self.request_pause if self.playing else self.request_play)()

    def request_reset(self):
        self._do_reset.emit()

    def set_speed(self, stages_per_second: float):
        self.speed = float(stages_per_second)
        self._do_speed.emit(self.speed)

    def set_breakpoints(self, items: list):
        self._do_breakpoints.emit(list(items))

    def rebuild(self, cfg: NetConfig, dataset: str, data_dir: str | None = None):
        """Validate first (a clear message, the running network untouched), then ask the worker."""
        cfg.validate()
        self.dataset = dataset
        self._do_rebuild.emit(cfg, dataset, data_dir)

    def cancel_download(self):
        self.worker.cancel_download()

    def request_step_back(self):
        self._do_step_back.emit()

    def request_rewind(self, i: int):
        self._do_rewind.emit(int(i))

    def set_history_mb(self, mb: int):
        self._do_history_mb.emit(int(mb))

    def edit_param(self, name: str, index: tuple, value: float):
        self._do_edit_param.emit(name, tuple(index), float(value))

    def edit_input(self, row: int, values):
        self._do_edit_input.emit(int(row), list(values))

    def request_gradcheck(self, layer: int, cell=None):
        self._do_gradcheck.emit(int(layer), None if cell is None else tuple(cell))

    def save_session(self, path: str, breakpoints=()):
        self._do_save.emit(path, list(breakpoints))

    def load_session(self, path: str, data_dir=None):
        self._do_load.emit(path, data_dir)

    def set_focus(self, row: int):
        if row != self.focus:
            self.focus = row
            self.focus_changed.emit(row)

    # -- from the worker ------------------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        self.latest = snap
        self._dirty = True
        if time.perf_counter() - self._last_frame >= self._frame_gap():
            self._on_frame()  # idle for a frame already: a Step is drawn at once, not at the next tick

    def _frame_gap(self) -> float:
        """Seconds between frames: 1/30; while playing, longer when drawing costs more than
        GUI_DUTY allows (a paused worker competes with nothing, so a Step draws at once)."""
        if not self.full_speed:
            return FRAME_MS / 1000
        return max(FRAME_MS / 1000, self.frame_cost / GUI_DUTY)

    @property
    def full_speed(self) -> bool:
        """Playing with no speed limit: the worker is busy and competes with drawing."""
        return self.playing and self.speed == 0

    @Slot()
    def _on_frame(self) -> None:
        if not self._dirty or time.perf_counter() - self._last_frame < self._frame_gap():
            return
        self._dirty = False
        start = self._last_frame = time.perf_counter()
        self.worker.drawing.set()
        self.snapshot_changed.emit(self.latest)  # every panel redraws now...
        # ...and paints when the event loop gets to it; a zero timer fires after that
        QTimer.singleShot(0, lambda: self._frame_done(start))

    def _frame_done(self, start: float) -> None:
        self.worker.drawing.clear()
        cost = time.perf_counter() - start
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * cost  # smoothed: one slow frame does not halve the rate
        self._frame_consumed.emit()

    @Slot(str)
    def _on_error(self, msg: str) -> None:
        self.error_occurred.emit(msg)

    @Slot(bool)
    def _on_playing(self, on: bool) -> None:
        self.playing = on
        self.playing_changed.emit(on)

    @Slot(object)
    def _on_rebuilt(self, cfg) -> None:
        self.config_changed.emit(cfg)

    @Slot(int, int, str)
    def _on_progress(self, done, total, name) -> None:
        self.download_progress.emit(done, total, name)

    @Slot(object)
    def _on_gradcheck(self, checks) -> None:
        self.gradcheck_done.emit(checks)

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self.session_saved.emit(path)

    @Slot(object)
    def _on_breakpoints_loaded(self, items) -> None:
        self.breakpoints_loaded.emit(items)

    # -- the end -------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop the worker and join its thread; True when it ended in time."""
        self._frame.stop()
        self.worker.playing = False  # a plain flag the play loop reads: stops it within one chunk
        self.worker.cancel_download()
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        return bool(ok)
