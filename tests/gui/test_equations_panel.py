"""The equations panel shows the engine's numbers, in both notations, explains cells,
and copies LaTeX that parses. Checked against the panel's model, not pixels."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from latex2mathml.converter import convert

from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.run import Run
from bpviz.engine.trainer import Trainer, step_plan
from bpviz.runs import RunData


def snap_of(trainer, r, serial=0):
    """The Snapshot the run model builds for `trainer` at its last stage `r`."""
    assert r is trainer.last
    return Run(trainer, RunData("t", trainer.data, None, None, "t")).snapshot(serial)


def trainer_for(depth, pair, per_sample=False):
    sizes = {1: (3, 2), 2: (3, 4, 2), 3: (3, 4, 3, 2)}[depth]
    rng = np.random.default_rng(depth)
    y = np.eye(2)[[0, 1, 1, 0]] if pair.startswith("softmax") else rng.uniform(0.1, 0.9, (4, 2))
    cfg = NetConfig(sizes, hidden="relu", output_loss=pair, init="xavier", seed=depth, lr=0.5,
                    per_sample=per_sample)
    return Trainer(cfg, ArraySet(rng.normal(size=(4, 3)), y))


@pytest.fixture
def panel(qtbot):
    from bpviz.gui.panels.equations import EquationsPanel
    p = EquationsPanel()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    return p


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("pair", ["softmax-ce", "sigmoid-mse", "softmax-mse-approx"])
@pytest.mark.parametrize("column", [False, True])
def test_every_stage_shows_the_engines_numbers(panel, depth, pair, column):
    t = trainer_for(depth, pair)
    panel.col_btn.setChecked(column)
    plan = step_plan(t.cfg, 4)
    for k in range(len(plan)):
        r = t.next_stage()
        panel.show_snapshot(snap_of(t, r, k))
        assert panel.model["current"] == plan[k]
        for name, shown in panel.model["shown"].items():
            a = np.asarray(r.arrays[name])
            expect = a if a.ndim == 0 else (a.T if column and a.ndim == 2 else (a[:, None] if column and a.ndim == 1 else np.atleast_2d(a)))
            np.testing.assert_array_equal(shown, expect)
        assert r.outputs[0] in panel.model["shown"]


def test_the_list_follows_depth_and_pairing(panel):
    t = trainer_for(3, "softmax-mse-approx")
    r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    eqs = [s.eq for s in panel.model["plan"]]
    assert eqs.count("F1") == 3 and "B1-APX" in eqs and eqs.count("B5") == 2
    while r.eq != "B1-APX":
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    assert panel.note.text().startswith("⚠") and "approximation" in panel.note.text().lower()


def test_explain_sums_back_and_highlights(panel):
    t = trainer_for(2, "softmax-ce")
    r = t.next_stage()
    while r.eq != "B2" or r.layer != 1:
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    e = panel.explain("dW1", (2, 1))
    assert e.total == pytest.approx(float(r.arrays["dW1"][2, 1]), rel=1e-12)
    assert len(e.terms) == 4  # one product per sample
    assert "Σ_s" in panel.explain_box.toPlainText()
    assert panel.model["explanation"] is e


def test_explain_is_reached_by_clicking_a_result_cell(panel, qtbot):
    t = trainer_for(2, "softmax-ce")
    r = t.next_stage()  # F1: Z1 = A0 W1 + b1
    panel.show_snapshot(snap_of(t, r))
    result_view = next(av for av in panel._array_views if av.name == "Z1")
    with qtbot.waitSignal(panel.explain_requested, timeout=1000) as sig:
        grid = result_view.grid
        qtbot.mouseClick(grid.viewport(), Qt.LeftButton, pos=grid.visualItemRect(grid.item(1, 3)).center())
    assert sig.args == ["Z1", (1, 3)]
    assert panel.model["explanation"].value == float(r.arrays["Z1"][1, 3])


def test_large_arrays_show_a_summary_and_the_focused_row(panel):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (100, 784), dtype=np.uint8)
    t = Trainer(NetConfig((784, 32, 10), hidden="relu", output_loss="softmax-ce", init="he", batch_size=100),
                ArraySet(x, labels=rng.integers(0, 10, 100), n_classes=10, scale=1 / 255))
    r = t.next_stage()
    panel.set_focus_sample(7)
    panel.show_snapshot(snap_of(t, r))
    z = panel.model["shown"]["Z1"]
    assert z.shape == (1, 8)  # first 4 and last 4 of the focused sample's 32 values
    np.testing.assert_array_equal(z[0], np.r_[r.arrays["Z1"][7, :4], r.arrays["Z1"][7, -4:]])
    view = next(av for av in panel._array_views if av.name == "Z1")
    caption = view.caption.text()
    assert "100 × 32" in caption and "min" in caption and "sample 7" in caption
    # headed by the entries' own indices: entry 28 is not "column 4", and "…" says some were left out
    grid = view.grid
    assert [grid.horizontalHeaderItem(j).text() for j in range(8)] == ["0", "1", "2", "3", "…28", "29", "30", "31"]
    assert grid.verticalHeaderItem(0).text() == "7"
    assert grid.tip(0, 4) == f"[7, 28] = {float(r.arrays['Z1'][7, 28])!r}"
    # a unit's column of W (784 x 32), laid on its side: headed by its rows
    panel.set_unit(5)
    while r.spec.eq != "B2" or r.layer != 1:
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r, serial=1))
    view = next(av for av in panel._array_views if av.name == "dW1")
    grid = view.grid
    assert grid.verticalHeaderItem(0).text() == "[:,5]"
    assert [grid.horizontalHeaderItem(j).text() for j in range(8)] == ["0", "1", "2", "3", "…780", "781", "782", "783"]
    assert grid.tip(0, 5) == f"[781, 5] = {float(r.arrays['dW1'][781, 5])!r}"


def test_a_short_vector_is_shown_whole_and_the_plan_gives_a_results_span(panel):
    """A bias of 10 entries was cut to 8 under a caption saying "showing all units"; the
    plan list glimpsed a 784 x 32 dL/dW by its first entries, the zeros of an image's
    blank corner, as if the gradient were zero."""
    from bpviz.gui.panels.equations import _brief
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (100, 784), dtype=np.uint8)
    x[:, :3] = 0  # a blank corner, as in MNIST
    t = Trainer(NetConfig((784, 32, 10), hidden="relu", output_loss="softmax-ce", init="he", batch_size=100),
                ArraySet(x, labels=rng.integers(0, 10, 100), n_classes=10, scale=1 / 255))
    r = t.next_stage()
    while r.spec.eq != "B3" or r.layer != 2:
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    db = next(av for av in panel._array_views if av.name == "db2")
    assert db.shown.shape == (1, 10) and "all 10 entries" in db.caption.text()
    np.testing.assert_array_equal(db.shown[0], r.arrays["db2"].reshape(-1))
    while r.spec.eq != "B2" or r.layer != 1:
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r, serial=1))
    dw = next(av for av in panel._array_views if av.name == "dW1")
    assert "entries 0–3 and 780–783" in dw.caption.text() and "all" not in dw.caption.text()
    g = r.arrays["dW1"]
    assert not g[0, :3].any() and g.any()  # its first entries are zeros, the rest not all
    from bpviz.engine.explain import fmt
    assert _brief(g, 4) == f"784 × 32 from {fmt(g.min(), 3)} to {fmt(g.max(), 3)}"
    assert _brief(np.arange(10.0), 4) == "10 entries from +0.000 to +9.000"
    assert _brief(np.array([[0.5], [-0.25]]), 4) == "2 × 1 [+0.500, -0.250]"


@pytest.mark.parametrize("column", [False, True])
def test_the_plan_gives_a_result_in_the_shape_its_table_shows(panel, column):
    """In column notation Z2 of a batch of 4 with 2 units is 2 x 4, in its table and in the
    plan list beside it (the list gave the row notation's 4 x 2)."""
    from bpviz.gui.panels.equations import pretty
    t = trainer_for(2, "softmax-ce")  # 3-4-2, a batch of 4
    panel.col_btn.setChecked(column)
    r = t.next_stage()
    while (r.spec.eq, r.layer) != ("F1", 2):
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    shown = panel.model["shown"]["Z2"].shape
    assert shown == ((2, 4) if column else (4, 2))
    row = next(text for text in panel.model["rows"] if f"{pretty('Z2')} = " in text)
    assert row.endswith(f"{pretty('Z2')} = {shown[0]} × {shown[1]} from " + row.split(" from ")[-1]), row


def test_copy_latex_parses_and_holds_the_values(panel):
    from PySide6.QtGui import QGuiApplication
    t = trainer_for(2, "sigmoid-mse")
    for _ in range(6):
        r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    tex = panel.copy_latex()
    assert tex == QGuiApplication.clipboard().text()
    convert(tex)
    assert r"\begin{bmatrix}" in tex


def test_digits_and_full_precision(panel):
    t = trainer_for(2, "softmax-ce")
    r = t.next_stage()
    panel.show_snapshot(snap_of(t, r))
    av = next(av for av in panel._array_views if av.name == "Z1")
    assert len(av.grid.text_at(0, 0).split(".")[1]) == 4
    panel.full.setChecked(True)
    assert av.grid.text_at(0, 0) in (repr(float(r.arrays["Z1"][0, 0])), "+" + repr(float(r.arrays["Z1"][0, 0])))


def test_the_panel_draws_something(panel):
    t = trainer_for(2, "softmax-ce")
    panel.show()
    panel.show_snapshot(snap_of(t, t.next_stage()))
    img = panel.grab().toImage()
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20


@pytest.mark.parametrize("pair", ["softmax-ce", "sigmoid-mse", "identity-mse", "softmax-mse", "softmax-mse-approx"])
@pytest.mark.parametrize("column", [False, True])
def test_every_equation_typesets(qtbot, pair, column):
    """ziamath renders every symbolic form of every stage (per-sample ones too) to SVG
    that Qt can draw."""
    from PySide6.QtSvg import QSvgRenderer
    from bpviz.engine import explain as ex
    from bpviz.gui.widgets.mathview import latex_svg
    for depth in (1, 2, 3):
        t = trainer_for(depth, pair, per_sample=True)
        for spec in step_plan(t.cfg, 2):
            svg = latex_svg(ex.symbolic(spec, t.cfg, column))
            r = QSvgRenderer(svg)
            assert r.isValid() and r.defaultSize().width() > 10, spec


def test_bad_latex_is_a_clear_error(qtbot):
    from bpviz.gui.widgets.mathview import latex_svg
    with pytest.raises(ValueError, match="cannot typeset"):
        latex_svg(r"\frac{1}{")


def test_nothing_above_the_numbers_moves_through_a_step(panel, qtbot):
    """The equation keeps room for the step's tallest form (prepared while the window is
    idle), the title, sources and note for their tallest texts: the numbers under them stay
    in place from one stage to the next, and at Play's first frame."""
    t = trainer_for(2, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))  # one run: its snapshots share a run id
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(run.snapshot(0))  # ready: nothing computed yet
    qtbot.waitUntil(lambda: not panel._to_warm, timeout=10000)
    qtbot.wait(50)  # the layout pass the reservation asked for
    def layout():
        return tuple(w.geometry().getRect() for w in (panel.title_label, panel.current, panel.source, panel.note,
                                                      panel.values_area))

    ready = layout()
    seen = set()
    for k in range(len(step_plan(t.cfg, 4))):
        t.next_stage()
        panel.show_snapshot(run.snapshot(k + 1))
        qtbot.wait(5)
        seen.add(layout())
        assert panel.current.height() >= panel.current._renderer.defaultSize().height()  # the equation fits
        for w in (panel.title_label, panel.note):  # every text fits its room
            assert w.height() >= w._needed(w.width()), (k, w.text())
        assert panel.source.height() >= QLabel.heightForWidth(panel.source, panel.source.width()), k
    assert seen == {ready}


