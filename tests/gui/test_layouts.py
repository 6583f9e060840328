"""The window as a learner sees it at 1366x768: each layout shows what it promises with no
label cut and no tick labels overlapping; messages are coloured by kind; zoom scales the
panels; a panel forgets the previous run; the explained-cell marks follow the explanation.
Checked through the widgets (font metrics, items), never through pixels."""
import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage, QPainter, QTextDocument
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from bpviz.engine.presets import get_preset

TOY = get_preset("toy").config
W, H = 1366, 768


def make_window(qtbot, path, size=(W, H)):
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    win.controller.rebuild(TOY, "toy")
    qtbot.waitUntil(lambda: win.controller.latest is not None, timeout=10000)
    return win


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path / "settings.ini")
    yield win
    win.controller.shutdown()


def steps(qtbot, win, n, fn=None):
    c = win.controller
    for _ in range(n):
        before = c.latest.serial
        with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: s.serial > before):
            (fn or c.request_step)()
    return c.latest


def settle(qtbot):
    for _ in range(3):  # the layout's sizes are applied after a layout pass
        QApplication.processEvents()
        qtbot.wait(30)


def plain(label: QLabel) -> str:
    if label.textFormat() == label.textFormat().RichText or "<" in label.text():
        doc = QTextDocument()
        doc.setHtml(label.text())
        return doc.toPlainText()
    return label.text()


