"""Issue 6 in the window: step back, breakpoints, gradient check, edits, sessions,
exports and per-sample parts, through the real worker thread."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit
from waiting import do, same_arrays

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.presets import get_preset

TOY = get_preset("toy").config


@pytest.fixture
def window(qtbot, tmp_path):
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.controller.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: win.controller.latest is not None, timeout=10000)
    yield win
    win.controller.shutdown()






def test_step_back_across_a_batch_then_forward_gives_the_same_numbers(qtbot, window):
    c = window.controller
    snaps = [do(qtbot, window, c.request_step) for _ in range(16)]  # step 0 and 4 stages of step 1
    for k in range(5):  # back to stage 10 of step 0: across the batch boundary
        back = do(qtbot, window, c.request_step_back)
        same_arrays(back, snaps[-2 - k])
    assert back.stage.step == 0 and back.stage.index == 10
    # in the past step 0 is not finished yet, but the timeline keeps it
    assert (back.position, back.frontier, len(back.losses)) == (0, 1, 1)
    for k in range(5):
        fwd = do(qtbot, window, c.request_step)
        same_arrays(fwd, snaps[11 + k])
    assert len(fwd.losses) == 1


def test_the_scrubber_rewinds_to_any_kept_step(qtbot, window):
    c = window.controller
    snaps = [do(qtbot, window, c.request_step) for _ in range(12 * 5)]
    assert window.debugger.scrub.minimum() == 0 and window.debugger.scrub.maximum() == 4
    back = do(qtbot, window, c.request_rewind, 2)
    same_arrays(back, snaps[12 * 3 - 1])  # the end of step 2
    again = do(qtbot, window, c.request_step)
    same_arrays(again, snaps[12 * 3])


def test_stepping_back_after_full_speed_play_recomputes_from_a_checkpoint(qtbot, window):
    c = window.controller
    with qtbot.waitSignal(c.playing_changed, timeout=5000):
        c.request_play()
    qtbot.waitUntil(lambda: len(c.latest.losses) > 100, timeout=10000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    qtbot.wait(100)
    here = c.latest
    back = [do(qtbot, window, c.request_step_back) for _ in range(30)]  # crosses two steps
    forward = [do(qtbot, window, c.request_step) for _ in range(30)]
    same_arrays(forward[-1], here)
    for b, f in zip(back[:-1], reversed(forward[:-1])):  # k+1 back equals 29-k forward
        same_arrays(b, f)


def test_a_breakpoint_pauses_play_and_is_named(qtbot, window):
    c = window.controller
    dbg = window.debugger
    dbg.bp_kind.setCurrentIndex(list(dbg.bp_kind.itemData(i) for i in range(dbg.bp_kind.count())).index("step"))
    dbg.bp_value.setValue(40)
    assert dbg.add_breakpoint() == Breakpoint("step", 40.0)
    qtbot.wait(50)
    with qtbot.waitSignal(c.playing_changed, timeout=5000):
        c.request_play()
    qtbot.waitUntil(lambda: not c.playing, timeout=10000)
    qtbot.waitUntil(lambda: "step 40 done" in c.latest.message, timeout=5000)
    assert len(c.latest.losses) == 41 and c.latest.stage.step == 40  # steps 0 to 40: the status bar's step 40
    qtbot.waitUntil(lambda: "step 40 done" in window.banner.text(), timeout=3000)


def test_a_disabled_breakpoint_does_not_fire(qtbot, window):
    from PySide6.QtCore import Qt
    c = window.controller
    dbg = window.debugger
    dbg.bp_kind.setCurrentIndex(list(dbg.bp_kind.itemData(i) for i in range(dbg.bp_kind.count())).index("step"))
    dbg.bp_value.setValue(5)
    dbg.add_breakpoint()
    dbg.bp_list.item(0).setCheckState(Qt.Unchecked)
    qtbot.wait(50)
    c.request_play()
    qtbot.waitUntil(lambda: len(c.latest.losses) > 50, timeout=10000)
    assert c.playing
    c.request_pause()


def test_gradient_check_in_the_window(qtbot, window):
    c = window.controller
    dbg = window.debugger
    do(qtbot, window, c.request_step)
    dbg.gc_layer.setValue(1)
    with qtbot.waitSignal(c.gradcheck_done, timeout=10000) as sig:
        assert dbg.run_gradcheck()
    checks = sig.args[0]
    assert [k.name for k in checks] == ["W1"] and checks[0].ok
    assert "matches central differences" in dbg.gc_note.text()
    dbg.gc_cell.setText("2,3")
    with qtbot.waitSignal(c.gradcheck_done, timeout=10000) as sig:
        dbg.run_gradcheck()
    assert sig.args[0][0].n_checked == 1 and sig.args[0][0].ok
    dbg.gc_cell.setText("9,9")
    assert not dbg.run_gradcheck() and "W1 is 3 x 4" in dbg.gc_note.text()


def test_the_edit_in_the_past_dialog_names_the_step_shown(qtbot, window, monkeypatch):
    """At a step's last stage the trainer counts the step done (position is one more): the
    dialog names the step on screen, as the status bar and the debugger do."""
    from PySide6.QtWidgets import QMessageBox
    c = window.controller
    stages = c.latest.config.n_layers * 6  # toy: 12 equations a step
    for _ in range(2 * stages):
        do(qtbot, window, c.request_step)
    for _ in range(stages):  # back to step 0's last stage, its update
        do(qtbot, window, c.request_step_back)
    snap = c.latest
    assert snap.stage.step == 0 and snap.stage.step_end and snap.position == 1
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text, *a: (asked.append(text), QMessageBox.No)[1])
    assert not window.may_branch()
    assert asked and asked[0].startswith("You are at step 0; the timeline reaches step 1."), asked
    shown = window.debugger.scrub_label.text()
    assert shown.startswith("step 0 ") and shown.endswith("shown; the timeline reaches step 1"), shown


def test_the_loss_plot_marks_the_step_shown_after_stepping_back(qtbot, window):
    """The loss plot draws the whole timeline: stepped back, a dashed line and the readout
    say which step is on screen; back at the timeline's end, they go."""
    c = window.controller
    window.docks["loss"].raise_()
    loss = next(p for p in window.panels if p.object_name == "loss")
    stages = c.latest.config.n_layers * 6
    for _ in range(3 * stages):
        do(qtbot, window, c.request_step)
    for _ in range(stages + 1):  # into step 1
        do(qtbot, window, c.request_step_back)
    qtbot.waitUntil(lambda: loss.snapshot is c.latest, timeout=5000)
    assert c.latest.shown_step == 1
    assert loss.shown_line.isVisible() and loss.shown_line.value() == 1
    assert loss.readout.text().startswith("step 1 shown (dashed) · timeline: 3 steps")
    for _ in range(stages + 1):
        do(qtbot, window, c.request_step)
    qtbot.waitUntil(lambda: loss.snapshot is c.latest, timeout=5000)
    assert not loss.shown_line.isVisible() and loss.readout.text().startswith("3 steps")


