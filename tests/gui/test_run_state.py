"""One run state that every panel follows (issue 13), through the real worker thread:
Reset, another data set and an opened session replace what every panel shows; the
timeline loses nothing; Pause leaves every panel on one stage; breakpoints fire in every
way of advancing; a watching speed shows every stage however slow the frames are."""
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from waiting import do

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.presets import get_preset

TOY = get_preset("toy").config


@pytest.fixture(params=["process", "thread"])
def window(qtbot, tmp_path, request):
    """The window on each way of hosting the run: every test here holds for both."""
    from bpviz.gui.controller import Controller
    from bpviz.gui.window import MainWindow
    win = MainWindow(controller=Controller(backend=request.param),
                     settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.controller.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: win.controller.latest is not None, timeout=10000)
    yield win
    win.controller.shutdown()




def assert_every_panel_shows(win, snap, qtbot):
    """Each panel holds this snapshot and draws its arrays (not a previous run's): the
    panels in view at once, a panel behind a tab as soon as its tab is raised."""
    panels = {p.object_name: p for p in win.panels}
    for name, p in panels.items():
        assert p.snapshot is snap, name
        assert p.snapshot.run_id == snap.run_id
    for name in ("loss", "diagram", "heatmaps", "sample", "inspector"):
        win.docks[name].raise_()
        qtbot.waitUntil(lambda: panels[name].seen() and not panels[name]._stale)
    loss = panels["loss"].model
    assert loss["steps"] == len(snap.losses) and loss["epochs"] == len(snap.epoch_losses)
    assert loss["accuracy_points"] == len(snap.test_accuracy)
    diagram = panels["diagram"].model
    assert sorted(diagram["edges"]) == list(range(1, snap.config.n_layers + 1))
    heat = panels["heatmaps"].model
    if heat.get("shown") is not None:
        name = heat["name"]
        np.testing.assert_array_equal(np.asarray(heat["shown"]).shape, np.asarray(snap.arrays[name]).shape)
    sample = panels["sample"].model
    if snap.stage is None or f"A{snap.config.n_layers}" not in snap.arrays:
        assert sample.get("output") is None
    else:
        np.testing.assert_array_equal(sample["output"], snap.arrays[f"A{snap.config.n_layers}"][sample["focus"]])
    assert panels["inspector"].model.get("history_points", 0) <= len(snap.stats_history)
    assert win.status.text() == snap.status


def test_reset_replaces_every_panel(qtbot, window):
    c = window.controller
    do(qtbot, window, c.request_step_epoch)
    for _ in range(8):
        old = do(qtbot, window, c.request_step_batch)
    do(qtbot, window, c.request_step)
    assert len(old.losses) == 9
    new = do(qtbot, window, c.request_reset)
    assert new.run_id != old.run_id and new.stage is None and len(new.losses) == 0
    qtbot.wait(50)
    assert_every_panel_shows(window, new, qtbot)
    nxt = do(qtbot, window, c.request_step)
    assert_every_panel_shows(window, nxt, qtbot)


def test_another_data_set_replaces_every_panel(qtbot, window):
    from bpviz.runs import load_run_data
    try:
        load_run_data("fashion-mnist", allow_download=False)
    except Exception as e:
        pytest.skip(f"Fashion-MNIST is not installed here ({e})")
    c = window.controller
    for _ in range(5):
        old = do(qtbot, window, c.request_step_batch)
    cfg = get_preset("mnist").config.with_(sizes=(784, 16, 10))
    new = do(qtbot, window, c.rebuild, cfg, "fashion-mnist")
    assert new.run_id != old.run_id and new.data_name == "fashion-mnist" and len(new.losses) == 0
    qtbot.wait(50)
    assert_every_panel_shows(window, new, qtbot)
    s = do(qtbot, window, c.request_finish_pass)
    assert_every_panel_shows(window, s, qtbot)
    assert c.config == cfg and c.dataset == "fashion-mnist"


def test_opening_a_session_replaces_every_panel(qtbot, window, tmp_path):
    c = window.controller
    for _ in range(3):
        do(qtbot, window, c.request_step_batch)
    path = str(tmp_path / "run.bpviz")
    with qtbot.waitSignal(c.session_saved, timeout=10000):
        c.save_session(path)
    for _ in range(20):
        later = do(qtbot, window, c.request_step_batch)
    loaded = do(qtbot, window, c.load_session, path)
    assert loaded.run_id != later.run_id and len(loaded.losses) == 3 and loaded.message.startswith("session loaded")
    qtbot.wait(50)
    assert_every_panel_shows(window, loaded, qtbot)