def test_preparing_a_plans_equations_lays_the_equation_out_once(panel, qtbot):
    """The equation's room for the step's tallest form is taken in one layout pass: in the
    frame that shows the plan for forms already known, else once the idle preparation has
    typeset them (they come first). A pass per taller form relaid and repainted the whole
    panel, and one that fell in a Step's time doubled its paint (a first Step after loading
    took 36 ms against 15)."""
    from PySide6.QtCore import QEvent
    from waiting import EventCount
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.show()
    qtbot.waitExposed(panel)
    resized = EventCount(QEvent.Resize)
    panel.current.installEventFilter(resized)
    panel.show_snapshot(run.snapshot(0))
    qtbot.waitUntil(lambda: not panel._to_warm, timeout=10000)
    qtbot.wait(50)  # the layout pass
    assert resized.n <= 2  # the ready equation's own pass and the room's (4 when each form took one)
    assert panel.current.height() >= panel.current._reserved > 0  # the room is taken


def test_a_new_plans_equation_takes_its_room_in_the_frame_that_shows_it_when_its_forms_are_known(panel, qtbot):
    """Forms shipped with bpviz or cached give the step's tallest equation its room in the
    frame that shows a new plan. Taken later by the idle preparation, it moved everything
    under the equation and repainted the panel in the middle of the first Steps after a
    load (the first press took 38-104 ms against 15-25 for the next)."""
    from PySide6.QtSvg import QSvgRenderer

    from bpviz.gui.panels.equations import step_forms
    from bpviz.gui.widgets.mathview import latex_svg
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    color, size = panel.current.color(False), panel.current._size
    tallest = max(QSvgRenderer(latex_svg(tex, color, size)).defaultSize().height()  # now known: typeset
                  for kind, tex in step_forms(t.cfg, False) if kind == "current") + 4
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(run.snapshot(0))
    assert panel.current._reserved_laid_out == tallest  # before any idle preparation
    assert panel.current.sizeHint().height() == tallest