def test_a_gradient_check_is_dated_by_its_step_and_gone_after_reset(qtbot, window):
    """A result belongs to the weights its step starts from: within that step it stands,
    at another step it says it is out of date, and Reset or another network clears it."""
    c = window.controller
    dbg = window.debugger
    do(qtbot, window, c.request_step)
    dbg.gc_layer.setValue(2)
    with qtbot.waitSignal(c.gradcheck_done, timeout=10000):
        assert dbg.run_gradcheck()
    assert dbg.gc_table.rowCount() > 0 and dbg.gc_note.text().startswith("all within")
    do(qtbot, window, c.request_step)  # the same step's next equation: the same weights
    assert dbg.gc_note.text().startswith("all within")
    do(qtbot, window, c.request_step_batch)  # on to the next step's start
    while c.latest.position == 0:
        do(qtbot, window, c.request_step)
    assert dbg.gc_table.rowCount() > 0 and "press Check again" in dbg.gc_note.text()
    do(qtbot, window, c.request_reset)
    assert dbg.gc_table.rowCount() == 0 and dbg.gc_note.text() == ""


def test_gradient_check_shows_the_approximation_honestly(qtbot, window):
    from bpviz.runs import load_run_data
    try:
        load_run_data("fashion-mnist", allow_download=False)
    except Exception as e:  # CI installs Debian's dataset-fashion-mnist; a bare machine may not have it
        pytest.skip(f"Fashion-MNIST not available: {e}")
    c = window.controller
    cfg = get_preset("mnist-approx").config.with_(batch_size=50)
    c.rebuild(cfg, "fashion-mnist")
    qtbot.waitUntil(lambda: c.latest.config == cfg, timeout=60000)
    do(qtbot, window, c.request_step)
    window.debugger.gc_layer.setValue(2)
    with qtbot.waitSignal(c.gradcheck_done, timeout=60000) as sig:
        window.debugger.run_gradcheck()
    assert not sig.args[0][0].ok and sig.args[0][0].max_rel_error > 0.1
    assert "approximate" in window.debugger.gc_note.text()


