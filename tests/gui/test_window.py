"""The window, through the real worker thread (pytest-qt, offscreen)."""
import os
import sys
import warnings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from bpviz.engine.config import NetConfig
from bpviz.engine.presets import get_preset
from bpviz.engine.trainer import step_plan

TOY = get_preset("toy").config


@pytest.fixture
def window(qtbot, tmp_path):
    from bpviz.gui.window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.controller.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: win.controller.latest is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.status.text() != "", timeout=5000)
    yield win
    win.controller.shutdown()


def step_and_wait(qtbot, win, action="request_step"):
    c = win.controller
    before = c.latest.serial
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: s.serial > before):
        getattr(c, action)()
    return c.latest


def shown_on_a_toy_run(qtbot, window, layout=None):
    """`window` at 1366x768 (in `layout`), showing the first snapshot of a toy run it does not
    train (the tests hand it the run's snapshots); the run."""
    from bpviz.engine.run import Run
    from bpviz.runs import load_run_data
    window.resize(1366, 768)
    if layout:
        window.apply_layout(layout)
    window.show()
    qtbot.waitExposed(window)
    run = Run.build(TOY, load_run_data("toy"))
    window.on_snapshot(run.snapshot(1))
    qtbot.wait(100)
    return run


def test_signal_emits_do_not_leak_references_to_True(qtbot):
    """PySide6 6.12.0 drops a reference to True on every emit and aborts CPython after
    a few hundred; the pinned version must not."""
    class Emitter(QObject):
        sig = Signal(bool)
    e = Emitter()
    got = []
    e.sig.connect(got.append)
    before = sys.getrefcount(True)
    for _ in range(600):
        e.sig.emit(True)
    assert len(got) == 600
    assert sys.getrefcount(True) >= before


def test_starts_on_the_toy_network_ready(window):
    snap = window.controller.latest
    assert snap.stage is None and snap.config == TOY
    assert window.status.text() == "epoch 0 · batch 0 · stage: ready"
    assert len(window.panels) == 7


def test_one_backward_pass_stage_by_stage_moves_every_panel(qtbot, window):
    plan = step_plan(TOY, 4)
    panels = {p.object_name: p for p in window.panels}
    seen = []
    for k, spec in enumerate(plan):
        snap = step_and_wait(qtbot, window)
        r = snap.stage
        assert r.spec == spec and r.index == k
        seen.append(r.eq)
        assert window.status.text().startswith(f"epoch 0 · batch 0 · stage {k + 1}/12 · {spec.eq}")
        qtbot.waitUntil(lambda: panels["equations"].model.get("current") == spec, timeout=3000)
        eqm = panels["equations"].model
        assert r.outputs[0] in eqm["shown"]
        np.testing.assert_array_equal(np.atleast_2d(eqm["shown"][r.outputs[0]]),
                                      np.atleast_2d(r.arrays[r.outputs[0]]))
        dia = panels["diagram"].model
        assert dia["highlight"] == (spec.layer, spec.phase)
        if spec.phase == "backward" and f"Delta{spec.layer}" in r.arrays:
            assert dia["node_values"][spec.layer][0] == f"Delta{spec.layer}"
        if spec.eq == "F2" and spec.layer == 2:
            np.testing.assert_array_equal(panels["sample"].model["output"], r.arrays["A2"][0])
    assert seen == ["F1", "F2", "F1", "F2", "L-MSE", "B1-MSE", "B2", "B4", "B5", "B2", "U1", "U1"]
    assert len(window.controller.latest.losses) == 1


def test_heatmap_switches_to_the_gradient_once_it_exists(qtbot, window):
    heat = next(p for p in window.panels if p.object_name == "heatmaps")
    heat.what.setCurrentIndex(1)  # dL/dW
    for _ in range(6):
        step_and_wait(qtbot, window)
    assert heat.model["shown"] is None  # dW1 does not exist before B2 of layer 1
    for _ in range(4):
        snap = step_and_wait(qtbot, window)
    assert snap.stage.eq == "B2" and snap.stage.layer == 1
    np.testing.assert_array_equal(heat.model["shown"], snap.arrays["dW1"])
    assert heat.describe_cell(0, 1).startswith("dW1[k=0, j=1] = ")


