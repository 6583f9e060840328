"""The GUI thread's facade on training: panels, the window and tests talk only to it.

It keeps the latest snapshot and emits `snapshot_changed` from a frame timer, at most
about 30 times a second, then tells the worker the frame was consumed.
"""
from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from bpviz.engine.config import NetConfig
from bpviz.engine.snapshot import Snapshot

from .worker import FRAME_MS, GUI_DUTY, ProcessWorker, TrainingWorker


class Controller(QObject):
    """The GUI thread's handle on training. Request methods return at once; results
    arrive as `snapshot_changed`."""

    snapshot_changed = Signal(object)
    error_occurred = Signal(str)
    playing_changed = Signal(bool)
    config_changed = Signal(object)
    focus_changed = Signal(int)
    download_progress = Signal(int, int, str)

    _request = Signal(str, object)  # (verb, args), queued to the thread worker's `request` slot
    _do_rebuild = Signal(object, str, object)
    gradcheck_done = Signal(object)
    session_saved = Signal(str)
    breakpoints_loaded = Signal(object)

    def __init__(self, parent=None, backend: str | None = None):
        """`backend` "process" (a child process: the default, measured faster in
        benchmarks/gui_bench.py) or "thread" (a training thread); by default $BPVIZ_WORKER."""
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
        self.backend = backend or os.environ.get("BPVIZ_WORKER") or "process"
        self._thread = None
        if self.backend == "process":
            self.worker = ProcessWorker(self)
        elif self.backend == "thread":
            self._thread = QThread()
            self._thread.setObjectName("bpviz-training")
            self.worker = TrainingWorker()
            self.worker.moveToThread(self._thread)
            self._thread.started.connect(self.worker.on_thread_started)
            self._request.connect(self.worker.request)
            self._do_rebuild.connect(self.worker.rebuild)
        else:
            raise ValueError(f"unknown worker backend {self.backend!r} (thread or process)")
        # worker -> controller: @Slot methods of this GUI-thread object, so they run here
        self.worker.snapshot_ready.connect(self._on_snapshot)
        self.worker.errored.connect(self._on_error)
        self.worker.playing_changed.connect(self._on_playing)
        self.worker.rebuilt.connect(self._on_rebuilt)
        self.worker.download_progress.connect(self._on_progress)
        self.worker.gradcheck_done.connect(self._on_gradcheck)
        self.worker.session_saved.connect(self._on_saved)
        self.worker.breakpoints_loaded.connect(self._on_breakpoints_loaded)
        # one shot, set for the moment the next frame is due: a timer polling every 11 ms
        # drew 33-44 ms apart, 25 frames a second at most
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setTimerType(Qt.PreciseTimer)
        # ...and, once due, a zero timer more: the timers and input already due go first. A
        # frame due while the last one painted started straight after the paint, and the
        # two made one stall of the GUI thread on a machine too slow for 30 frames a second
        self._frame_go = QTimer(self)
        self._frame_go.setSingleShot(True)
        self._frame_go.setInterval(0)
        self._frame_go.timeout.connect(self._on_frame)
        self._frame.timeout.connect(self._frame_go.start)
        if self._thread is not None:
            self._thread.start()

    def _ask(self, verb: str, *args) -> None:
        if self._thread is not None:
            self._request.emit(verb, args)  # queued: runs in the training thread
        else:
            self.worker.request(verb, args)

    # -- requests ----------------------------------------------------------------------
    def request_step(self):
        self._ask("stage")

    def request_step_sample(self):
        self._ask("sample")

    def request_finish_pass(self):
        self._ask("pass")

    def request_step_batch(self):
        self._ask("step")

    def request_step_epoch(self):
        self._ask("epoch")

    def request_play(self):
        self._ask("play")

    def request_pause(self):
        self._ask("pause")

    def toggle_play(self):
        (self.request_pause if self.playing else self.request_play)()

    def request_reset(self):
        self._ask("reset")

    def set_speed(self, stages_per_second: float):
        self.speed = float(stages_per_second)
        self._ask("set_speed", self.speed)

    def set_breakpoints(self, items: list):
        self._ask("set_breakpoints", list(items))

    def rebuild(self, cfg: NetConfig, dataset: str, data_dir: str | None = None):
        """Validate first (a clear message, the running network untouched), then ask the worker."""
        cfg.validate()
        if self._thread is not None:
            self._do_rebuild.emit(cfg, dataset, data_dir)
        else:
            self.worker.rebuild(cfg, dataset, data_dir)

    def cancel_download(self):
        self.worker.cancel_download()

    def request_step_back(self):
        self._ask("step_back")

    def request_rewind(self, i: int):
        self._ask("rewind_to", int(i))

    def set_history_mb(self, mb: int):
        self._ask("set_history_mb", int(mb))

    def edit_param(self, name: str, index: tuple, value: float):
        self._ask("edit_param", name, tuple(index), float(value))

    def edit_input(self, row: int, values):
        self._ask("edit_input", int(row), list(values))

    def request_gradcheck(self, layer: int, cell=None):
        self._ask("gradcheck", int(layer), None if cell is None else tuple(cell))

    def save_session(self, path: str, breakpoints=()):
        self._ask("save_session", path, list(breakpoints))

    def load_session(self, path: str, data_dir=None):
        self._ask("load_session", path, data_dir)

    def set_focus(self, row: int):
        if row != self.focus:
            self.focus = row
            self.focus_changed.emit(row)

    # -- from the worker ------------------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        self.latest = snap
        self._dirty = True
        if self._until_due() <= 0 and not self.playing:
            self._on_frame()  # idle for a frame already: a Step is drawn at once, not at the next tick
        elif not (self._frame.isActive() or self._frame_go.isActive()):
            # while playing, a frame that is due still waits for a turn of the event loop:
            # run here it would follow the last frame's painting with no input handled between
            self._frame.start(max(0, round(self._until_due() * 1000)))

    def _until_due(self) -> float:
        """Seconds until the next frame may start (0 or less: now)."""
        return self._last_frame + self._frame_gap() - time.perf_counter()

    def _frame_gap(self) -> float:
        """Seconds between frames: 1/30; while playing on a thread, longer when drawing costs
        more than GUI_DUTY allows (a paused worker competes with nothing, so a Step draws at
        once; a child process shares no interpreter with the window, so it never waits)."""
        if not self.full_speed or self._thread is None:
            return FRAME_MS / 1000
        return max(FRAME_MS / 1000, self.frame_cost / GUI_DUTY)

    @property
    def full_speed(self) -> bool:
        """Playing with no speed limit: the worker is busy and competes with drawing."""
        return self.playing and self.speed == 0

    @Slot()
    def _on_frame(self) -> None:
        if not self._dirty:
            return
        if self._until_due() > 0:  # the gap grew meanwhile (the thread worker's duty budget): come back then
            self._frame.start(max(1, round(self._until_due() * 1000)))
            return
        self._dirty = False
        start = self._last_frame = time.perf_counter()
        # at full speed a child process makes the next snapshot while this one is drawn, so
        # the window never waits for it (a thread would compete with the drawing instead; a
        # watching speed computes the next stage only once this one is on screen)
        early = self._thread is None and self.full_speed
        if early:
            self._ask("frame_consumed")
        self.worker.drawing.set()
        self.snapshot_changed.emit(self.latest)  # every panel redraws now...
        # ...and paints when the event loop gets to it; a zero timer fires after that
        QTimer.singleShot(0, self, lambda: self._frame_done(start, early))

    def _frame_done(self, start: float, told: bool = False) -> None:
        self.worker.drawing.clear()
        cost = time.perf_counter() - start
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * cost  # smoothed: one slow frame does not halve the rate
        if not told:
            self._ask("frame_consumed")

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
    def worker_running(self) -> bool:
        """Whether the training thread or process is still alive."""
        if self._thread is None:
            return self.worker.process.is_alive()
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop the worker and join its thread or end its process; True when it ended in time."""
        self._frame.stop()
        self._frame_go.stop()
        if self._thread is None:
            return self.worker.shutdown(timeout_ms / 1000)
        self.worker.stop()
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        return bool(ok)