def test_a_new_frame_puts_the_next_table_made_ahead_a_full_interval_later(panel, qtbot, monkeypatch):
    """Tables made ahead (5-10 ms each) wait a full interval after each frame, so that none
    runs between a Step's frame and its paint."""
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(run.snapshot(0))
    timer = panel._ahead_timer
    assert timer.isActive()  # a new plan: its tables are to be made
    restarts = []
    monkeypatch.setattr(timer, "start", lambda *a: restarts.append(a))
    t.next_stage()
    panel.show_snapshot(run.snapshot(1))
    assert restarts == [()]


def test_a_steady_equation_takes_the_room_prepared_for_only_when_told(qtbot):
    """`prepare` only records the room a steady view needs; `apply_reserved` (or the next
    equation shown) lays it out, and the room is kept for the plan's other forms."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget
    from bpviz.gui.widgets.mathview import MathView
    host = QWidget()
    qtbot.addWidget(host)
    lay = QVBoxLayout(host)
    view = MathView(steady=True)
    lay.addWidget(view)
    lay.addStretch(1)
    host.resize(600, 400)
    host.show()
    qtbot.waitExposed(host)
    view.set_latex("a = b")
    qtbot.wait(20)
    low = view.height()
    view.prepare(r"\frac{\frac{a}{b}}{\frac{c}{d}}")
    view.prepare(r"\sum_{i=1}^{n} \frac{\partial L}{\partial a_i}")
    qtbot.wait(20)
    assert view.height() == low  # prepared, not laid out
    view.apply_reserved()
    qtbot.waitUntil(lambda: view.height() > low)
    assert view.height() == view._reserved
    view.set_latex("c = d")
    qtbot.wait(20)
    assert view.height() == view._reserved  # the room is kept for the plan's other forms


@pytest.mark.parametrize("height", [420, 340])
def test_the_result_comes_first_under_the_equation_and_stays_in_view(panel, qtbot, height):
    """As the equation reads, result first: in a small window the operands below it may be
    scrolled to, but the result's name, shape and numbers are never cut at the top, even
    when the result is taller than the room (Qt centred such a widget)."""
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.resize(700, height)  # less room than the arrays of a step need
    panel.show()
    qtbot.waitExposed(panel)
    for k in range(len(step_plan(t.cfg, 4))):
        t.next_stage()
        panel.show_snapshot(run.snapshot(k + 1))
        qtbot.wait(5)
        v = panel.model["view"]
        shown = [av for av in panel._array_views if av.in_use]
        assert [av.name for av in shown[:len(v.results)]] == [r.name for r in v.results], k
        assert panel.values_area.verticalScrollBar().value() <= shown[0].y(), k


def test_stepping_parks_the_array_views_it_does_not_need_instead_of_hiding_them(panel, qtbot):
    """A view out of use is out of the layout and out of sight; a Step that needs it again
    puts it back. Showing a hidden view polished and laid out its table again, 4-5 ms of
    the Step to U1's six views."""
    from PySide6.QtCore import QEvent

    from waiting import EventCount
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.show()
    qtbot.waitExposed(panel)
    n = len(step_plan(t.cfg, 4))
    for k in range(n):  # a whole step: every view is made and shown once
        t.next_stage()
        panel.show_snapshot(run.snapshot(k + 1))
    qtbot.waitUntil(lambda: not panel._ahead_timer.isActive())  # made while idle
    qtbot.wait(20)
    spy = EventCount(QEvent.Show)
    for av in panel._array_views:
        av.installEventFilter(spy)
    counts = set()
    host = panel.values_host.rect()
    for k in range(n, 2 * n):
        t.next_stage()
        panel.show_snapshot(run.snapshot(k + 1))
        qtbot.wait(5)
        used = [av for av in panel._array_views if av.in_use]
        counts.add(len(used))
        assert [av.name for av in used] == list(panel.model["shown"]), k
        laid_out = [panel.values_layout.itemAt(i).widget() for i in range(panel.values_layout.count())]
        assert laid_out[:-1] == used and laid_out[-1] is None, k  # then the stretch
        assert all(host.intersects(av.geometry()) for av in used), k
        assert not any(host.intersects(av.geometry()) for av in panel._array_views if not av.in_use), k
    assert len(counts) > 1  # the number of views in use changed within the step
    assert spy.n == 0
    assert not any(av.isHidden() for av in panel._array_views)


