"""Hosting the run model (bpviz.engine.run.Run) on a training thread.

TrainingWorker lives in a plain QThread; its slots are verbs (step, play, pause, ...) and
each one calls the Run, which holds all the state. It publishes immutable Snapshots, but
only after the GUI has drawn the previous one (the ready flag), so Play never floods the
event loop; every loss value still reaches the GUI because each snapshot carries the
run's whole timeline. At a watching speed the play clock waits for the frame: the next
stage is computed only once the GUI has drawn the last one, so none is skipped however
busy the machine is.
"""
from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from bpviz.engine.config import ConfigError, NetConfig
from bpviz.engine.run import HISTORY_MB, Run
from bpviz.runs import RunData, fit_to_data, load_run_data

FRAME_MS = 33  # the GUI draws at most ~30 frames a second
GUI_DUTY = 0.15  # and spends at most about this share of its time drawing, so training keeps the rest
CHUNK_S = 0.005  # at full speed the worker runs stages for this long between looks at its queue
DRAW_WAIT_S = 0.25  # the longest the worker waits for the GUI to finish drawing a frame


class Cancelled(Exception):
    """The user cancelled a download."""


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class TrainingWorker(QObject):
    """Hosts one Run at a time. Every slot runs in the training thread."""

    snapshot_ready = Signal(object)  # Snapshot
    errored = Signal(str)
    playing_changed = Signal(bool)
    rebuilt = Signal(object, str)  # the running NetConfig and data set name, after Apply or a load
    download_progress = Signal(int, int, str)  # done bytes, total bytes (0 unknown), file name
    gradcheck_done = Signal(object)  # list of gradcheck.Check
    session_saved = Signal(str)
    breakpoints_loaded = Signal(object)  # the loaded session's breakpoints

    def __init__(self):
        super().__init__()
        self.run: Run | None = None
        self.playing = False
        self.speed = 0.0  # stages per second; 0 is full speed
        self.history_mb = HISTORY_MB
        self._ready = True  # the GUI has drawn the last snapshot
        self._dirty = False  # something happened since the last snapshot
        self._waiting_frame = False  # paced play: the next stage waits until this one is drawn
        self._last_stage_at = 0.0
        self._serial = 0
        self._cancel = threading.Event()
        # set by the GUI thread while it draws a frame: the worker waits, so the two do not
        # fight over the GIL (which made frames 3x slower and training 2x slower)
        self.drawing = threading.Event()
        self._blas = None

    @property
    def trainer(self):
        return self.run.trainer if self.run is not None else None

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
        """Load `dataset` (downloading when needed) and build a fresh run of `cfg`, fitted to
        the data's input and output sizes; on any problem the running network is left as it was."""
        self._set_playing(False)
        self._cancel.clear()
        try:
            data = self.run.data if (self.run is not None and self.run.data.name == dataset
                                     and not data_dir) else \
                load_run_data(dataset, data_dir, progress=self._progress)
            cfg, fitted = fit_to_data(cfg, data)
            run = Run.build(cfg, data, breakpoints=self._breakpoints(), history_mb=self.history_mb)
        except Cancelled:
            self.errored.emit("download cancelled; the network is unchanged")
            return
        except (ConfigError, ValueError) as e:
            self.errored.emit(f"not applied: {e}")
            return
        except Exception as e:  # DataError and anything unexpected: one line, state kept
            self.errored.emit(f"not applied: {_one_line(e)}")
            return
        if fitted:
            run.say(fitted)
        self._install(run)

    def _breakpoints(self) -> list:
        return list(self.run.breakpoints.items) if self.run is not None else []

    def _install(self, run: Run) -> None:
        """The new run replaces the old one whole."""
        self.run = run
        self.rebuilt.emit(run.cfg, run.data.name)
        self._publish(force=True)

    def _progress(self, done, total, name="") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.download_progress.emit(int(done), int(total or 0), str(name))

    def cancel_download(self) -> None:
        """Called from the GUI thread: an Event is safe to set from any thread."""
        self._cancel.set()

    # -- the verbs -----------------------------------------------------------------------
    def _do(self, verb, *args) -> bool:
        """Pause, run `verb(run, *args)` and publish; an error is shown, not raised."""
        if self.run is None:
            return False
        self._set_playing(False)
        try:
            verb(self.run, *args)
        except Exception as e:
            self._fail(e)
            return False
        self._publish(force=True)
        return True

    @Slot()
    def step(self) -> None:
        self._do(Run.advance, "stage")

    @Slot()
    def step_sample(self) -> None:
        self._do(Run.advance, "sample")

    @Slot()
    def finish_pass(self) -> None:
        self._do(Run.advance, "pass")

    @Slot()
    def step_batch(self) -> None:
        self._do(Run.advance, "step")

    @Slot()
    def step_epoch(self) -> None:
        self._do(Run.advance, "epoch")

    @Slot()
    def reset(self) -> None:
        self._set_playing(False)
        if self.run is not None:
            self._install(self.run.replaced())

    @Slot()
    def step_back(self) -> None:
        self._do(Run.step_back)

    @Slot(int)
    def rewind_to(self, step: int) -> None:
        """To the end of the backward pass of `step` (the scrubber's unit is a step)."""
        self._do(Run.rewind_to_stage, int(step), None)

    @Slot(int)
    def set_history_mb(self, mb: int) -> None:
        self.history_mb = max(1, int(mb))
        self._do(Run.set_history_mb, self.history_mb)

    @Slot(str, object, float)
    def edit_param(self, name: str, index, value: float) -> None:
        """Change one weight or bias while paused; the current step is recomputed."""
        self._edit(Run.edit_param, f"{name}{list(index)}", name, tuple(index), float(value))

    @Slot(int, object)
    def edit_input(self, row: int, values) -> None:
        self._edit(Run.edit_input, f"sample {row}", int(row), list(values))

    def _edit(self, verb, what: str, *args) -> None:
        if self.run is None:
            return
        self._set_playing(False)
        try:
            verb(self.run, *args)
        except Exception as e:
            self.errored.emit(f"cannot edit {what}: {_one_line(e)}")
            return
        self._publish(force=True)

    @Slot(int, object)
    def run_gradcheck(self, layer: int, cell) -> None:
        if self.run is None:
            return
        self._set_playing(False)
        try:
            checks = self.run.gradcheck(layer, cell)
        except Exception as e:
            self.errored.emit(f"gradient check failed to run: {_one_line(e)}")
            return
        self._publish(force=True)
        self.gradcheck_done.emit(checks)

    @Slot(float)
    def set_speed(self, stages_per_second: float) -> None:
        self.speed = max(0.0, float(stages_per_second))

    @Slot(object)
    def set_breakpoints(self, items: list) -> None:
        if self.run is not None:
            try:
                self.run.set_breakpoints(items)
            except (TypeError, ValueError) as e:
                self.errored.emit(f"breakpoints not set: {_one_line(e)}")

    # -- sessions ----------------------------------------------------------------------
    @Slot(str, object)
    def save_session(self, path: str, breakpoints) -> None:
        if self.run is None:
            return
        try:
            self.run.set_breakpoints(breakpoints)
            self.run.save_session(path)
        except Exception as e:
            self.errored.emit(f"could not save the session: {_one_line(e)}")
            return
        self.session_saved.emit(path)
        self._publish(force=True)

    @Slot(str, object)
    def load_session(self, path: str, data_dir) -> None:
        """Everything is checked and built before anything changes: a bad file leaves the
        run as it was, and a good one replaces it whole."""
        from bpviz.engine.session import SessionError, load_session
        self._set_playing(False)
        try:
            s = load_session(path)
            data = self.run.data if self.run is not None and self.run.data.name == s.dataset else \
                load_run_data(s.dataset, data_dir, progress=self._progress)
            run = Run.from_session(s, data, history_mb=self.history_mb)
        except (SessionError, ConfigError) as e:
            self.errored.emit(f"session not loaded: {e}")
            return
        except Exception as e:
            self.errored.emit(f"session not loaded: {_one_line(e)}")
            return
        self.breakpoints_loaded.emit(list(run.breakpoints.items))
        self._install(run)

    # -- playing -------------------------------------------------------------------------
    @Slot()
    def play(self) -> None:
        if self.run is None or self.playing:
            return
        self.run.say("")
        self._set_playing(True)
        self._waiting_frame = False
        QTimer.singleShot(0, self._play_tick)

    @Slot()
    def pause(self) -> None:
        """Stop at the stage reached and show it in full (every panel at that stage)."""
        self._set_playing(False)
        if self.run is not None:
            self.run.full_speed = False
            self._publish(force=True)

    @Slot()
    def frame_consumed(self) -> None:
        self._ready = True
        if self._dirty:
            self._publish()
            return
        if self.playing and self.speed > 0 and self._waiting_frame:
            # the stage on screen has been drawn: the next one comes at the speed's interval
            self._waiting_frame = False
            wait = self._last_stage_at + 1 / self.speed - time.perf_counter()
            QTimer.singleShot(max(0, int(wait * 1000)), self._play_tick)

    def _play_tick(self) -> None:
        if not self.playing or self.run is None:
            return
        paced = self.speed > 0
        if not paced and self.drawing.is_set():
            _wait_cleared(self.drawing, DRAW_WAIT_S)
            if not self.playing:
                return
        try:
            going = self.run.play(CHUNK_S, paced)
        except Exception as e:
            self._fail(e)
            return
        if not going:
            self._set_playing(False)
            self.run.full_speed = False
            self._publish(force=True)
            return
        if paced:
            self._last_stage_at = time.perf_counter()
            self._waiting_frame = True
            self._publish(force=True)  # this stage is shown before the next is computed
        else:
            self._publish()
            QTimer.singleShot(0, self._play_tick)  # let pause and other requests in

    def _fail(self, e: Exception) -> None:
        self._set_playing(False)
        msg = self.run.fail(e)
        if not msg.startswith("training stopped"):
            traceback.print_exc()
        self.run.full_speed = False
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
        if self.run is None:
            return
        if not (self._ready or force):
            self._dirty = True
            return
        self._ready = False
        self._dirty = False
        self.snapshot_ready.emit(self.snapshot())

    def snapshot(self):
        self._serial += 1
        return self.run.snapshot(self._serial, with_contrib=not self.playing)


def _wait_cleared(event: threading.Event, timeout: float) -> None:
    """Sleep (releasing the GIL) until `event` is cleared or `timeout` passes."""
    end = time.perf_counter() + timeout
    while event.is_set() and time.perf_counter() < end:
        time.sleep(0.001)