def test_editing_a_weight_recomputes_exactly_the_downstream_values(qtbot, window, monkeypatch):
    c = window.controller
    for _ in range(9):
        before = do(qtbot, window, c.request_step)  # B5: the backward pass is under way
    from PySide6.QtWidgets import QInputDialog
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (1.75, True)))
    heat = next(p for p in window.panels if p.object_name == "heatmaps")
    heat.layer.setCurrentIndex(1)  # W2
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: "edited" in s.message):
        heat.edit_requested.emit("W2", 2, 0)  # what a double-click on W2[2, 0] emits
    after = c.latest
    assert after.stage.index == before.stage.index
    a, b = before.stage.arrays, after.stage.arrays
    for k in ("X", "W1", "Z1", "A1"):
        np.testing.assert_array_equal(a[k], b[k])
    for k in ("Z2", "A2", "loss", "Delta2", "dW2", "dA1", "Delta1"):
        assert not np.array_equal(a[k], b[k]), k
    assert b["W2"][2, 0] == 1.75


def test_editing_an_input_from_the_sample_table(qtbot, window):
    c = window.controller
    do(qtbot, window, c.request_step)
    do(qtbot, window, c.request_step)
    sample = next(p for p in window.panels if p.object_name == "sample")
    window.show()
    qtbot.waitExposed(window)
    window.docks["sample"].raise_()
    t = sample.table
    qtbot.waitUntil(lambda: t.isVisible() and t.rowCount() == 4, timeout=5000)
    # as a user does: double-click x0 of sample 1, type, press Enter
    at = t.visualItemRect(t.item(1, 0)).center()
    qtbot.mouseClick(t.viewport(), Qt.LeftButton, pos=at)  # QTest's double click lacks the first press
    qtbot.mouseDClick(t.viewport(), Qt.LeftButton, pos=at)
    editor = t.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "0"
    editor.setText("0.5")
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: "edited" in s.message):
        qtbot.keyClick(editor, Qt.Key_Return)
    np.testing.assert_array_equal(c.latest.stage.arrays["X"][1], [0.5, 1, 1])


def test_session_round_trip_through_the_window(qtbot, window, tmp_path):
    c = window.controller
    for _ in range(20):
        do(qtbot, window, c.request_step)
    path = str(tmp_path / "run.bpviz")
    with qtbot.waitSignal(c.session_saved, timeout=10000):
        window.save_session(path)
    saved = c.latest
    for _ in range(30):
        do(qtbot, window, c.request_step)
    loaded = do(qtbot, window, window.open_session, path)
    assert "session loaded" in loaded.message
    same_arrays(loaded, saved)
    np.testing.assert_array_equal(loaded.losses, saved.losses)


def test_an_opened_session_shows_its_epoch_means_amid_their_steps_and_exports_them_at_their_ends(qtbot, window, tmp_path):
    """An opened session starts before any stage: the loss panel and the loss export still
    know an epoch's steps (they used to take one step an epoch then)."""
    c = window.controller
    c.rebuild(get_preset("spiral").config, "spiral")  # 40 steps an epoch, a test set
    qtbot.waitUntil(lambda: c.latest.config == get_preset("spiral").config, timeout=10000)
    for _ in range(2):
        do(qtbot, window, c.request_step_epoch)
    path = str(tmp_path / "run.bpviz")
    with qtbot.waitSignal(c.session_saved, timeout=10000):
        window.save_session(path)
    window.open_session(path)
    qtbot.waitUntil(lambda: "session loaded" in (c.latest.message or ""), timeout=10000)
    loaded = c.latest
    loss = next(p for p in window.panels if p.object_name == "loss")
    qtbot.waitUntil(lambda: loss.snapshot is loaded, timeout=10000)  # drawn at the next frame
    assert loaded.stage is None and loaded.n_batches == 40
    xs, ys = loss.epochs.getData()
    np.testing.assert_array_equal(xs, [19.5, 59.5])  # the middle of each epoch's steps 0-39 and 40-79
    np.testing.assert_array_equal(ys, loaded.epoch_losses)
    assert window.export_losses(str(tmp_path / "loss.csv"))
    rows = [r.split(",") for r in (tmp_path / "loss.csv").read_text().splitlines()[1:]]
    assert [int(r[0]) for r in rows if r[2]] == [39, 79]  # epoch means on their last steps, when known
    assert [int(r[0]) for r in rows if r[3]] == [39, 79]  # and the test accuracy beside them