def test_a_hidden_panel_prepares_nothing_until_it_is_shown(panel, qtbot):
    """Idle preparation (typeset forms, tables made ahead) is for what will be seen: a
    panel hidden by the layout or closed stops it, and showing the panel resumes it."""
    t = trainer_for(2, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.show_snapshot(run.snapshot(0))  # never shown
    qtbot.wait(100)
    made = len(panel._array_views)  # the ready state's own
    assert len(panel._to_warm) > 0 and made < len(panel._ahead)
    panel.show()
    qtbot.waitUntil(lambda: not panel._to_warm and not panel._ahead_timer.isActive(), timeout=10000)
    assert len(panel._array_views) >= len(panel._ahead) > made


@pytest.mark.parametrize("column", [False, True])
def test_every_table_of_the_step_is_shaped_while_idle_before_its_numbers_come(panel, qtbot, column):
    """Made and shaped ahead (zeros of each array's shape): the first Step to an equation,
    or Play's first frame, fills cells and makes none."""
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.col_btn.setChecked(column)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(run.snapshot(0))  # ready
    qtbot.waitUntil(lambda: not panel._ahead_timer.isActive())
    qtbot.wait(50)
    tables = {av.name: (av, av.grid.rowCount(), av.grid.columnCount()) for av in panel._array_views}
    for k in range(len(step_plan(t.cfg, 4))):
        t.next_stage()
        panel.show_snapshot(run.snapshot(k + 1))
        for av in (v for v in panel._array_views if v.in_use):
            assert tables[av.name][0] is av, (k, av.name)
            assert (av.grid.rowCount(), av.grid.columnCount()) == tables[av.name][1:], (k, av.name)


def test_while_playing_the_values_stay_where_the_user_scrolled(panel, qtbot):
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.resize(700, 420)
    panel.show()
    qtbot.waitExposed(panel)
    bar = panel.values_area.verticalScrollBar()
    t.next_stage()
    panel.show_snapshot(run.snapshot(1, playing=True))
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())  # down to an operand
    for k in range(2, 8):
        t.next_stage()
        panel.show_snapshot(run.snapshot(k, playing=True))
        qtbot.wait(5)
        result = next(av for av in panel._array_views if av.in_use)
        assert bar.value() > result.y() or bar.value() == bar.maximum(), k  # not pulled back up
    t.next_stage()
    panel.show_snapshot(run.snapshot(9))  # a Step: the result (at the top) comes into view
    result = next(av for av in panel._array_views if av.in_use)
    qtbot.waitUntil(lambda: bar.value() <= result.y())


