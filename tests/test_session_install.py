"""A session file is installed in the window whole or not at all: a file that fails validation
anywhere (here: a breakpoint of Infinity, after a valid position of several steps) leaves the
run, its steps and its breakpoints as they were, and the message names the file."""
import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.presets import get_preset


@pytest.fixture
def window(qtbot, tmp_path):
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.controller.rebuild(get_preset("toy").config, "toy")
    qtbot.waitUntil(lambda: win.controller.latest is not None, timeout=10000)
    yield win
    win.controller.shutdown()


def _step(qtbot, win):
    c = win.controller
    before = c.latest.serial
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: s.serial > before):
        c.request_step()


@pytest.mark.parametrize("edit", ["infinite breakpoint", "steps past the losses", "huge stage"])
def test_an_invalid_session_changes_nothing(qtbot, window, tmp_path, edit):
    c = window.controller
    window.debugger.set_breakpoints([Breakpoint("loss_rise", 3.0)])
    for _ in range(60):  # past several whole steps
        _step(qtbot, window)
    path = tmp_path / "run.bpviz"
    with qtbot.waitSignal(c.session_saved, timeout=10000):
        window.save_session(str(path))
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header"]))
    if edit == "infinite breakpoint":
        header["breakpoints"] = [{"kind": "step", "value": float("inf")}]
    elif edit == "steps past the losses":
        header["state"]["steps_done"] += 5
        header["state"]["batch"] += 5
    else:
        header["state"]["stage_index"] = 10**9
    arrays["header"] = np.asarray(json.dumps(header))
    bad = tmp_path / "bad.bpviz"
    with open(bad, "wb") as f:
        np.savez(f, **arrays)
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000):
        c.request_reset()  # back to step 0, so a half install would show
    qtbot.waitUntil(lambda: c.latest.position == 0 and c.latest.stage is None, timeout=10000)
    reset = c.latest
    breakpoints = window.debugger.breakpoints()
    assert breakpoints == [Breakpoint("loss_rise", 3.0)]
    with qtbot.waitSignal(c.error_occurred, timeout=10000) as sig:
        window.open_session(str(bad))
    assert sig.args[0].startswith(f"session not loaded: {bad}") and "\n" not in sig.args[0]
    qtbot.wait(100)
    assert c.latest is reset  # nothing was published: the run is the one before the load
    assert window.debugger.breakpoints() == breakpoints
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000):
        c.request_step()
    after = c.latest  # the run goes on from step 0, untouched
    assert after.run_id == reset.run_id and (after.stage.step, after.stage.index) == (0, 0)
    assert len(after.losses) == 0
