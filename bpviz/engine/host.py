"""Hosting one Run for a window, without Qt: the verbs a window asks for, Play and its
pacing, and when to publish a Snapshot. Two adapters put a Host to work:
bpviz.gui.worker (a training thread in the window's process) and `child_main` below
(a child process, talking to the window over a pipe).

Publishing follows a ready flag: a new Snapshot goes out only once the window has drawn
the last one, so Play never floods it; every loss still arrives because each Snapshot
carries the whole timeline. At a watching speed the play clock waits for the frame: the
next stage is computed only once the window has drawn this one, so no stage is skipped
however busy the machine is.
"""
from __future__ import annotations

import time
import traceback
from typing import Callable

from .config import ConfigError, NetConfig
from .frames import FrameWriter, TailWriter
from .run import HISTORY_MB, Run

CHUNK_S = 0.005  # at full speed, stages run for this long between looks at the requests


class Cancelled(Exception):
    """The user cancelled a download."""


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class Host:
    """Runs the verbs on its Run and reports through `emit(kind, *args)`:

    snapshot (Snapshot) · errored (str) · playing (bool) · rebuilt (NetConfig, data set name)
    · progress (done, total, file name) · gradcheck (checks) · saved (path) · breakpoints (items)

    `schedule(seconds)` asks the adapter to call `tick()` after that long; `progress_hook()`
    is called during downloads and raises Cancelled when the user cancelled.
    """

    def __init__(self, emit: Callable[..., None], schedule: Callable[[float], None],
                 progress_hook: Callable[[], None] = lambda: None,
                 before_chunk: Callable[[], None] = lambda: None):
        self.emit = emit
        self.schedule = schedule
        self.progress_hook = progress_hook
        self.before_chunk = before_chunk  # the thread adapter waits here while the window draws
        self.run: Run | None = None
        self.playing = False
        self.speed = 0.0  # stages per second; 0 is full speed
        self.history_mb = HISTORY_MB
        self.ready = True  # the window has drawn the last snapshot
        self.dirty = False  # something happened since the last snapshot
        self.waiting_frame = False  # paced play: the next stage waits until this one is drawn
        self.last_stage_at = 0.0
        self.serial = 0

    # -- building a run ------------------------------------------------------------------
    def rebuild(self, cfg: NetConfig, dataset: str, data_dir=None) -> None:
        """Load `dataset` (downloading when needed) and build a fresh run of `cfg`, fitted to
        the data's input and output sizes; on any problem the running network is left as it was."""
        from bpviz.runs import fit_to_data, load_run_data
        self.set_playing(False)
        try:
            data = self.run.data if (self.run is not None and self.run.data.name == dataset and not data_dir) \
                else load_run_data(dataset, data_dir, progress=self._progress)
            cfg, fitted = fit_to_data(cfg, data)
            run = Run.build(cfg, data, breakpoints=self._breakpoints(), history_mb=self.history_mb)
        except Cancelled:
            self.emit("errored", "download cancelled; the network is unchanged")
            return
        except (ConfigError, ValueError) as e:
            self.emit("errored", f"not applied: {e}")
            return
        except Exception as e:  # DataError and anything unexpected: one line, state kept
            self.emit("errored", f"not applied: {one_line(e)}")
            return
        if fitted:
            run.say(fitted)
        self._install(run)

    def _breakpoints(self) -> list:
        return list(self.run.breakpoints.items) if self.run is not None else []

    def _install(self, run: Run) -> None:
        """The new run replaces the old one whole."""
        self.run = run
        self.emit("rebuilt", run.cfg, run.data.name)
        self.publish(force=True)

    def _progress(self, done, total, name="") -> None:
        self.progress_hook()
        self.emit("progress", int(done), int(total or 0), str(name))

    # -- the verbs -----------------------------------------------------------------------
    def do(self, verb, *args) -> bool:
        """Pause, run `verb(run, *args)` and publish; an error is shown, not raised."""
        if self.run is None:
            return False
        self.set_playing(False)
        try:
            verb(self.run, *args)
        except Exception as e:
            self.fail(e)
            return False
        self.publish(force=True)
        return True

    def advance(self, how: str) -> None:
        self.do(Run.advance, how)

    def reset(self) -> None:
        self.set_playing(False)
        if self.run is not None:
            self._install(self.run.replaced())

    def step_back(self) -> None:
        self.do(Run.step_back)

    def rewind_to(self, step: int) -> None:
        """To the end of the backward pass of `step` (the scrubber's unit is a step)."""
        self.do(Run.rewind_to_stage, int(step), None)

    def set_history_mb(self, mb: int) -> None:
        self.history_mb = max(1, int(mb))
        self.do(Run.set_history_mb, self.history_mb)

    def edit(self, verb, what: str, *args) -> None:
        if self.run is None:
            return
        self.set_playing(False)
        try:
            verb(self.run, *args)
        except Exception as e:
            self.emit("errored", f"cannot edit {what}: {one_line(e)}")
            return
        self.publish(force=True)

    def edit_param(self, name: str, index, value: float) -> None:
        self.edit(Run.edit_param, f"{name}{list(index)}", name, tuple(index), float(value))

    def edit_input(self, row: int, values) -> None:
        self.edit(Run.edit_input, f"sample {row}", int(row), list(values))

    def gradcheck(self, layer: int, cell) -> None:
        if self.run is None:
            return
        self.set_playing(False)
        try:
            checks = self.run.gradcheck(layer, cell)
        except Exception as e:
            self.emit("errored", f"gradient check failed to run: {one_line(e)}")
            return
        self.publish(force=True)
        self.emit("gradcheck", checks)

    def set_speed(self, stages_per_second: float) -> None:
        self.speed = max(0.0, float(stages_per_second))

    def set_breakpoints(self, items: list) -> None:
        if self.run is not None:
            try:
                self.run.set_breakpoints(items)
            except (TypeError, ValueError) as e:
                self.emit("errored", f"breakpoints not set: {one_line(e)}")

    def save_session(self, path: str, breakpoints) -> None:
        if self.run is None:
            return
        try:
            self.run.set_breakpoints(breakpoints)
            self.run.save_session(path)
        except Exception as e:
            self.emit("errored", f"could not save the session: {one_line(e)}")
            return
        self.emit("saved", path)
        self.publish(force=True)

    def load_session(self, path: str, data_dir=None) -> None:
        """Everything is checked and built before anything changes: a bad file leaves the
        run as it was, and a good one replaces it whole."""
        from bpviz.runs import load_run_data
        from .session import SessionError, load_session
        self.set_playing(False)
        try:
            s = load_session(path)
            data = self.run.data if self.run is not None and self.run.data.name == s.dataset else \
                load_run_data(s.dataset, data_dir, progress=self._progress)
            run = Run.from_session(s, data, history_mb=self.history_mb)
        except (SessionError, ConfigError) as e:
            self.emit("errored", f"session not loaded: {e}")
            return
        except Exception as e:
            self.emit("errored", f"session not loaded: {one_line(e)}")
            return
        self.emit("breakpoints", list(run.breakpoints.items))
        self._install(run)

    # -- playing -------------------------------------------------------------------------
    def play(self) -> None:
        if self.run is None or self.playing:
            return
        self.run.say("")
        self.set_playing(True)
        self.waiting_frame = False
        self.schedule(0)

    def pause(self) -> None:
        """Stop at the stage reached and show it in full (every panel at that stage)."""
        self.set_playing(False)
        if self.run is not None:
            self.run.full_speed = False
            self.publish(force=True)

    def frame_consumed(self) -> None:
        self.ready = True
        if self.dirty:
            self.publish()
            return
        if self.playing and self.speed > 0 and self.waiting_frame:
            # the stage on screen has been drawn: the next one comes at the speed's interval
            self.waiting_frame = False
            self.schedule(max(0.0, self.last_stage_at + 1 / self.speed - time.perf_counter()))

    def tick(self) -> None:
        """One turn of Play: a stage at a watching speed, a short chunk at full speed."""
        if not self.playing or self.run is None:
            return
        paced = self.speed > 0
        if not paced:
            self.before_chunk()
            if not self.playing:
                return
        try:
            going = self.run.play(CHUNK_S, paced)
        except Exception as e:
            self.fail(e)
            return
        if not going:  # a breakpoint fired
            self.set_playing(False)
            self.run.full_speed = False
            self.publish(force=True)
            return
        if paced:
            self.last_stage_at = time.perf_counter()
            self.waiting_frame = True
            self.publish(force=True)  # this stage is shown before the next is computed
        else:
            self.publish()
            self.schedule(0)  # let pause and other requests in

    def fail(self, e: Exception) -> None:
        self.set_playing(False)
        msg = self.run.fail(e)
        if not msg.startswith("training stopped"):
            traceback.print_exc()
        self.run.full_speed = False
        self.publish(force=True)
        self.emit("errored", msg)

    def set_playing(self, on: bool) -> None:
        if on != self.playing:
            self.playing = on
            self.emit("playing", on)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, force: bool = False) -> None:
        """Send a snapshot if the window is ready for one; otherwise remember to send the
        latest when it is. `force` sends regardless (single steps, errors, pauses)."""
        if self.run is None:
            return
        if not (self.ready or force):
            self.dirty = True
            return
        self.ready = False
        self.dirty = False
        self.serial += 1
        self.emit("snapshot", self.run.snapshot(self.serial, playing=self.playing))

    # -- requests by name (the process adapter's messages) --------------------------------
    def handle(self, verb: str, args: tuple) -> None:
        if verb in ("stage", "sample", "pass", "step", "epoch"):
            self.advance(verb)
        else:
            getattr(self, verb)(*args)