@pytest.mark.parametrize("column", [False, True])
def test_before_the_first_step_the_first_equations_operands_are_there_to_read(panel, column):
    t = trainer_for(2, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.col_btn.setChecked(column)
    ready = run.snapshot()
    panel.show_snapshot(ready)
    assert panel.model["current"] is None and panel.title_label.text().startswith("ready")
    shown = [av.name for av in panel._array_views if av.in_use]
    assert shown == ["A0", "W1", "b1"]  # what F1 reads; its result is to come
    for name in shown:
        a = np.atleast_2d(ready.arrays[name])
        np.testing.assert_array_equal(panel.model["shown"][name], a.T if column else a)
    np.testing.assert_array_equal(panel.model["shown"]["A0"], (t.data.x.T if column else t.data.x))
    t.next_stage()
    panel.show_snapshot(run.snapshot(1))
    assert [av.name for av in panel._array_views if av.in_use] == ["Z1", "A0", "W1", "b1"]


def test_while_playing_what_is_scrolled_out_of_sight_is_drawn_when_scrolled_to(panel, qtbot):
    """Playing, every table and plan row changes in every frame: those out of sight are left
    as they are, and drawn with the latest numbers as soon as they are scrolled to. A paused
    frame draws everything."""
    from bpviz.gui.panels.equations import EquationsPanel
    t = trainer_for(3, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    panel.resize(700, 420)
    panel.show()
    qtbot.waitExposed(panel)
    reference = EquationsPanel()  # never shown: draws everything it is given
    qtbot.addWidget(reference)
    values, rows = panel.values_area.verticalScrollBar(), panel.list_area.verticalScrollBar()
    t.finish_step()
    panel.show_snapshot(run.snapshot(1, playing=True))  # Play's first frame: everything drawn
    qtbot.waitUntil(lambda: values.maximum() > 0 and rows.maximum() > 0)

    def frame(k):
        t.finish_step()  # Play shows every step at its last stage
        snap = run.snapshot(k, playing=True)
        panel.show_snapshot(snap)
        reference.show_snapshot(snap)
    frame(2)

    def lagging_arrays():  # against what the reference panel drew of the same snapshot
        expected = reference.model["shown"]
        return {n for n, a in panel.model["shown"].items() if not np.array_equal(a, expected[n])}

    def lagging_rows():
        return {i for i, (a, b) in enumerate(zip(panel.model["rows"], reference.model["rows"])) if a != b}

    def lagging_rows_out_of_sight():
        lagging = lagging_rows()
        return bool(lagging) and all(not panel._seen_in(panel.list_area, panel._rows[i]) for i in lagging)
    assert panel._behind and lagging_arrays() == {av.name for av in panel._behind}  # those in sight are this frame's
    assert lagging_rows_out_of_sight()
    for bar in (values, rows):
        for value in range(0, bar.maximum() + bar.pageStep(), max(1, bar.pageStep() // 2)):
            bar.setValue(value)  # scrolling through: each table and row as it comes into sight
    assert not lagging_arrays() and not lagging_rows()
    frame(3)  # from where the user scrolled to
    assert panel._behind and lagging_arrays() == {av.name for av in panel._behind}
    assert lagging_rows_out_of_sight()
    snap = run.snapshot(4)  # paused
    panel.show_snapshot(snap)
    reference.show_snapshot(snap)
    assert not lagging_arrays() and not lagging_rows()


def test_a_plan_rows_update_is_stacked_so_it_stays_readable():
    """U1 with biases is two equations: side by side, a plan row's narrow room drew them
    about 5 px tall; one above the other, each is half as wide."""
    import re
    from bpviz.engine import explain as ex
    from bpviz.engine.presets import get_preset
    from bpviz.gui.panels.equations import ROW_MATH_SIZE, _row_latex
    from bpviz.gui.widgets.mathview import typeset
    cfg = get_preset("mnist").config
    assert cfg.bias
    u1 = next(s for s in step_plan(cfg, 1) if s.eq == "U1")

    def width(tex):
        return float(re.search(rb'width="([0-9.]+)"', typeset(tex, "#000000", ROW_MATH_SIZE)).group(1))
    row, current = _row_latex(u1, cfg, False), ex.symbolic(u1, cfg, False)
    assert "aligned" in row and "aligned" not in current  # the equation being computed keeps one line
    assert width(row) < 0.6 * width(current)


def test_b4_says_its_rows_are_per_sample(panel):
    """∂L/∂A = Δ Wᵀ is per sample, like Δ: with a mean loss the batch's ∂L/∂A is 1/m of it.
    The note says so where the equation is shown."""
    t = trainer_for(2, "softmax-ce")
    run = Run(t, RunData("t", t.data, None, None, "t"))
    while t.next_stage().eq != "B4":
        pass
    panel.show_snapshot(run.snapshot(1))
    assert t.cfg.reduction == "mean" and "Per sample" in panel.note.text() and "1/m" in panel.note.text()
