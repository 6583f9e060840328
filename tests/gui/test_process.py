"""Training in a child process (BPVIZ_WORKER=process): the same numbers as the headless
engine, Snapshots intact across the boundary, and no orphan process however the window ends."""
import os
import signal
import subprocess
import sys
import textwrap
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from waiting import do

from bpviz.engine.presets import get_preset
from bpviz.engine.run import Run
from bpviz.runs import load_run_data

TOY = get_preset("toy").config


@pytest.fixture
def controller(qtbot):
    from bpviz.gui.controller import Controller
    c = Controller(backend="process")
    c.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: c.latest is not None, timeout=20000)
    yield c
    c.shutdown()




def same(snap, run):
    """The window's snapshot holds exactly the arrays of a local run at the same place."""
    local = run.snapshot()
    assert (snap.stage.step, snap.stage.index) == (local.stage.step, local.stage.index)
    assert set(snap.arrays) == set(local.arrays)
    for k in local.arrays:
        np.testing.assert_array_equal(snap.arrays[k], local.arrays[k])
        assert not snap.arrays[k].flags.writeable
    np.testing.assert_array_equal(snap.losses, local.losses)
    assert snap.status == local.status


def test_step_pause_and_step_back_give_the_headless_numbers(qtbot, controller):
    c = controller
    assert c.worker.process.pid != os.getpid()
    run = Run.build(TOY, load_run_data("toy"))
    for _ in range(15):
        snap = do(qtbot, c, c.request_step)
        run.advance("stage")
        same(snap, run)
    snap = do(qtbot, c, c.request_step_batch)
    run.advance("step")
    same(snap, run)
    for _ in range(14):  # back across a batch boundary
        snap = do(qtbot, c, c.request_step_back)
        run.step_back()
        same(snap, run)


def test_play_and_pause_land_on_the_engines_numbers(qtbot, controller):
    c = controller
    c.request_play()
    qtbot.waitUntil(lambda: c.latest.position > 200, timeout=20000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing and not c.latest.playing, timeout=10000)
    paused = c.latest
    run = Run.build(TOY, load_run_data("toy"))
    while (run.position, run.trainer.last.index if run.trainer.last else -1) != \
            (paused.position, paused.stage.index):
        run.advance("stage")
    same(paused, run)


def test_closing_ends_the_child(qtbot):
    from bpviz.gui.controller import Controller
    c = Controller(backend="process")
    c.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: c.latest is not None, timeout=20000)
    c.request_play()
    qtbot.waitUntil(lambda: c.playing, timeout=10000)
    child = c.worker.process
    assert c.shutdown()
    assert not child.is_alive() and not c.worker_running()


def test_a_crash_of_the_child_is_reported_and_leaves_no_process(qtbot, controller):
    c = controller
    child = c.worker.process
    with qtbot.waitSignal(c.error_occurred, timeout=20000) as sig:
        os.kill(child.pid, signal.SIGKILL)
    assert "training process ended unexpectedly" in sig.args[0]
    child.join(5)
    assert not child.is_alive()
    c.request_step()  # a request after the crash is ignored, not an exception


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its parent counts as gone
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_in_the_terminal_closes_the_window(qtbot, tmp_path):
    """SIGINT (Ctrl+C where bpviz was started) closes the window as its close button does:
    it was ignored while Qt's loop waited, and the training process with it."""
    from PySide6.QtCore import QSettings
    from bpviz.gui.main import _close_on_interrupt
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    quits = []
    before = signal.getsignal(signal.SIGINT)
    try:
        happened = _close_on_interrupt(win, type("App", (), {"quit": lambda self: quits.append(True)})())
        os.kill(os.getpid(), signal.SIGINT)
        qtbot.waitUntil(lambda: bool(happened), timeout=10000)  # at the next wake of the interpreter
        assert not win.isVisible() and quits
    finally:
        signal.signal(signal.SIGINT, before)
        win.controller.shutdown()


def test_killing_the_window_leaves_no_orphan(tmp_path):
    code = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtWidgets import QApplication
        from bpviz.gui.controller import Controller
        from bpviz.engine.presets import get_preset
        app = QApplication([])
        c = Controller(backend="process")
        c.rebuild(get_preset("toy").config, "toy")
        c.snapshot_changed.connect(lambda s: (print(c.worker.process.pid, flush=True), c.request_play()))
        app.exec()
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(p.stdout.readline())
        assert _alive(child)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    for _ in range(200):  # the child notices within a moment; wait up to 20 s on a busy machine
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