def test_a_scrub_to_the_middle_and_back_loses_nothing(qtbot, window):
    c = window.controller
    for _ in range(40):
        end = do(qtbot, window, c.request_step_batch)
    checkpoints = end.history[0]
    mid = do(qtbot, window, c.request_rewind, 20)
    assert mid.stage.step == 20 and mid.frontier == 40
    np.testing.assert_array_equal(mid.losses, end.losses)
    assert mid.history[0] == checkpoints
    scrub = window.debugger.scrub
    window.debugger.raise_()  # a tab behind another draws when raised
    qtbot.waitUntil(lambda: scrub.maximum() == 39, timeout=5000)
    assert (scrub.minimum(), scrub.maximum(), scrub.value()) == (0, 39, 20)  # the handle stays where it was put
    # the text names the handle's ends as it counts them (it said "reaches step 40")
    assert window.debugger.scrub_label.text().startswith("step 20 ")
    assert window.debugger.scrub_label.text().endswith("the timeline reaches step 39")
    back = do(qtbot, window, c.request_rewind, 39)
    np.testing.assert_array_equal(back.losses, end.losses)
    assert back.history[0] == checkpoints and back.stage.step == 39
    for k in back.stage.arrays:
        np.testing.assert_array_equal(back.stage.arrays[k], end.stage.arrays[k])


def test_the_scrubber_says_which_step_is_under_the_handle(qtbot, window):
    c = window.controller
    for _ in range(10):
        do(qtbot, window, c.request_step_batch)
    dbg = window.debugger
    dbg.scrub.sliderMoved.emit(4)
    assert dbg.scrub_label.text().startswith("step 4") and "release" in dbg.scrub_label.text()


def test_pause_at_full_speed_leaves_every_panel_and_the_status_on_one_stage(qtbot, window):
    c = window.controller
    c.request_play()
    qtbot.waitUntil(lambda: len(c.latest.losses) > 300, timeout=20000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    final = c.latest
    qtbot.waitUntil(lambda: all(p.snapshot is c.latest for p in window.panels), timeout=5000)
    assert c.latest is final  # nothing moves after the pause
    for p in window.panels:
        assert p.snapshot.serial == final.serial, p.object_name
    assert window.status.text() == final.status
    eq = next(p for p in window.panels if p.object_name == "equations")
    assert eq.model["current"] == final.stage.spec


@pytest.mark.parametrize("verb", ["request_step_batch", "request_step_epoch", "request_finish_pass"])
def test_a_breakpoint_fires_under_every_way_of_advancing(qtbot, window, verb):
    c = window.controller
    cfg = TOY.with_(batch_size=1)  # 4 steps an epoch
    do(qtbot, window, c.rebuild, cfg, "toy")
    c.set_breakpoints([Breakpoint("step", 2)])
    snaps = [do(qtbot, window, getattr(c, verb)) for _ in range(4)]
    fired = [s for s in snaps if "step 2 done" in s.message]
    assert fired, [s.message for s in snaps]
    assert fired[0].message_kind == "warning" and fired[0].stage.step == 2 and fired[0].stage.step_end
    name = {"request_step_batch": "Step batch", "request_step_epoch": "Step epoch",
            "request_finish_pass": "Finish pass"}[verb]
    assert fired[0].message.endswith(f"stopped by {name}")


def test_a_watching_speed_shows_every_stage_however_slow_the_frames(qtbot, window):
    """The play clock waits for the frame: with every frame made slower than the play
    interval (as on a busy machine), still no stage is skipped."""
    c = window.controller
    window.speed.setValue(window.speed.maximum() - 1)  # the fastest watching speed
    assert c.speed > 0
    frames = []

    def slow_frame(s):
        if s.stage is not None:
            frames.append(s.stage.step * 12 + s.stage.index)
        time.sleep(0.08)  # longer than the interval between stages at this speed
    c.snapshot_changed.connect(slow_frame)
    c.request_play()
    qtbot.waitUntil(lambda: len(frames) >= 12, timeout=30000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    c.snapshot_changed.disconnect(slow_frame)
    assert (np.diff(frames[:12]) == 1).all(), frames
