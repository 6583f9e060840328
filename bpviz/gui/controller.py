"""The GUI thread's facade on training: panels, the window and tests talk only to it.

It keeps the latest snapshot and emits `snapshot_changed` from a frame timer, at most
about 30 times a second, then tells the worker the frame was consumed.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from bpviz.engine.config import NetConfig
from bpviz.engine.snapshot import Snapshot

from .worker import FRAME_MS, GUI_DUTY, TrainingWorker


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
        self.dataset = "toy"  # the data set of the running network
        self.config: NetConfig | None = None  # the running configuration
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

    @Slot(object, str)
    def _on_rebuilt(self, cfg, dataset: str) -> None:
        self.config = cfg
        self.dataset = dataset
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