def test_a_corrupt_session_is_refused_and_changes_nothing(qtbot, window, tmp_path):
    c = window.controller
    for _ in range(5):
        do(qtbot, window, c.request_step)
    bad = tmp_path / "bad.bpviz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    before = c.latest
    with qtbot.waitSignal(c.error_occurred, timeout=10000) as sig:
        window.open_session(str(bad))
    assert sig.args[0].startswith("session not loaded") and "\n" not in sig.args[0]
    qtbot.wait(100)
    same_arrays(c.latest, before)
    after = do(qtbot, window, c.request_step)  # the run goes on from where it was
    assert (after.stage.step, after.stage.index) == (0, before.stage.index + 1) and after.run_id == before.run_id


def test_exports(qtbot, window, tmp_path):
    c = window.controller
    for _ in range(30):
        do(qtbot, window, c.request_step)
    assert window.export_losses(str(tmp_path / "loss.csv"))
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0] == "step,loss,epoch_mean_loss,test_accuracy" and len(rows) == 1 + len(c.latest.losses)
    assert window.export_trace(str(tmp_path / "step.npz"))
    d = np.load(tmp_path / "step.npz")
    assert {"X", "Y", "W1", "W2", "Z1", "A1", "config"} <= set(d.files)
    for name in ("diagram", "loss", "equations"):
        assert window.export_panel(name, str(tmp_path / f"{name}.png"))
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert window.export_panel("heatmaps", str(tmp_path / "heat.svg"))
    assert (tmp_path / "heat.svg").read_text().lstrip().startswith("<?xml")
    assert not window.export_losses(str(tmp_path / "missing" / "loss.csv"))
    assert "could not write" in window.banner.text()


def test_per_sample_parts_when_paused(qtbot, window):
    c = window.controller
    for _ in range(10):
        snap = do(qtbot, window, c.request_step)  # through B2 of layer 1
    contrib = snap.contrib
    assert contrib["losses"].shape == (4,)
    assert sum(contrib["shares"][1]) == pytest.approx(1.0)
    window.debugger.tabs.setCurrentIndex(3)
    assert window.debugger.contrib.rowCount() == 4
    window.debugger._focus_from_contrib(2, 0)
    qtbot.waitUntil(lambda: c.focus == 2, timeout=2000)


def test_explaining_a_number_marks_its_cells_in_the_heatmap_and_the_diagram(qtbot, window):
    c = window.controller
    for _ in range(10):
        do(qtbot, window, c.request_step)  # B2 of layer 1: dW1 = A0ᵀ Δ1
    panels = {p.object_name: p for p in window.panels}
    heat = panels["heatmaps"]
    heat.what.setCurrentIndex(1)  # dL/dW of layer 1
    panels["equations"].explain("dW1", (2, 1))
    assert heat.model["marks"] == [(2, 1)]
    marks = panels["diagram"].model["marks"]
    assert marks["nodes"] == 2  # the focused sample's A0[0, 2] and Delta1[0, 1]
    assert marks["edges"] == 1  # the weight W1[2, 1] whose gradient this is


def test_a_dock_floated_out_from_behind_a_tab_draws_the_stage_at_once(qtbot, window):
    """Qt keeps a dock behind a tab "visible", so floating it out says nothing through
    visibilityChanged: the debugger's Per sample tab said "appear once the forward pass has
    run" after ten stages, and a panel showed the stage it had when it went behind."""
    c = window.controller
    window.show()
    qtbot.waitExposed(window)
    window.apply_layout("train")  # the debugger behind Settings, the network panel behind the weights
    dbg = window.debugger
    dbg.tabs.setCurrentIndex(3)
    net = next(p for p in window.panels if p.object_name == "diagram")
    qtbot.wait(100)
    assert dbg._stale is False and not dbg._seen()
    for _ in range(10):
        snap = do(qtbot, window, c.request_step)
    assert dbg.contrib.rowCount() == 0 and net._stale  # behind their tabs: not drawn
    dbg.setFloating(True)
    window.docks["diagram"].setFloating(True)
    qtbot.waitUntil(lambda: dbg.contrib.rowCount() == 4 and not net._stale, timeout=3000)
    assert dbg.model_contrib is snap.contrib