def test_finish_pass_batch_and_epoch(qtbot, window):
    snap = step_and_wait(qtbot, window, "request_finish_pass")
    assert snap.stage.eq == "B2" and snap.stage.layer == 1
    snap = step_and_wait(qtbot, window, "request_step_batch")
    assert snap.stage.step_end and len(snap.losses) == 1
    snap = step_and_wait(qtbot, window, "request_step_epoch")
    assert len(snap.losses) == 2  # the toy set is one batch: an epoch is a step


def test_play_then_pause_stops_promptly_and_stays_stopped(qtbot, window):
    c = window.controller
    with qtbot.waitSignal(c.playing_changed, timeout=5000):
        c.request_play()
    qtbot.waitUntil(lambda: len(c.latest.losses) > 50, timeout=10000)
    with qtbot.waitSignal(c.playing_changed, timeout=2000) as sig:
        c.request_pause()
    assert sig.args == [False]
    qtbot.waitUntil(lambda: not c.latest.playing, timeout=5000)  # the pause snapshot
    serial, steps = c.latest.serial, len(c.latest.losses)
    qtbot.wait(400)
    assert c.latest.serial == serial and len(c.latest.losses) == steps
    assert steps == c.latest.position  # the loss curve is complete
    assert window.act_play.text() == "Play"