def shown(widget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def cut_texts(win) -> list[str]:
    """Every visible label or button whose text does not fit in it."""
    bad = []
    for label in win.findChildren(QLabel):
        text = plain(label)
        if not text.strip() or not shown(label) or label.pixmap() is not None and not label.pixmap().isNull():
            continue
        room = label.contentsRect()
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 1:
                bad.append(f"label {text[:50]!r}: needs {need} px of height, has {label.height()}")
        else:
            fm = label.fontMetrics()
            need = max(fm.horizontalAdvance(line) for line in text.splitlines())
            if need > room.width() - 2 * label.margin() + 1:
                bad.append(f"label {text[:50]!r}: needs {need} px, has {room.width()}")
        bad += hidden_by_container(label, text)
    from bpviz.gui.widgets.steady import SteadyText
    for label in win.findChildren(SteadyText):  # painted text: wrapped, or one line cut with "…"
        text = label.text()
        if not text.strip() or not shown(label):
            continue
        if label._elide:
            need = max(label.fontMetrics().horizontalAdvance(line) for line in text.splitlines())
            if need > label.contentsRect().width() + 1:
                bad.append(f"label {text[:50]!r}: needs {need} px, has {label.contentsRect().width()}")
        elif label.heightForWidth(label.width()) > label.height() + 1:
            bad.append(f"label {text[:50]!r}: needs {label.heightForWidth(label.width())} px of height, "
                       f"has {label.height()}")
        bad += hidden_by_container(label, text)
    for button in win.findChildren(QAbstractButton):
        if not button.text() or not shown(button):
            continue
        if button.sizeHint().width() > button.width() + 1:
            bad.append(f"button {button.text()!r}: needs {button.sizeHint().width()} px, has {button.width()}")
        bad += hidden_by_container(button, button.text())
    return bad


def hidden_by_container(widget, text) -> list[str]:
    """A widget wide enough for its text, but cut at the right by what holds it (a scroll
    area or a dock narrower than its content)."""
    visible = widget.visibleRegion().boundingRect()
    if visible.right() < widget.rect().right() - 1 and visible.height() > 0:
        return [f"{type(widget).__name__} {text[:50]!r}: only {visible.width()} of {widget.width()} px in view"]
    return []


def overlapping_ticks(win) -> list[str]:
    """Tick labels of a visible axis that overlap one another or leave their plot's widget."""
    bad = []
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        for view in win.findChildren(pg.GraphicsView):
            if not shown(view.viewport()):
                continue
            for item in view.scene().items():
                if not isinstance(item, pg.AxisItem) or not item.isVisible() or item.linkedView() is None:
                    continue
                specs = item.generateDrawSpecs(painter)
                if specs is None:
                    continue
                rects = [(item.mapRectToScene(r), text) for r, _, text in specs[2]]
                for k, (r, text) in enumerate(rects):
                    for r2, text2 in rects[k + 1:]:
                        if r.adjusted(1, 1, -1, -1).intersects(r2.adjusted(1, 1, -1, -1)):
                            bad.append(f"ticks {text!r} and {text2!r} overlap on {item.orientation} axis")
                    on_view = view.mapFromScene(r).boundingRect()
                    if not view.rect().adjusted(-1, -1, 1, 1).contains(on_view):
                        bad.append(f"tick {text!r} of the {item.orientation} axis is cut by its panel")
    finally:
        painter.end()
    return bad


@pytest.mark.parametrize("name", ["learn", "train", "debug"])
def test_each_layout_shows_what_it_promises_with_nothing_cut(qtbot, window, name):
    from bpviz.gui.window import LAYOUT_PROMISES
    steps(qtbot, window, 14)  # into the second step: a loss point, statistics, mid-forward
    window.layout_actions[name].trigger()
    settle(qtbot)
    steps(qtbot, window, 7)  # mid-backward, every panel redrawn in this layout
    settle(qtbot)
    if os.environ.get("BPVIZ_TEST_GRAB"):  # to look at what the test saw
        window.grab().save(os.path.join(os.environ["BPVIZ_TEST_GRAB"], f"layout-{name}.png"))
    for dock in LAYOUT_PROMISES[name]:
        d = window.docks[dock]
        assert shown(d) and d.widget().isVisible(), f"{name}: {dock} is not in front"
        assert d.width() >= 300 and d.height() >= 250, f"{name}: {dock} is {d.width()}x{d.height()}"
    assert window.layout_is_sound()
    assert cut_texts(window) == [], name
    assert overlapping_ticks(window) == [], (name, overlapping_ticks(window))


def test_learn_is_the_default_and_gives_most_room_to_the_network_and_the_equation(qtbot, window):
    settle(qtbot)
    d = window.docks
    assert window.layout_name == "learn"
    big = d["diagram"].width() * d["diagram"].height() + d["equations"].width() * d["equations"].height()
    others = sum(dk.width() * dk.height() for k, dk in d.items() if k not in ("diagram", "equations")
                 and shown(dk))
    assert big > 2 * others


def test_reset_layout_brings_back_learn(qtbot, window):
    window.layout_actions["debug"].trigger()
    window.docks["diagram"].setFloating(True)
    window.act_reset_layout.trigger()
    settle(qtbot)
    assert not window.docks["diagram"].isFloating()
    assert shown(window.docks["diagram"]) and shown(window.docks["equations"])


def test_a_broken_saved_layout_is_not_restored(qtbot, tmp_path):
    """Saved from a window squeezed to a few pixels: restoring it would squeeze every dock."""
    from bpviz.gui.window import MainWindow
    path = tmp_path / "settings.ini"
    win = make_window(qtbot, path)
    win.resize(260, 180)
    settle(qtbot)
    win.save_layout()
    win.controller.shutdown()
    again = MainWindow(settings=QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(again)
    again.show()
    settle(qtbot)
    assert not again._restored and again.layout_is_sound()
    assert again.width() >= 600 and shown(again.docks["diagram"])
    again.controller.shutdown()


def test_the_checker_finds_a_cut_label(qtbot, window):
    window.status.setText("a status line far too long for any window " * 20)
    assert any("status line" in b for b in cut_texts(window))


def test_a_status_line_too_long_is_cut_with_an_ellipsis_and_shown_whole_in_its_tooltip(qtbot, window):
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip
    long = "epoch 3 · batch 12 · stage 9/12 · " + "a long equation " * 40
    window.status.setText(long)
    window.status.grab()  # painted: it knows it was cut
    assert window.status._cut
    QApplication.sendEvent(window.status, QHelpEvent(QEvent.ToolTip, QPoint(5, 5), window.status.mapToGlobal(QPoint(5, 5))))
    assert QToolTip.text().startswith(long) and "Stage codes" in QToolTip.text()
    window.status.setText("epoch 0 · batch 0 · stage: ready")
    window.status.grab()
    assert not window.status._cut


def test_a_sound_saved_layout_is_restored(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    win = make_window(qtbot, path)
    win.layout_actions["train"].trigger()
    settle(qtbot)
    win.save_layout()
    win.controller.shutdown()
    again = make_window(qtbot, path)
    settle(qtbot)
    assert again._restored and again.layout_name == "train"
    assert shown(again.docks["loss"]) and not shown(again.docks["equations"])
    again.controller.shutdown()


def test_messages_by_kind(qtbot, window):
    window.show_message("edited W1[0, 0]", "info")
    assert window.info_label.text() == "edited W1[0, 0]" and not window.message_bar.isVisible()
    window.show_message("breakpoint: step 3 done", "warning")
    assert window.message_bar.isVisible() and "#f6c343" in window.banner.styleSheet()
    window.show_message("training stopped: non-finite loss", "error")
    assert window.message_kind == "error" and "#b3261e" in window.banner.styleSheet()
    window.act_step.trigger()  # the user acted: the error goes
    assert not window.message_bar.isVisible()


def test_a_message_is_readable_across_the_window(qtbot, window):
    """The strip under the toolbar shows its text, wrapped across the window's width (a
    label set to ignore its width was given none: an empty coloured band)."""
    text = ("not applied: /home/student/data/trunc.csv: row 102 has 2 values but the header has 3 "
            "columns; the network and its data are as they were") * 2
    window.show_message(text, "error")
    settle(qtbot)
    banner = window.banner
    assert shown(banner) and banner.width() >= window.width() // 2, banner.geometry()
    lines = banner.heightForWidth(banner.width())
    assert lines <= banner.height() + 1  # every wrapped line in view
    assert banner.height() <= lines + 8 and window.message_bar.height() < window.height() // 5  # and no more
    assert not [t for t in cut_texts(window) if "not applied" in t]
    window.show_message("breakpoint: step 3 done", "warning")  # a short one after a long one
    settle(qtbot)
    assert shown(banner) and banner.width() >= window.width() // 2
    assert banner.height() <= banner.heightForWidth(banner.width()) + 8 < lines  # one line again


def test_an_edit_is_information_and_a_bad_session_an_error_until_reset(qtbot, window, tmp_path):
    steps(qtbot, window, 3)
    c = window.controller
    before = c.latest.serial
    with qtbot.waitSignal(c.snapshot_changed, timeout=10000, check_params_cb=lambda s: s.serial > before):
        c.edit_param("W1", (0, 0), 0.5)
    qtbot.waitUntil(lambda: "edited" in window.info_label.text(), timeout=3000)
    assert not window.message_bar.isVisible()
    bad = tmp_path / "bad.bpviz"
    bad.write_bytes(b"not a session")
    window.open_session(str(bad))
    qtbot.waitUntil(lambda: window.message_kind == "error", timeout=5000)
    assert window.message_bar.isVisible() and str(bad.name) in window.banner.text()
    steps(qtbot, window, 1, c.request_reset)
    assert not window.message_bar.isVisible()


def test_copy_as_latex_says_copied(qtbot, window):
    steps(qtbot, window, 2)
    eq = next(p for p in window.panels if p.object_name == "equations")
    tex = eq.copy_latex()
    assert tex and window.info_label.text().startswith("copied")
    assert QApplication.clipboard().text() == tex


def test_standing_warnings_are_shown_amber(qtbot, window):
    from bpviz.engine.snapshot import Snapshot
    snap = window.controller.latest
    fields = {k: getattr(snap, k) for k in Snapshot.__slots__}
    fields["warnings"] = ("layer 1: 92% of units saturated",)
    window.on_snapshot(Snapshot(**fields))
    assert window.warnings_label.isVisible() and "92% of units saturated" in window.warnings_label.text()
    assert "#f6c343" in window.warnings_label.styleSheet()
    fields["warnings"] = ()
    window.on_snapshot(Snapshot(**fields))
    assert not window.warnings_label.isVisible()


def test_zoom_scales_text_equations_numbers_and_lines(qtbot, window):
    steps(qtbot, window, 14)
    eq = next(p for p in window.panels if p.object_name == "equations")
    loss = next(p for p in window.panels if p.object_name == "loss")
    base_font = window.font().pointSizeF()
    base_math = eq.current._size
    grid = eq._array_views[0].grid
    base_grid = grid.font().pointSizeF()
    base_tick = loss.plot.getAxis("left").style["tickFont"]
    window.set_zoom(1.5)
    assert window.font().pointSizeF() == pytest.approx(base_font * 1.5)
    assert eq.current._size == pytest.approx(base_math * 1.5)
    assert grid.font().pointSizeF() == pytest.approx(base_grid * 1.5)
    tick = loss.plot.getAxis("left").style["tickFont"]
    assert tick is not None and (base_tick is None or tick.pointSizeF() > base_tick.pointSizeF())
    assert loss.steps.opts["pen"].widthF() == pytest.approx(1.5)
    sample = next(p for p in window.panels if p.object_name == "sample")
    t = sample.table
    fm = t.fontMetrics()
    for r in range(t.rowCount()):  # no number ends in "…" in the zoomed table
        for c in range(t.columnCount()):
            assert fm.horizontalAdvance(t.text_at(r, c)) < t.columnWidth(c), (r, c)
    window.set_zoom(1.0)
    assert window.font().pointSizeF() == pytest.approx(base_font)
    assert loss.steps.opts["pen"].widthF() == pytest.approx(1.0)


def test_zoom_keys_step_through_the_zoom_levels(qtbot, window):
    zoom_in = next(a for a in window.actions() if a.text() == "Zoom in")
    zoom_in.trigger()
    assert window.zoom > 1.0
    next(a for a in window.actions() if a.text() == "Actual size").trigger()
    assert window.zoom == 1.0


@pytest.mark.parametrize("name", ["learn", "train", "debug"])
def test_the_layouts_still_fit_when_zoomed(qtbot, window, name):
    from bpviz.gui.window import LAYOUT_PROMISES, ZOOMS
    steps(qtbot, window, 21)
    window.set_zoom(ZOOMS[-1])
    window.layout_actions[name].trigger()
    settle(qtbot)
    need = window.minimumSizeHint()
    assert need.width() <= W and need.height() <= H, (name, need)
    assert (window.width(), window.height()) == (W, H)
    for dock in LAYOUT_PROMISES[name]:
        assert shown(window.docks[dock])
    window.set_zoom(1.5)
    settle(qtbot)
    assert overlapping_ticks(window) == [], name
    assert cut_texts(window) == [], name


# -- a panel forgets the previous run ------------------------------------------------------
def worker_snaps(cfg=TOY, dataset="toy"):
    """(worker, snapshots) of the real worker, driven without a thread."""
    from bpviz.gui.worker import TrainingWorker
    w = TrainingWorker()
    got = []
    w.snapshot_ready.connect(got.append)
    w.rebuild(cfg, dataset, None)
    return w, got


def run_a_then_b(how):
    """Run A: 1.5 steps with its history; run B: the first snapshot after `how`."""
    w, got = worker_snaps()
    for _ in range(18):
        w.frame_consumed()
        w.step()
    run_a = list(got)
    if how == "reset":
        w.request("reset", ())
    else:
        w.rebuild(replace(TOY, sizes=(3, 6, 1)), "toy", None)
    assert got[-1].run_id != run_a[-1].run_id and got[-1].stage is None
    return run_a, got[-1]


@pytest.mark.parametrize("how", ["reset", "new network"])
def test_no_panel_keeps_anything_of_the_previous_run(qtbot, how):
    from bpviz.gui.window import panel_classes
    run_a, b = run_a_then_b(how)
    panels = {}
    for cls in panel_classes():
        p = cls()
        qtbot.addWidget(p)
        p.resize(900, 600)
        p.show()
        panels[p.object_name] = p
    for s in run_a:
        for p in panels.values():
            p.show_snapshot(s)
    eq = panels["equations"]
    eq.explain("Z1", (0, 0)) if run_a[-1].stage.eq == "F1" else None
    panels["heatmaps"].set_marks({"W1": [(0, 0)]})
    panels["diagram"].set_marks({"W1": [(0, 0)]})
    old_curves = list(panels["inspector"]._curves.values())
    assert old_curves and panels["sample"].table.rowCount() == 4
    for p in panels.values():
        p.show_snapshot(b)
    loss = panels["loss"]
    assert loss.place.showing_note and len(loss.steps.getData()[0] or []) == 0
    insp = panels["inspector"]
    assert insp.time_place.showing_note and insp.now_place.showing_note
    # the new run's curves are made ahead, empty; none of the old ones is left in a plot
    assert not any(c is old for c in insp._curves.values() for old in old_curves)
    assert all(len(c.getData()[0] if c.getData()[0] is not None else []) == 0 for c in insp._curves.values())
    in_plots = [i for p in insp._history_plots.values() for i in p.listDataItems()]
    assert len(in_plots) == len(insp._curves)
    # the sample shows the new run's first batch, with no output of the old run's
    sample = panels["sample"]
    x, y = b.arrays["X"], b.arrays["Y"]
    assert sample.table.rowCount() == len(x) and sample.table.columnCount() == x.shape[1] + y.shape[1]
    assert np.array_equal(sample.table.values, np.hstack([x, y]))
    assert "the output appears when" in sample.caption.text() and "predicted" not in sample.caption.text()
    assert panels["heatmaps"].model["marks"] == [] and panels["diagram"].model["marks"] == {"nodes": 0, "edges": 0}
    assert eq.model["explanation"] is None and eq._explained is None
    if how == "new network":
        assert panels["diagram"].model["node_values"][1][1].shape == (6,)


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Fashion-MNIST is not installed")
def test_the_toy_table_leaves_when_the_data_set_is_fashion_mnist(qtbot):
    from bpviz.gui.window import panel_classes
    sample = {c.object_name: c for c in panel_classes()}["sample"]()
    qtbot.addWidget(sample)
    sample.show()
    w, got = worker_snaps()
    w.frame_consumed()
    w.step()
    sample.show_snapshot(got[-1])
    assert sample.table.isVisible()
    w.rebuild(get_preset("mnist").config, "fashion-mnist", None)
    sample.show_snapshot(got[-1])
    assert not sample.table.isVisible() and sample.table.rowCount() == 0
    w.frame_consumed()
    w.step()
    sample.show_snapshot(got[-1])
    assert not sample.table.isVisible() and sample.img_view.isVisible()


def test_a_panel_behind_a_tab_draws_nothing_until_its_tab_is_raised(qtbot, window):
    """Qt keeps a tab behind another "visible" (only moved out of the window): the
    panels must not redraw there every frame, and must show the latest stage when raised."""
    loss = next(p for p in window.panels if p.object_name == "loss")
    dia = next(p for p in window.panels if p.object_name == "diagram")
    qtbot.waitUntil(lambda: dia.seen() and not loss.seen())
    calls = []
    original = loss.redraw
    loss.redraw = lambda: (calls.append(window.controller.latest.serial), original())
    steps(qtbot, window, 16)  # past the first update: the hidden curve has a step to miss
    assert calls == [] and len(window.controller.latest.losses) >= 1
    window.docks["loss"].raise_()
    qtbot.waitUntil(lambda: calls == [window.controller.latest.serial])
    assert loss.model["steps"] == len(window.controller.latest.losses)
    assert not dia.seen()


def test_the_debugger_behind_a_tab_draws_nothing_until_raised(qtbot, window):
    """The debugger dock is a tab behind the sample in Learn: its scrubber and history line
    wait until it is raised, then show the latest step."""
    dbg = window.debugger
    qtbot.waitUntil(lambda: not dbg._seen())
    before = dbg.history_label.text()
    steps(qtbot, window, 30)
    assert dbg.history_label.text() == before and dbg._stale
    dbg.raise_()
    qtbot.waitUntil(lambda: not dbg._stale)
    latest = window.controller.latest
    assert dbg.scrub.value() == latest.stage.step and dbg.history_label.text() != before


def test_the_debugger_in_front_follows_every_step(qtbot, window):
    """In the Debug layout the debugger is in front: it must draw every step (its content,
    one opaque child filling it, once counted as out of view and never drew)."""
    window.apply_layout("debug")
    dbg = window.debugger
    qtbot.waitUntil(lambda: dbg._seen())
    for n in (3, 17):
        steps(qtbot, window, n)
        latest = window.controller.latest
        qtbot.waitUntil(lambda: dbg.scrub.value() == latest.stage.step)
        assert not dbg._stale and dbg.scrub_label.text().startswith(f"step {latest.stage.step} ")


# -- the explain highlight -----------------------------------------------------------------
def test_the_explained_marks_clear_on_the_next_equation_a_click_and_a_reset(qtbot, window):
    eq = next(p for p in window.panels if p.object_name == "equations")
    heat = next(p for p in window.panels if p.object_name == "heatmaps")
    dia = next(p for p in window.panels if p.object_name == "diagram")
    # the heatmaps beside the diagram, not a tab behind it: a panel out of view draws nothing
    window.removeDockWidget(window.docks["heatmaps"])
    window.addDockWidget(pg.QtCore.Qt.BottomDockWidgetArea, window.docks["heatmaps"])
    window.docks["heatmaps"].show()
    qtbot.waitUntil(lambda: heat.seen() and dia.seen())
    steps(qtbot, window, 1)  # F1: Z1 = A0 W1

    def explain():
        eq.explain("Z1", (0, 1))
        assert heat.model["marks"] and dia.model["marks"]["edges"] > 0
    explain()
    eq.set_digits(6)  # the same equation, drawn again: the explanation stays
    assert eq.model["explanation"] is not None and heat.model["marks"]
    steps(qtbot, window, 1)
    assert eq.model["explanation"] is None and heat.model["marks"] == [] and dia.model["marks"]["edges"] == 0
    steps(qtbot, window, 1, window.controller.request_reset)
    steps(qtbot, window, 1)
    explain()
    qtbot.mouseClick(eq, pg.QtCore.Qt.LeftButton)  # a click beside the numbers
    assert eq.model["explanation"] is None and heat.model["marks"] == []
    explain()
    qtbot.mouseClick(dia.plot.viewport(), pg.QtCore.Qt.LeftButton)  # a click in another panel
    assert eq.model["explanation"] is None and dia.model["marks"]["edges"] == 0
    explain()
    steps(qtbot, window, 1, window.controller.request_reset)
    assert eq.model["explanation"] is None and heat.model["marks"] == [] and dia.model["marks"]["nodes"] == 0


# -- empty panels say what will appear ---------------------------------------------------------
def test_empty_panels_say_what_will_appear_and_one_loss_point_is_drawn(qtbot, window):
    loss = next(p for p in window.panels if p.object_name == "loss")
    insp = next(p for p in window.panels if p.object_name == "inspector")
    heat = next(p for p in window.panels if p.object_name == "heatmaps")
    sample = next(p for p in window.panels if p.object_name == "sample")
    assert loss.place.showing_note and "first step ends" in loss.place.note.text()
    assert insp.time_place.showing_note
    heat.what.setCurrentIndex(heat.what.findData("dW"))
    assert heat.place.showing_note and "appears here" in heat.place.note.text()
    # before the first step: the first batch's sample and its target; the output is to come
    assert sample.out_view.isVisible() and "the output appears when" in sample.caption.text()
    assert len(sample.bars.opts["height"]) == 0 and len(sample.target_bars.opts["height"]) > 0
    steps(qtbot, window, 12)  # one whole step: one loss value
    loss.redraw()
    assert not loss.place.showing_note
    assert len(loss.steps.getData()[0]) == 1 and loss.steps.opts["symbol"] == "o"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the engine's overflow on the way to divergence
def test_a_diverged_output_is_shown_in_scientific_notation_and_the_bars_rescale(qtbot):
    from bpviz.gui.window import panel_classes
    sample = {c.object_name: c for c in panel_classes()}["sample"]()
    qtbot.addWidget(sample)
    sample.show()
    cfg = replace(TOY, hidden="identity", output_loss="identity-mse", lr=5.0)
    w, got = worker_snaps(cfg)
    for _ in range(12 * 6):  # identity output, lr 5: the outputs grow without bound
        w.frame_consumed()
        try:
            w.step()
        except Exception:
            break
    snap = next(s for s in reversed(got) if s.stage is not None and "A2" in s.stage.arrays)
    out = np.asarray(snap.stage.arrays["A2"])
    assert np.nanmax(np.abs(out)) > 1e5, "the run did not diverge far enough to test anything"
    sample.show_snapshot(snap)
    texts = [sample.table.text_at(r, sample.table.columnCount() - 1) for r in range(sample.table.rowCount())]
    assert all(len(t) <= 12 for t in texts), texts
    lo, hi = sample.model["out_range"]
    row = out[sample.model["focus"]]
    assert lo <= float(np.min(row)) and hi >= float(np.max(row)) and hi - lo > 1.5


def test_the_checker_finds_overlapping_ticks(qtbot, window):
    steps(qtbot, window, 24)
    window.layout_actions["train"].trigger()
    settle(qtbot)
    loss = next(p for p in window.panels if p.object_name == "loss")
    loss.plot.getAxis("bottom").setTicks([[(x, f"step number {x}") for x in (1.5, 1.52, 1.54)]])
    settle(qtbot)
    assert any("overlap" in b for b in overlapping_ticks(window))


def test_the_checker_finds_a_form_cut_by_its_dock(qtbot, window):
    window.layout_actions["train"].trigger()
    settle(qtbot)
    window.docks["config"].widget().widget().setMinimumWidth(1200)  # the form outgrows its dock
    settle(qtbot)
    assert any("in view" in b for b in cut_texts(window))


def test_references_and_stage_codes_are_explained_where_they_appear(qtbot, window):
    from PySide6.QtWidgets import QWidget
    from bpviz.engine.sources import SOURCES
    steps(qtbot, window, 1)  # F1: [000], [002] and [003]
    eq = next(p for p in window.panels if p.object_name == "equations")
    tip = eq.source.toolTip()
    for key in ("000", "002", "003"):
        assert SOURCES[key].title in tip
    assert 'href="src:000' in eq.source.text()
    assert "F1" in eq.title_label.toolTip() and "U1" in window.status.toolTip()
    assert any(a.text() == "Sources" for a in window.actions())
    settings = set(window.config_dock.findChildren(QWidget))  # its presets: the next test
    for w in window.findChildren(QWidget):  # no internal numbers in anything a user reads
        if w not in settings:
            assert not re.search(r"seeds? \d{3}", w.toolTip()), w.toolTip()


def test_the_preset_tooltips_name_documents(window):
    from PySide6.QtWidgets import QWidget
    tips = [w.toolTip() for w in window.config_dock.findChildren(QWidget)]
    assert not any(re.search(r"seeds? \d{3}", t) for t in tips)


def test_information_fades_away(qtbot, window):
    window.inform("session saved to x.bpviz")
    assert window.info_label.text() == "session saved to x.bpviz"
    window._info_timer.timeout.emit()  # the wait is over (no clock in the test)
    qtbot.waitUntil(lambda: window.info_label.text() == "", timeout=10000)
    window.inform("copied")
    assert window._info_effect.opacity() == 1.0 and window.info_label.text() == "copied"


def test_a_number_grid_widens_when_a_number_turns_scientific(qtbot):
    from bpviz.gui.widgets.tables import NumberGrid
    g = NumberGrid()
    qtbot.addWidget(g)
    g.show()
    g.set_values(np.array([[0.5, -1.9e+123]]))
    g.set_values(np.array([[4.337e-05, -0.25]]))  # same shape, the long text in another column
    fm = g.fontMetrics()
    for j in range(2):
        assert fm.horizontalAdvance(g.text_at(0, j)) < g.columnWidth(j), g.text_at(0, j)


def test_a_breakpoint_is_amber_and_a_divergence_red_until_reset(qtbot, window):
    c = window.controller
    dbg = window.debugger
    dbg.bp_kind.setCurrentIndex([dbg.bp_kind.itemData(i) for i in range(dbg.bp_kind.count())].index("step"))
    dbg.bp_value.setValue(3)
    dbg.add_breakpoint()
    qtbot.wait(50)
    with qtbot.waitSignal(c.playing_changed, timeout=5000):
        c.request_play()
    qtbot.waitUntil(lambda: window.message_kind == "warning", timeout=10000)
    assert "step 3" in window.banner.text() and "#f6c343" in window.banner.styleSheet()
    bad = TOY.with_(hidden="identity", output_loss="identity-mse", lr=1e300)
    c.rebuild(bad, "toy")
    qtbot.waitUntil(lambda: c.latest.config == bad, timeout=5000)
    assert window.message_kind == ""  # the new run cleared the old warning
    c.request_play()
    qtbot.waitUntil(lambda: window.message_kind == "error", timeout=10000)
    assert "non-finite" in window.banner.text() and "#b3261e" in window.banner.styleSheet()
    steps(qtbot, window, 1, c.request_reset)
    assert window.message_kind == "" and not window.message_bar.isVisible()


def test_the_loss_key_names_only_what_can_appear_from_the_first_snapshot_on(qtbot, window):
    """The key in the title and the test-accuracy axis are the run's, set while the panel still
    shows its note: the first step's end only adds points (a relayout there doubled that Step)."""
    window.apply_layout("train")  # the loss plot in front
    settle(qtbot)
    loss = next(p for p in window.panels if p.object_name == "loss")
    assert loss.seen()
    pi = loss.plot.getPlotItem()

    def laid_out():
        title = pi.titleLabel.text
        named = [name for name in ("loss per step", "epoch mean", "test accuracy") if name in title]
        return sorted(named), pi.getAxis("right").isVisible()
    c = window.controller
    for cfg, dataset, expected in ((TOY, "toy", ["loss per step"]),  # one batch an epoch, no test set
                                   (get_preset("spiral").config, "spiral",
                                    ["loss per step", "epoch mean", "test accuracy"])):
        if c.latest.config != cfg:
            c.rebuild(cfg, dataset)
            qtbot.waitUntil(lambda: c.latest.config == cfg and c.latest.stage is None, timeout=10000)
        qtbot.wait(50)
        assert c.latest.stage is None and laid_out() == (sorted(expected), len(expected) == 3)
        steps(qtbot, window, 1, c.request_step_epoch)
        assert len(c.latest.losses) and laid_out() == (sorted(expected), len(expected) == 3)


def test_text_changing_in_a_panel_lays_out_the_panel_not_the_window(qtbot, window):
    """Qt re-lays out a widget's parents at every layout pass of the widget; the barrier
    around each panel passes a request on only when the panel no longer fits."""
    from PySide6.QtCore import QEvent

    from bpviz.gui.widgets.steady import LayoutBarrier
    from waiting import EventCount
    sample = next(p for p in window.panels if p.object_name == "sample")
    barrier = window.docks["sample"].widget()
    assert isinstance(barrier, LayoutBarrier) and barrier.child is sample
    settle(qtbot)
    counter = EventCount(QEvent.LayoutRequest)
    window.installEventFilter(counter)
    held = barrier.held
    lines = sample.caption.height() // sample.caption.fontMetrics().height()
    for k in range(20):  # more lines than the caption has room for, one more each time: the panel lays out
        sample.caption.setText("a caption" + "\nthat grows" * (lines + k))
        qtbot.wait(5)
    assert counter.n == 0 and barrier.held > held
    sample.setMinimumWidth(window.docks["sample"].width() + 200)  # no longer fits its dock
    qtbot.waitUntil(lambda: counter.n > 0 and barrier.passed_on > 0)
    qtbot.waitUntil(lambda: window.docks["sample"].width() >= sample.minimumWidth())
    window.removeEventFilter(counter)


def test_the_samples_table_and_plots_stay_put_through_a_step(qtbot, window):
    """The caption keeps room for the sample's text at every stage, with its output and
    without: what is under it does not jump at the step's first stage and at the output's."""
    window.apply_layout("learn")  # the narrowest sample panel: its texts wrap to different heights
    sample = next(p for p in window.panels if p.object_name == "sample")
    settle(qtbot)
    seen, lines = set(), set()
    for k in range(2 * 12 + 1):
        steps(qtbot, window, 1)
        settle(qtbot)
        lines.add(sample.caption._needed(sample.caption.width()))
        if k >= 12:  # from the second step's first stage: a new sample, then its stages
            seen.add((sample.table.geometry().getRect(), sample.view.geometry().getRect()))
        assert sample.caption.height() >= sample.caption._needed(sample.caption.width()), k  # the text fits
    assert len(lines) > 1  # its texts do need different heights
    assert len(seen) == 1


def test_numbers_changing_in_a_caption_ask_for_no_layout_pass(window, qtbot):
    """A SteadyText whose new text fits the height it has repaints and nothing more; a
    text needing more lines asks for room once; shorter texts keep the height while playing."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from bpviz.gui.widgets.steady import SteadyText
    sample = next(p for p in window.panels if p.object_name == "sample")
    assert isinstance(sample.caption, SteadyText)
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    caption = SteadyText("loss 0.1234 · target 3")
    lay.addWidget(caption)
    lay.addStretch(1)
    host.resize(300, 400)
    host.show()
    settle(qtbot)
    passes, h = caption.layout_passes, caption.height()
    assert h == caption.fontMetrics().height()
    for k in range(30):
        caption.setText(f"loss {k / 7:.4f} · target {k % 10}")
        qtbot.wait(2)
    assert caption.layout_passes == passes and caption.height() == h
    caption.setText("\n".join(["a longer text"] * 4))
    assert caption.layout_passes == passes + 1
    qtbot.waitUntil(lambda: caption.height() == 4 * h)
    caption.setText("short")  # held: nothing under it moves
    settle(qtbot)
    assert caption.height() == 4 * h
    caption.release()  # paused: fits its text again
    qtbot.waitUntil(lambda: caption.height() == h)


@pytest.mark.parametrize("layout, panel", [("train", "loss"), ("debug", "inspector")])
def test_a_step_end_draws_its_points_into_the_frame_set_when_its_figures_came(qtbot, window, layout, panel):
    """The loss (known from the loss stage) and each layer's figures (from its B2 or U1) are
    the points a step's end adds: the plots take them in when they come, so the end, the
    Step that draws the most, redoes no axis. The first step's plots are behind a note."""
    window.apply_layout(layout)
    settle(qtbot)
    p = next(p for p in window.panels if p.object_name == panel)
    assert p.seen()
    boxes = ([p.plot.getPlotItem().getViewBox()] if panel == "loss" else
             [q.getViewBox() for q in (p.rms_plot, p.ratio_plot, p.dead_plot)])

    def ranges():
        return [box.viewRange() for box in boxes]
    for _ in range(3):
        while True:
            stage = steps(qtbot, window, 1).stage
            if stage.index + 2 == stage.n_stages:  # the stage before the step's last
                break
        before = ranges()
        assert steps(qtbot, window, 1).stage.step_end
        settle(qtbot)
        np.testing.assert_allclose(ranges(), before, rtol=0, atol=1e-12)


@pytest.mark.parametrize("layout", ["learn", "train", "debug"])
def test_the_forms_fit_their_docks_without_scrolling_sideways(qtbot, window, layout):
    """Settings and every debugger tab fit the width their dock has at 1366x768 (in Learn a
    tab beside Sample, 267 px): their texts wrap there instead of running under the dock's
    edge behind a horizontal scroll bar."""
    window.layout_actions[layout].trigger()
    settle(qtbot)
    dbg = window.debugger
    for dock, tabs in ((window.docks["config"], [None]), (dbg, range(dbg.tabs.count()))):
        dock.raise_()
        for i in tabs:
            if i is not None:
                dbg.tabs.setCurrentIndex(i)
            settle(qtbot)
            scroll = dock.widget()
            what = dock.windowTitle() + ("" if i is None else " / " + dbg.tabs.tabText(i))
            assert not scroll.horizontalScrollBar().isVisible(), (what, scroll.widget().minimumSizeHint(), dock.width())


def test_zoom_reaches_the_equations_note_and_array_names(qtbot, window):
    """View → Zoom scales every text: the equations panel's amber note and bold array names,
    the message strip and the red or amber notes of Settings and the debugger kept their size
    under their style sheets."""
    steps(qtbot, window, 3)
    window.show_message("breakpoint: step 3 done", "warning")
    eq = next(p for p in window.panels if p.object_name == "equations")
    base = eq.font().pointSizeF()
    window.set_zoom(1.5, save=False)
    settle(qtbot)
    av = eq._array_views[0]
    for widget in (eq.note, av.symbol, av.caption, window.banner, window.config_dock.message,
                   window.debugger.bp_error):
        assert widget.fontInfo().pointSizeF() == pytest.approx(1.5 * base, abs=0.6), widget
    assert av.symbol.fontInfo().bold() and eq.note.palette().windowText().color().name() == "#b45f06"


def test_learn_fronts_the_boundary_for_a_plane_and_the_diagram_again_after_it(qtbot, window):
    """Two inputs: the decision boundary in front. A network without them brings the diagram
    back (the boundary tab would only say it has nothing to draw); a tab the user chose stays."""
    c = window.controller
    d = window.docks
    for preset, front, behind in (("spiral", "boundary", "diagram"), ("toy", "diagram", "boundary")):
        cfg = get_preset(preset).config
        c.rebuild(cfg, preset)
        qtbot.waitUntil(lambda: c.latest is not None and c.latest.config == cfg, timeout=10000)
        settle(qtbot)
        assert shown(d[front]) and not shown(d[behind]), preset
    d["loss"].raise_()
    settle(qtbot)
    steps(qtbot, window, 1, c.request_reset)
    settle(qtbot)
    assert shown(d["loss"]) and not shown(d["diagram"])


def test_a_panel_behind_a_tab_is_exported_as_it_is_now(qtbot, window, tmp_path):
    """Exporting the loss panel from behind its tab brings it in front first: the file has
    the stage's plot at the panel's size, not the note it had before its first step, and
    the diagram's SVG draws its nodes as shapes, not as the whole sheet of dots they come from."""
    from PySide6.QtGui import QImage
    from bpviz.gui.panels.base import in_view
    c = window.controller
    steps(qtbot, window, 30)
    settle(qtbot)
    loss = next(p for p in window.panels if p.object_name == "loss")
    assert not in_view(loss) and loss.place.showing_note  # Learn: a tab behind the diagram
    assert window.export_panel("loss", str(tmp_path / "loss.png"))
    assert in_view(loss) and not loss.place.showing_note and loss.model["steps"] == len(c.latest.losses)
    image = QImage(str(tmp_path / "loss.png"))
    assert (image.width(), image.height()) == (loss.width(), loss.height())
    window.docks["diagram"].raise_()
    settle(qtbot)
    assert window.export_panel("diagram", str(tmp_path / "net.svg"))
    svg = (tmp_path / "net.svg").read_text()
    dots = [w for w in re.findall(r'<image[^>]*? width="([0-9.]+)"', svg) if float(w) < 40]
    assert not dots and svg.count("<circle") >= sum(c.latest.config.sizes), (dots, svg.count("<circle"))


def test_the_keys_are_whole_at_laptop_size(qtbot, window):
    """The plots over time name their curves above them (no legend card over the newest
    points): the whole key is on screen in the Debug and Train layouts at 1366x768."""
    c = window.controller
    spiral = get_preset("spiral").config  # two batches an epoch and a test set: the longest loss key
    c.rebuild(spiral, "spiral")
    qtbot.waitUntil(lambda: c.latest is not None and c.latest.config == spiral, timeout=10000)
    ins = next(p for p in window.panels if p.object_name == "inspector")
    loss = next(p for p in window.panels if p.object_name == "loss")
    for layout, label, plots in (("debug", ins.time_key, (ins.rms_plot, ins.ratio_plot, ins.dead_plot)),
                                 ("train", loss.plot.getPlotItem().titleLabel, (loss.plot.getPlotItem(),)),
                                 ("learn", loss.plot.getPlotItem().titleLabel, (loss.plot.getPlotItem(),))):
        window.apply_layout(layout)
        if layout == "learn":
            window.docks["loss"].raise_()  # a tab in the middle, about 460 px wide
        steps(qtbot, window, 1, c.request_step_epoch)
        settle(qtbot)
        assert "━" in label.text and label.isVisible(), label.text
        view = label.scene().views()[0]  # the text drawn inside what its view shows, not cut at an edge
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert shown.contains(label.item.mapRectToScene(label.item.boundingRect())), (layout, label.text)
        for plot in plots:
            assert plot.getViewBox().width() > 100, label.text  # and the plots kept their room
            assert shown.contains(plot.sceneBoundingRect()), (layout, plot.sceneBoundingRect(), shown)  # axes too