# -- the child process ----------------------------------------------------------------------
def child_main(conn, blas_threads: int = 1) -> None:
    """The training process: serve one window over `conn` until it says quit or goes away.
    A window that dies closes its end of the pipe, and this loop ends at its next look."""
    import signal
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the window's to handle
    from . import threads
    threads.limit(blas_threads)
    pending: list = []
    due: list[float | None] = [None]  # when the next tick is wanted

    frames, tails = FrameWriter(), TailWriter()

    def send(kind, *args):
        try:
            frames.send(conn, tails.encode((kind, args)))
        except (BrokenPipeError, OSError):
            raise SystemExit(0)  # the window has gone

    def schedule(seconds):
        due[0] = time.perf_counter() + seconds

    def progress_hook():
        while conn.poll(0):  # requests that come in during a download: keep them, except these
            msg = conn.recv()
            if msg[0] == "quit":
                raise SystemExit(0)  # the window is closing: the download's temporary file goes too
            if msg[0] == "cancel_download":
                raise Cancelled()
            pending.append(msg)

    host = Host(send, schedule, progress_hook)
    try:
        _serve(conn, host, pending, due)
    finally:
        frames.close()  # slot files the window never mapped go too


def _serve(conn, host: Host, pending: list, due: list) -> None:
    while True:
        if pending:
            verb, args = pending.pop(0)
        else:
            wait = None if due[0] is None else max(0.0, due[0] - time.perf_counter())
            try:
                if not conn.poll(wait):
                    due[0] = None
                    host.tick()
                    continue
                verb, args = conn.recv()
            except (EOFError, OSError):
                return  # the window has gone
        if verb == "quit":
            return
        if verb == "cancel_download":
            continue
        try:
            host.handle(verb, args)
        except SystemExit:
            return


def _die_with_parent() -> None:
    """On Linux, ask the kernel to end this process when the window's process dies."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # not Linux: the closed pipe ends the loop instead
        pass