def test_paced_play_shows_every_stage(qtbot, window):
    """At a watching speed every stage is drawn: consecutive frames are one stage apart
    (at full speed frames skip stages, but never losses)."""
    c = window.controller
    window.speed.setValue(4)  # 15 stages a second
    frames = []
    c.snapshot_changed.connect(lambda s: s.stage is not None and frames.append(s.stage.step * 12 + s.stage.index))
    c.request_play()
    qtbot.waitUntil(lambda: len(frames) >= 6, timeout=10000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    steps = np.diff(frames[:6])
    assert (steps == 1).all(), frames


def test_closing_while_playing_ends_the_thread(qtbot, window):
    c = window.controller
    c.request_play()
    qtbot.waitUntil(lambda: c.playing, timeout=5000)
    qtbot.wait(200)
    window.close()
    assert not c.worker_running()


def test_a_divergence_reaches_the_window_and_keeps_the_last_state(qtbot, window):
    c = window.controller
    bad = TOY.with_(hidden="identity", output_loss="identity-mse", lr=1e300)
    c.rebuild(bad, "toy")
    qtbot.waitUntil(lambda: c.latest.config == bad, timeout=5000)
    with qtbot.waitSignal(c.error_occurred, timeout=10000) as sig:
        c.request_play()
    assert "non-finite" in sig.args[0] and "step" in sig.args[0]
    qtbot.waitUntil(lambda: not window.banner.isHidden() and "non-finite" in window.banner.text(), timeout=3000)
    assert not c.playing
    snap = c.latest
    assert snap.stage is not None and snap.message.startswith("training stopped")
    for w, _ in snap.params:
        assert np.isfinite(w).all()


def test_the_configuration_editor_rejects_impossible_values(qtbot, window):
    dock = window.config_dock
    before = window.controller.latest.config
    for field, value, needle in ((dock.sizes, "3,0,1", "at least 1"), (dock.sizes, "3,x,1", "whole numbers")):
        dock.show_config(TOY, "toy")
        field.setText(value)
        assert dock.apply() is False and needle in dock.message.text()
    dock.show_config(TOY, "toy")
    dock.lr.setValue(-0.5)
    assert dock.apply() is False and "learning rate" in dock.message.text()
    qtbot.wait(100)
    assert window.controller.latest.config == before
    assert dock.message.text().startswith("not applied")


def test_the_settings_say_when_an_edit_is_not_applied_and_fit_the_network_to_the_data(qtbot, window):
    dock = window.config_dock
    assert dock.message.text() == ""  # the form shows what runs
    dock.sizes.setText("5,4,1")
    assert dock.message.text().startswith("Edited, not applied yet") and "3-4-1 sigmoid on toy" in dock.message.text()
    dock.batch.setValue(10)
    assert dock.apply()
    qtbot.waitUntil(lambda: window.controller.latest.message.startswith("the network was fitted"), timeout=5000)
    cfg = window.controller.latest.config
    assert cfg.sizes == (3, 4, 1) and cfg.batch_size == 0
    assert dock.batch.text() == "whole set" and dock.batch.minimum() == 0  # 0 says what it means
    assert dock.sizes.text() == "3,4,1" and dock.message.text() == ""  # the form shows what runs again
    dock.dataset.setCurrentText("fashion-mnist")
    dock.dataset.activated.emit(dock.dataset.currentIndex())  # as a user's pick does
    assert dock.sizes.text() == "784,4,10" and dock.output_loss.currentData() == "softmax-ce"
    assert dock.message.text().startswith("Edited, not applied yet")


def test_apply_rebuilds_the_network(qtbot, window):
    dock = window.config_dock
    dock.sizes.setText("3,6,1")
    dock.hidden.setCurrentText("tanh")
    assert dock.apply()
    qtbot.waitUntil(lambda: window.controller.latest.config.sizes == (3, 6, 1), timeout=5000)
    assert window.controller.latest.config.hidden == "tanh"


def test_every_action_has_a_shortcut_in_its_tooltip_and_the_help(window):
    rows = dict(window.shortcut_rows())
    for action, key in ((window.act_step, "F10"), (window.act_pass, "Shift+F10"), (window.act_play, "Space"),
                        (window.act_reset, "Ctrl+R"), (window.act_batch, "Ctrl+F10")):
        assert key in action.toolTip()
        assert key in rows[action.text()]
    assert "Right" in rows["Step"]


def test_keyboard_step_and_reset(qtbot, window):
    c = window.controller
    window.show()
    qtbot.waitExposed(window)
    with warnings.catch_warnings():  # offscreen under pytest-qt activates no window by itself
        warnings.simplefilter("ignore", DeprecationWarning)
        QApplication.setActiveWindow(window)
    window.setFocus()
    assert window.speed.focusPolicy() == Qt.NoFocus  # Right and Space reach Step and Play, not the slider
    before = c.latest.serial
    qtbot.keyClick(window, Qt.Key_F10)
    qtbot.waitUntil(lambda: c.latest.serial > before and c.latest.stage is not None, timeout=5000)
    assert c.latest.stage.eq == "F1"
    before = c.latest.serial
    qtbot.keyClick(window, Qt.Key_Right)
    qtbot.waitUntil(lambda: c.latest.serial > before and c.latest.stage.eq == "F2", timeout=5000)
    before = c.latest.serial
    qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    qtbot.waitUntil(lambda: c.latest.stage is None, timeout=5000)
    qtbot.waitUntil(lambda: window.status.text().endswith("stage: ready"), timeout=5000)


def test_focusing_a_sample_reaches_every_panel(qtbot, window):
    step_and_wait(qtbot, window)
    sample = next(p for p in window.panels if p.object_name == "sample")
    sample.pick.setValue(2)
    qtbot.waitUntil(lambda: all(p.focus_sample == 2 for p in window.panels), timeout=3000)
    dia = next(p for p in window.panels if p.object_name == "diagram")
    assert dia.model["focus"] == 2


def test_the_layout_is_remembered(qtbot, tmp_path):
    from bpviz.gui.window import MainWindow
    path = str(tmp_path / "layout.ini")
    win = MainWindow(settings=QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(win)
    win.docks["loss"].setFloating(True)
    win.save_layout()
    win.controller.shutdown()
    again = MainWindow(settings=QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(again)
    assert again._restored and again.docks["loss"].isFloating()
    again.controller.shutdown()


def test_worker_slots_without_a_thread():
    """The worker's verbs, called directly (coverage sees them; no event loop needed)."""
    from bpviz.gui.worker import TrainingWorker
    w = TrainingWorker()
    got = []
    w.snapshot_ready.connect(got.append)
    w.rebuild(TOY, "toy", None)
    assert got and got[-1].stage is None
    w.frame_consumed()
    w.step()
    assert got[-1].stage.eq == "F1"
    w.frame_consumed()
    w.step_batch()
    assert got[-1].stage.step_end and len(got[-1].losses) == 1
    errors = []
    w.errored.connect(errors.append)
    w.rebuild(NetConfig((3, 4, 1), batch_size=40), "toy", None)
    assert not errors and got[-1].config.batch_size == 0  # fitted to the 4 samples, not refused
    w.rebuild(NetConfig((3, 4, 1), lr=0.0), "toy", None)
    assert errors and errors[-1].startswith("not applied:") and "learning rate" in errors[-1]
    assert w.trainer.cfg.batch_size == 0  # the running network was kept


def test_a_network_that_does_not_fit_the_data_is_fitted_keeping_its_hidden_layers():
    from bpviz.gui.worker import TrainingWorker
    w = TrainingWorker()
    got = []
    w.snapshot_ready.connect(got.append)
    w.rebuild(NetConfig((784, 32, 16, 10), output_loss="softmax-ce", batch_size=100), "toy", None)
    cfg = got[-1].config
    assert cfg.sizes == (3, 32, 16, 1) and cfg.output_loss == "sigmoid-mse" and cfg.batch_size == 0
    assert "fitted to toy" in got[-1].message and got[-1].message_kind == "info"


def test_after_pause_every_panel_shows_the_exact_stage(qtbot, window):
    """At full speed panels take turns; Pause redraws them all at the paused stage."""
    c = window.controller
    c.request_play()
    qtbot.waitUntil(lambda: len(c.latest.losses) > 200, timeout=10000)
    c.request_pause()
    qtbot.waitUntil(lambda: not c.playing, timeout=5000)
    qtbot.wait(200)
    final = c.latest
    assert final.stage is not None
    for p in window.panels:
        assert p.snapshot is final, p.object_name
    eq = next(p for p in window.panels if p.object_name == "equations")
    assert eq.model["current"] == final.stage.spec
    assert window.status.text() == final.status


def test_open_data_trains_on_a_csv_and_fits_the_network(qtbot, window, tmp_path):
    csv = tmp_path / "blobs.csv"
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [f"{x:.3f},{y:.3f},{z:.3f},{'yes' if x + y > 0 else 'no'}"
                              for x, y, z in rng.normal(size=(60, 3))]
    csv.write_text("\n".join(rows) + "\n")
    c = window.controller
    assert window.open_data(str(csv))
    qtbot.waitUntil(lambda: c.latest.data_name == str(csv), timeout=20000)
    snap = c.latest
    assert snap.config.sizes[0] == 3 and snap.config.sizes[-1] == 2 and snap.config.output_loss == "softmax-ce"
    assert window.config_dock.dataset.currentText() == str(csv)
    assert "fitted" in snap.message


def test_closing_at_the_first_frame_leaves_no_deferred_call_behind(qtbot, tmp_path):
    """The panels defer work to idle moments (typesetting ahead, array views); a window
    destroyed right after its first frame must not have those calls run on dead widgets
    (they printed tracebacks at every quick exit)."""
    from bpviz.gui.main import _close_window
    from bpviz.gui.window import MainWindow
    app = QApplication.instance()
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    win.show()
    closed = []

    def first_frame(_snap):  # as `bpviz` does when told to exit once shown
        win.controller.snapshot_changed.disconnect(first_frame)
        QTimer.singleShot(0, lambda: closed.append(_close_window(win, app)))
    win.controller.snapshot_changed.connect(first_frame)
    win.controller.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: bool(closed), timeout=10000)
    assert closed == [True]
    for _ in range(20):  # the idle calls the panels had queued get every chance to run
        app.processEvents()
        qtbot.wait(5)  # pytest-qt fails the test on an exception raised in any of them


def test_a_frame_is_laid_out_before_anything_paints_it(qtbot, window):
    """The panels' new layouts are done when the frame is handed to them: a pyqtgraph scene
    paints the window synchronously (QGraphicsView flushes its update requests), and a
    frame painted before its layout is painted twice."""
    run = shown_on_a_toy_run(qtbot, window)
    eq = next(p for p in window.panels if p.object_name == "equations")
    for serial in range(2, 14):  # one view more at F1 (its result), then other shapes
        run.advance("stage")
        window.on_snapshot(run.snapshot(serial))  # no event processed in between
        shown = [av for av in eq._array_views if av.in_use]
        for above, below in zip(shown, shown[1:]):
            assert below.y() >= above.y() + above.height(), (serial, above.name, below.name)
        for av in shown:
            if not av.grid.isHidden():  # each table has the height of its rows, inside its view
                assert av.grid.height() == av.grid.minimumHeight(), (serial, av.name)
                assert av.grid.geometry().bottom() < av.height(), (serial, av.name)
        qtbot.wait(5)


def test_a_frame_is_painted_once(qtbot, window):
    """Each plot scene gets to its changes in a queued call that paints the window at once
    (QGraphicsView flushes the window's paint request): a frame that changed the Debug
    layout's two inspector plots painted the window twice, and one that showed a plot
    behind its note painted that plot two or three times."""
    from PySide6.QtCore import QEvent

    class Count(QObject):
        """Which of the window's paints (its UpdateRequests, numbered) painted each plot."""

        def __init__(self):
            super().__init__()
            self.paint = 0
            self.n = {}

        def eventFilter(self, obj, event):
            if event.type() == QEvent.UpdateRequest:
                self.paint += 1
            elif event.type() == QEvent.Paint:
                self.n.setdefault(obj, []).append(self.paint)
            return False

    run = shown_on_a_toy_run(qtbot, window, "debug")
    ins = next(p for p in window.panels if p.object_name == "inspector")
    viewports = [ins.view.viewport(), ins.time_view.viewport()]
    count = Count()
    for w in [window] + viewports:
        w.installEventFilter(count)
    for serial in range(2, 6):  # the first shows both plots; the next ones change both
        run.advance("step")
        count.n.clear()
        window.on_snapshot(run.snapshot(serial, playing=True))
        qtbot.wait(60)
        assert all(v.isVisible() for v in viewports), serial
        # each plot painted once, both in the same paint of the window (another paint, such
        # as a cursor's blink, may come, but without them)
        paints = [count.n.get(v, []) for v in viewports]
        assert all(len(p) == 1 for p in paints) and paints[0] == paints[1], (serial, paints)


def test_while_playing_a_frame_is_painted_after_the_timers_due_during_its_update(qtbot, window):
    """Qt's paint request is a posted event, sent before the event loop looks at timers and
    input: update and paint ran as one block, the GUI thread's longest stall while playing.
    A playing frame's paint now comes after the timers due by then; a Step paints at once."""
    from PySide6.QtCore import QEvent

    order: list[str] = []

    class Paints(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Paint and "paint" not in order:
                order.append("paint")
            return False

    run = shown_on_a_toy_run(qtbot, window)
    spy = Paints()
    diagram = next(p for p in window.panels if p.object_name == "diagram")
    diagram.plot.viewport().installEventFilter(spy)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: order.append("timer"))
    for serial, playing in ((2, True), (3, False), (4, True)):
        run.advance("step")
        order.clear()
        timer.start(0)  # due before the frame's update ends
        window.on_snapshot(run.snapshot(serial, playing=playing))
        qtbot.waitUntil(lambda: "paint" in order and "timer" in order)
        assert order == (["timer", "paint"] if playing else ["paint", "timer"]), (serial, order)


def test_while_playing_a_due_frame_lets_the_timers_already_due_run_first(qtbot, window):
    """A frame that fell due while the last one painted started straight after that paint:
    on a machine too slow for 30 frames a second, paint and update made one stall."""
    c = window.controller
    qtbot.waitUntil(lambda: c.latest is not None)
    order: list[str] = []
    c.snapshot_changed.connect(lambda _s: order.append("frame"))
    probe = QTimer()
    probe.setSingleShot(True)
    probe.timeout.connect(lambda: order.append("timer"))
    c.playing = True  # as the worker reports it; nothing is asked of the worker here
    try:
        c._last_frame = 0.0  # the next frame is due
        c._on_snapshot(c.latest)
        probe.start(0)  # due after the frame
        qtbot.waitUntil(lambda: "frame" in order and "timer" in order)
    finally:
        c.playing = False
    assert order[:2] == ["timer", "frame"]


def test_the_status_bar_writes_the_equation_in_the_equations_panels_notation(qtbot, window):
    """Columns chosen in the equations panel: the status bar said Z1 = A0 W1 + b1 under a
    panel showing Z = W A + b."""
    run = shown_on_a_toy_run(qtbot, window)
    run.advance("stage")  # F1 of layer 1
    snap = run.snapshot(2)
    window.on_snapshot(snap)
    assert window.status.text().endswith(": Z1 = A0 W1")  # the toy net has no biases
    eqs = next(p for p in window.panels if p.object_name == "equations")
    eqs.col_btn.setChecked(True)
    assert window.status.text().endswith(": Z1 = W1 A0") and window.status.text().startswith("epoch 0 · batch 0")
    window.on_snapshot(run.snapshot(3))
    assert window.status.text().endswith(": Z1 = W1 A0")
    eqs.row_btn.setChecked(True)
    assert window.status.text() == snap.status
