"""The two ways the window hosts its run (bpviz.engine.host.Host): on a training thread
(TrainingWorker) or in a child process (ProcessWorker). Both have the same slots (the
verbs) and signals, so the Controller drives either; the Host holds all the logic.
"""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot

from bpviz.engine.config import NetConfig
from bpviz.engine.frames import FrameReader, TailReader
from bpviz.engine.host import Cancelled, Host

FRAME_MS = 30  # frames start at least this far apart: ~30 a second once a late timer or a long paint is counted
GUI_DUTY = 0.15  # and spends at most about this share of its time drawing, so training keeps the rest
DRAW_WAIT_S = 0.25  # the longest the thread worker waits for the GUI to finish drawing a frame


class _Signals(QObject):
    """What a worker tells the Controller."""

    snapshot_ready = Signal(object)  # Snapshot
    errored = Signal(str)
    playing_changed = Signal(bool)
    rebuilt = Signal(object, str)  # the running NetConfig and data set name, after Apply or a load
    download_progress = Signal(int, int, str)  # done bytes, total bytes (0 unknown), file name
    gradcheck_done = Signal(object)  # list of gradcheck.Check
    session_saved = Signal(str)
    breakpoints_loaded = Signal(object)  # the loaded session's breakpoints

    def _emit(self, kind: str, *args) -> None:
        {"snapshot": self.snapshot_ready, "errored": self.errored, "playing": self.playing_changed,
         "rebuilt": self.rebuilt, "progress": self.download_progress, "gradcheck": self.gradcheck_done,
         "saved": self.session_saved, "breakpoints": self.breakpoints_loaded}[kind].emit(*args)


class TrainingWorker(_Signals):
    """Hosts the run in a QThread: every slot runs in the training thread."""

    def __init__(self):
        super().__init__()
        self._cancel = threading.Event()
        # set by the GUI thread while it draws a frame: the worker waits, so the two do not
        # fight over the GIL (which made frames 3x slower and training 2x slower)
        self.drawing = threading.Event()
        self._blas = None
        self.host = Host(self._emit, self._schedule, self._check_cancel, self._wait_for_drawing)

    @property
    def run(self):
        return self.host.run

    @property
    def trainer(self):
        return self.host.run.trainer if self.host.run is not None else None

    @property
    def playing(self) -> bool:
        return self.host.playing

    def _schedule(self, seconds: float) -> None:
        QTimer.singleShot(max(0, int(seconds * 1000)), self.host.tick)

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def _wait_for_drawing(self) -> None:
        """Sleep (releasing the GIL) while the GUI thread draws a frame, at most DRAW_WAIT_S."""
        end = time.perf_counter() + DRAW_WAIT_S
        while self.drawing.is_set() and time.perf_counter() < end:
            time.sleep(0.001)

    @Slot()
    def on_thread_started(self) -> None:
        from bpviz.engine import threads  # the GUI thread keeps a core busy: reserve it
        self._blas = threads.limit(threads.choose(reserve=1))

    def cancel_download(self) -> None:
        """Called from the GUI thread: an Event is safe to set from any thread."""
        self._cancel.set()

    def stop(self) -> None:
        """Called from the GUI thread at shutdown: a plain flag the play loop reads."""
        self.host.playing = False
        self.cancel_download()

    @Slot(object, str, object)
    def rebuild(self, cfg: NetConfig, dataset: str, data_dir) -> None:
        self._cancel.clear()
        self.host.rebuild(cfg, dataset, data_dir)

    @Slot(str, object)
    def request(self, verb: str, args: tuple) -> None:
        self.host.handle(verb, args)

    # the verbs, called directly in tests (no thread, no event loop)
    def step(self):
        self.host.advance("stage")

    def step_batch(self):
        self.host.advance("step")

    def frame_consumed(self):
        self.host.frame_consumed()


class ProcessWorker(_Signals):
    """Hosts the run in a child process (bpviz.engine.host.child_main). Lives in the GUI
    thread: requests go down a pipe, and a socket notifier reads what comes back, so the
    child trains while the window paints with no interpreter lock between them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        import multiprocessing as mp
        from bpviz.engine.host import child_main
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt's threads
        self._conn, child_conn = ctx.Pipe(duplex=True)
        from bpviz.engine import threads  # the window's GUI thread keeps a core busy: reserve it
        self.process = ctx.Process(target=child_main, args=(child_conn, threads.choose(reserve=1)),
                                   name="bpviz-training", daemon=True)
        self.process.start()
        child_conn.close()
        self.playing = False
        self.drawing = threading.Event()  # nothing to wait for across processes; kept for the Controller
        self._frames = FrameReader()  # snapshots' arrays arrive through shared memory
        self._tails = TailReader()  # and their loss series as the points not yet received
        self._notifier = QSocketNotifier(self._conn.fileno(), QSocketNotifier.Read, self)
        self._notifier.activated.connect(self._read)
        self._ended = False

    def _send(self, verb: str, *args) -> None:
        if self._ended:
            return
        try:
            self._conn.send((verb, args))
        except (BrokenPipeError, OSError):
            self._child_ended()

    @Slot()
    def _read(self) -> None:
        try:
            while self._conn.poll(0):
                kind, args = self._tails.decode(self._frames.recv(self._conn))
                if kind == "playing":
                    self.playing = args[0]
                self._emit(kind, *args)
        except (EOFError, OSError):
            self._child_ended()

    def _child_ended(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._notifier.setEnabled(False)
        self.process.join(1)
        code = self.process.exitcode
        self.playing = False
        self.playing_changed.emit(False)
        self.errored.emit(f"error: the training process ended unexpectedly (exit code {code}); "
                          "restart bpviz to go on")

    def cancel_download(self) -> None:
        self._send("cancel_download")

    def stop(self) -> None:
        self._send("pause")

    def rebuild(self, cfg: NetConfig, dataset: str, data_dir) -> None:
        self._send("rebuild", cfg, dataset, data_dir)

    def request(self, verb: str, args: tuple) -> None:
        self._send(verb, *args)

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Ask the child to end, then make sure it has: no orphan is left either way."""
        self._notifier.setEnabled(False)
        if not self._ended:
            self._ended = True
            try:
                self._conn.send(("quit", ()))
            except (BrokenPipeError, OSError):
                pass
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self._conn.close()
        self._frames.close()
        return not self.process.is_alive()
