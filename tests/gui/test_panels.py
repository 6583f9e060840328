"""The drawing panels, one by one, fed Snapshots built here from a real Trainer (no
window, no worker): each panel draws exactly the arrays of the stage it is given.
Checked against the panels' models and items; a few pixel probes prove something is
drawn at all."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import numpy as np
import pytest

from bpviz.engine.dataset import ArraySet
from bpviz.engine.presets import get_preset
from bpviz.engine.run import Run
from bpviz.engine.snapshot import Snapshot
from bpviz.engine.stats import layer_stats
from bpviz.engine.trainer import Trainer, step_plan
from bpviz.runs import RunData, load_run_data, make_trainer
from bpviz.gui.widgets.plots import DIVERGING

TOY = get_preset("toy").config  # 3-4-1 sigmoid, no biases, 4 samples, 12 stages a step


def snap_of(t: Trainer, r, serial=0, history=(), image_shape=None, class_names=None, name="toy") -> Snapshot:
    """The Snapshot the run model builds for `t` at its last stage `r`."""
    assert r is t.last
    run = Run(t, RunData(name, t.data, None, None if class_names is None else tuple(class_names), name))
    for step, stats in history:
        run.stats_history.append(step, stats)
    return run.snapshot(serial)


def toy_trainer() -> Trainer:
    return make_trainer(TOY, load_run_data("toy"))


def mnist_shaped_trainer(n=300, seed=0) -> Trainer:
    """784-128-10 on synthetic uint8 28x28 images: a bright square whose place is the label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)  # (n,)
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)  # (n, 28, 28) faint noise
    for k, c in enumerate(labels):
        r0, c0 = 4 + (c // 5) * 12, 2 + (c % 5) * 5
        x[k, r0:r0 + 8, c0:c0 + 5] = 255
    ds = ArraySet(x.reshape(n, 784), labels=labels, n_classes=10, scale=1 / 255, image_shape=(28, 28))
    cfg = get_preset("mnist").config  # 784-128-10 relu, softmax-ce, batch 100
    assert cfg.sizes == (784, 128, 10)
    return Trainer(cfg, ds)


def panel_class(name):
    from bpviz.gui.window import panel_classes
    return {c.object_name: c for c in panel_classes()}[name]


@pytest.fixture
def make(qtbot):
    def build(name, w=900, h=600, show=True):
        p = panel_class(name)()
        qtbot.addWidget(p)
        p.resize(w, h)
        if show:
            p.show()
            qtbot.waitExposed(p)
        return p
    return build


def distinct_colors(widget) -> int:
    """How many distinct RGB colours the widget's pixels hold (a 4-pixel grid sample)."""
    img = widget.grab().toImage()
    seen = {img.pixel(x, y) & 0xFFFFFF for x in range(0, img.width(), 4) for y in range(0, img.height(), 4)}
    return len(seen)


def cell_rgb(heatmap, i, j) -> tuple[int, int, int]:
    """The drawn colour at the centre of matrix cell (i, j) of a heatmap panel."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor
    img = heatmap.view.grab().toImage()  # drawing first settles the view's automatic range
    at = heatmap.view.mapFromScene(heatmap.plot.vb.mapViewToScene(QPointF(j, i)))
    c = QColor(img.pixel(at))
    return c.red(), c.green(), c.blue()


def plot_area_colors(heatmap) -> set[int]:
    """The distinct RGB colours inside the heatmap's plot area (its view box)."""
    rect = heatmap.view.mapFromScene(heatmap.plot.vb.sceneBoundingRect()).boundingRect()
    img = heatmap.view.grab().toImage()
    return {img.pixel(x, y) & 0xFFFFFF for x in range(rect.left() + 6, min(rect.right() - 6, img.width()), 3)
            for y in range(rect.top() + 6, min(rect.bottom() - 6, img.height()), 3)}


def test_panel_classes_in_dock_order():
    from bpviz.gui.panels.base import Panel
    from bpviz.gui.window import panel_classes
    classes = panel_classes()
    assert [c.object_name for c in classes] == ["diagram", "equations", "sample", "loss", "heatmaps", "inspector", "boundary"]
    assert all(issubclass(c, Panel) and c.area in ("left", "right", "top", "bottom") for c in classes)
    assert len({c.object_name for c in classes}) == len(classes)


# -- before the first Step -------------------------------------------------------------

@pytest.mark.parametrize("name", ["diagram", "equations", "sample", "loss", "heatmaps", "inspector", "boundary"])
def test_before_the_first_step_every_panel_draws(make, name):
    t = toy_trainer()
    p = make(name)
    p.show_snapshot(snap_of(t, None))  # stage None: only the parameters exist
    assert p.snapshot is not None


def test_before_the_first_step_the_parameters_are_drawn(make):
    t = toy_trainer()
    s = snap_of(t, None)
    d = make("diagram")
    d.show_snapshot(s)
    assert d.model["edges"] == {1: 12, 2: 4}  # every weight of 3-4-1
    assert d.model["highlight"] is None
    h = make("heatmaps")
    h.show_snapshot(s)
    np.testing.assert_array_equal(h.model["shown"], t.params[0][0])
    np.testing.assert_array_equal(h.image.image, t.params[0][0])
    assert make("loss").show_snapshot(s) is None


@pytest.mark.parametrize("name", ["diagram", "sample", "loss", "heatmaps", "inspector", "boundary"])
def test_every_axis_labels_the_values_themselves(make, name):
    """A loss of 0.6 reads 0.6 on its axis: never 600 under "loss (x0.001)", pyqtgraph's
    automatic SI prefix for an axis whose values stay under 1."""
    import pyqtgraph as pg
    t = toy_trainer()
    history = []
    for _ in range(3):
        t.finish_step()
        history.append((t.steps_done, layer_stats(t.last.arrays, TOY.n_layers, TOY.hidden, TOY.lr)))
    snap = snap_of(t, t.last, history=history)
    assert 0 < max(snap.losses) < 1
    p = make(name)
    boxes = [item for view in p.findChildren(pg.GraphicsView) for item in view.scene().items()
             if isinstance(item, pg.ViewBox)]
    for box in boxes:  # as a window's plots may be before their first snapshot: a prefix would be "m"
        box.setRange(xRange=(0, 0.5), yRange=(0, 0.5), padding=0)
    p.show_snapshot(snap)
    p.repaint()  # the axes' ticks are worked out as they paint
    axes = [item for view in p.findChildren(pg.GraphicsView) for item in view.scene().items()
            if isinstance(item, pg.AxisItem)]
    assert axes
    for axis in axes:
        assert axis.autoSIPrefixScale == 1.0 and "(x" not in axis.labelString(), (name, axis.orientation)
    if name == "loss":
        assert "loss" in p.plot.getAxis("left").labelString()


@pytest.mark.parametrize("lo, hi, px", [(0.0013, 0.04, 300), (4e-5, 2.5e-4, 200), (1e-3, 1.0, 120),
                                         (0.02, 0.6, 120), (1e-9, 10.0, 200),
                                         (1e-30, 1.0, 150)])
def test_a_log_axis_is_ticked_at_round_values(qtbot, lo, hi, px):
    """grad RMS and update/weight (drawn as log10) are ticked at 1, 2 and 5 times a power of
    ten or the like: never at 0.0079 or 0.0063, and never more labels than room."""
    from bpviz.gui.widgets.plots import POWER_TICK_PX, PowerAxis
    axis = PowerAxis("left")
    levels = axis.tickValues(np.log10(lo), np.log10(hi), px)
    values = [v for _, vs in levels for v in vs]
    labels = axis.tickStrings(values, 1.0, None)
    assert 2 <= len(values) <= max(2, px // POWER_TICK_PX)
    assert all(np.log10(lo) <= v <= np.log10(hi) for v in values)
    for text in labels:
        mantissa = float(f"{float(text):e}".split("e")[0])
        assert mantissa in (1, 2, 3, 4, 5, 6, 7, 8, 9), labels
    assert len({"e" in text for text in labels}) == 1, labels  # one notation an axis: not 0.0001 beside 5e-05
    assert not any("e-0" in text or "e+" in text for text in labels), labels  # 5e-5, not 5e-05


@pytest.mark.parametrize("hi", [1.05, 3.2, 520.0])
def test_a_histograms_count_axis_is_ticked_at_whole_numbers(qtbot, hi):
    from bpviz.gui.widgets.plots import CountAxis
    values = [v for _, vs in CountAxis("left").tickValues(0.0, hi, 250) for v in vs]
    assert values and all(float(v).is_integer() and 0 <= v <= hi for v in values)
    assert 0.0 in values and (hi > 10 or max(values) == int(hi))


def test_a_log_axis_too_short_for_two_round_values_is_ticked_as_a_linear_one(qtbot):
    from bpviz.gui.widgets.plots import PowerAxis
    axis = PowerAxis("left")
    values = [v for _, vs in axis.tickValues(np.log10(0.0101), np.log10(0.0119), 200) for v in vs]
    assert len(values) >= 2 and all(np.log10(0.0101) <= v <= np.log10(0.0119) for v in values)


# -- one complete step on the toy net, stage by stage ---------------------------------

# the diagram's columns each stage of the toy net's step works on: F1 F2 F1 F2 L B1 B2 B4 B5 B2 U1 U1
LIT = [(0, 1), (1, 1), (1, 2), (2, 2), (2, 2), (2, 2), (1, 2), (1, 2), (1, 1), (0, 1), (0, 1), (1, 2)]


def test_one_step_moves_every_panel_as_the_stage_says(make):
    t = toy_trainer()
    plan = step_plan(TOY, 4)
    assert len(plan) == 12
    d, e, s, lo, h, ins = (make(n) for n in ("diagram", "equations", "sample", "loss", "heatmaps", "inspector"))
    h_grad = make("heatmaps")
    h_grad.what.setCurrentIndex(h_grad.what.findData("dW"))
    h_upd = make("heatmaps")
    h_upd.what.setCurrentIndex(h_upd.what.findData("update"))
    d_grad = make("diagram")
    d_grad.mode.setCurrentText("gradients")
    focus = 2
    for p in (d, s):
        p.set_focus_sample(focus)
    seen_node_keys = []
    for k, spec in enumerate(plan):
        r = t.next_stage()
        a = r.arrays
        snap = snap_of(t, r, serial=k + 1)
        for p in (d, e, s, lo, h, ins, h_grad, h_upd, d_grad):
            p.show_snapshot(snap)
        where = f"stage {k} {spec.eq} layer {spec.layer}"

        # diagram: forward colours by A, backward by Delta once it exists; the stage's layer lit
        assert d.model["highlight"] == (spec.layer, spec.phase), where
        # lit where the equation works: a layer's weights and the columns they join, or the
        # nodes alone (B5, "delta of layer 1", lit the weights of layer 2)
        assert d.model["lit"] == LIT[k], where
        rect = d.highlight.rect()
        assert LIT[k][0] - 0.5 < rect.left() < LIT[k][0] and LIT[k][1] < rect.right() < LIT[k][1] + 0.5, where
        backward = spec.phase in ("backward", "update")
        for l in (1, 2):
            key, values = d.model["node_values"][l]
            want = f"Delta{l}" if backward and f"Delta{l}" in a else (f"A{l}" if f"A{l}" in a else None)
            assert key == want, where
            if want is not None:
                np.testing.assert_array_equal(values, a[want][focus], err_msg=where)
        seen_node_keys.append((d.model["node_values"][1][0], d.model["node_values"][2][0]))
        assert d.model["edges"] == {1: 12, 2: 4}, where  # weights exist at every stage
        assert d_grad.model["edges"] == {l: (a[f"dW{l}"].size if f"dW{l}" in a else 0) for l in (1, 2)}, where
        assert ("not computed yet" in d_grad.note.text()) == ("dW1" not in a), where

        # equations: the current equation, in its place in the plan
        assert e.model["current"] == spec, where
        assert r.outputs[0] in e.model["shown"], where

        # sample: the network's output for the focused sample once F2 of the last layer ran
        if "A2" in a:
            np.testing.assert_array_equal(s.model["output"], a["A2"][focus], err_msg=where)
        else:
            assert s.model["output"] is None, where
        assert s.model["focus"] == focus

        # heatmaps: W always (the new W once U1 made it); dL/dW and the update only from
        # the stage that computes them
        np.testing.assert_array_equal(h.image.image, a.get("W1_after", a["W1"]), err_msg=where)
        if "dW1" in a:
            np.testing.assert_array_equal(h_grad.image.image, a["dW1"], err_msg=where)
            np.testing.assert_allclose(h_upd.model["shown"], -TOY.lr * a["dW1"], err_msg=where)
        else:
            assert h_grad.model["shown"] is None and h_grad.place.showing_note and "appears here" in h_grad.place.note.text(), where
            assert h_upd.model["shown"] is None, where

        # inspector (last layer by default): Delta2 over the batch, then the histogram of dW2
        assert ins.model["layer"] == 2
        if "Delta2" in a:
            np.testing.assert_array_equal(ins.delta_img.image, a["Delta2"], err_msg=where)
        else:
            assert ins.model["delta"] is None, where
        assert ins.model["hist_total"] == (a["dW2"].size if "dW2" in a else 0), where

        # loss: the step's loss is recorded at its last stage
        assert lo.model["steps"] == (1 if r.step_end else 0), where
    # the diagram's node colours went A -> Delta as the backward pass reached each layer
    assert seen_node_keys[0] == (None, None)
    assert seen_node_keys[3] == ("A1", "A2")
    assert seen_node_keys[5] == ("A1", "Delta2")
    assert seen_node_keys[8] == ("Delta1", "Delta2")


def test_the_focused_sample_follows_the_sample_view(make, qtbot):
    t = toy_trainer()
    for _ in range(4):  # through F2 of the output layer
        r = t.next_stage()
    snap = snap_of(t, r)
    s, d = make("sample"), make("diagram")
    s.show_snapshot(snap)
    d.show_snapshot(snap)
    with qtbot.waitSignal(s.focus_requested, check_params_cb=lambda row: row == 3):
        s.pick.setValue(3)
    s.set_focus_sample(3)  # what the window does with focus_requested
    d.set_focus_sample(3)
    np.testing.assert_array_equal(s.model["output"], r.arrays["A2"][3])
    np.testing.assert_array_equal(d.model["node_values"][2][1], r.arrays["A2"][3])
    assert s.table.selectionModel().isRowSelected(3)
    assert [s.table.text_at(3, c) for c in range(3)] == ["1", "1", "1"]  # x of the toy row 3
    assert s.table.rowCount() == 4  # all four toy samples


def test_heatmap_hover_names_the_cell(make):
    t = toy_trainer()
    h = make("heatmaps")
    h.show_snapshot(snap_of(t, t.next_stage()))
    w = t.params[0][0]
    assert h.describe_cell(2, 3) == f"W1[k=2, j=3] = {w[2, 3]:+.6f}"
    # rows are the input units, k as the equations index W[k, j]: i is a sample there
    assert h.plot.getAxis("left").labelText == "input unit k"


@pytest.mark.parametrize("name, main", [("heatmaps", "view"), ("loss", "plot"), ("diagram", "plot")])
def test_a_panels_bar_keeps_its_lines_and_the_view_takes_the_rest(make, qtbot, name, main):
    """The bar of choices above a view is a line of text high; the view takes the panel's
    height (the heatmaps' hint label, free to grow, took half of it above the bar)."""
    t = toy_trainer()
    for _ in range(12):
        t.next_stage()  # a step done: the loss has a point
    p = make(name, 460, 650)
    p.show_snapshot(snap_of(t, t.last))
    qtbot.wait(20)
    view = getattr(p, main)
    assert view.isVisible() and view.height() >= 0.75 * p.height(), (view.height(), p.height())
    if name == "heatmaps":
        assert p.hover.height() <= 2 * p.hover.fontMetrics().height(), p.hover.height()


def test_the_inspector_draws_the_stats_history(make):
    t = toy_trainer()
    history = []
    for _ in range(5):
        t.finish_step()
        # as the run keeps them: by the step's index, counted from 0
        history.append((t.last.step, layer_stats(t.last.arrays, TOY.n_layers, TOY.hidden, TOY.lr)))
    ins = make("inspector")
    ins.show_snapshot(snap_of(t, t.last, history=history))
    assert ins.model["history_points"] == 5
    lo = make("loss")
    lo.show_snapshot(snap_of(t, t.last, history=history))
    for key in ("grad_rms", "update_ratio"):
        for layer in (1, 2):
            c = ins._curves[(key, layer)]
            xs, ys = c.xData, c.yData  # log10 of the values, on an axis labelled with the values
            # step k at k, counted from 0 as the debugger counts: where the loss plot draws its loss
            np.testing.assert_array_equal(xs, [0, 1, 2, 3, 4])
            np.testing.assert_array_equal(xs, lo.steps.xData)
            np.testing.assert_allclose(10 ** ys, [st[layer][key] for _, st in history])


def test_the_step_axes_labels_do_not_run_together_in_a_narrow_inspector(make, qtbot):
    """Three plots over 800 steps side by side in a tab 460 px wide: each label of a step axis
    clear of the next (pyqtgraph's own read "0 200400600800")."""
    from PySide6.QtGui import QImage, QPainter
    t = toy_trainer()
    t.finish_step()
    stats = layer_stats(t.last.arrays, TOY.n_layers, TOY.hidden, TOY.lr)
    ins = make("inspector", 460, 650)
    ins.show_snapshot(snap_of(t, t.last, history=[(k, stats) for k in range(800)]))
    qtbot.wait(20)
    image = QImage(10, 10, QImage.Format_RGB32)
    for plot in (ins.rms_plot, ins.ratio_plot, ins.dead_plot):
        axis = plot.getAxis("bottom")
        painter = QPainter(image)
        try:
            _, _, texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        rects = sorted((r for r, _, text in texts), key=lambda r: r.left())
        assert len(rects) >= 2, [text for _, _, text in texts]
        assert all(a.right() < b.left() for a, b in zip(rects, rects[1:])), [text for _, _, text in texts]


def test_the_loss_panel_draws_folded_losses_at_the_middle_of_their_steps(make):
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"), history_mb=0.05)  # ~3,300 loss points
    run.full_speed = True
    t.run_steps(8000)
    snap = run.snapshot()
    assert snap.loss_folds and len(snap.losses) < 4000
    x = []
    for a, w, c in snap.loss_folds:  # a point of steps a to a+w-1 sits at their middle
        x += [a + i * w + (w - 1) / 2 for i in range(c)]
    x += range(a + w * c, 8000)  # then one a step, step k at k
    lo = make("loss")
    lo.show_snapshot(snap)
    np.testing.assert_array_equal(lo.steps.xData, x)
    np.testing.assert_array_equal(lo.steps.yData, snap.losses)
    assert lo.model["steps"] == 8000 and lo.model["points"] == len(snap.losses)
    assert lo.readout.text().startswith("8000 steps") and "means of up to" in lo.readout.toolTip()
    # a number of steps, not "steps 1 to N" beside an axis and a debugger counting from 0
    from bpviz.engine.series import folded_steps
    assert f"the first {folded_steps(snap.loss_folds)} steps are drawn as means" in lo.readout.toolTip()


def test_the_loss_readout_counts_steps_in_words(make):
    t = toy_trainer()
    lo = make("loss")
    t.finish_step()
    lo.show_snapshot(snap_of(t, t.last))
    assert lo.readout.text().startswith("1 step · loss ")
    t.finish_step()
    snap = snap_of(t, t.last, serial=1)
    lo.show_snapshot(snap)
    assert lo.readout.text().startswith("2 steps · loss ")
    # the epoch that just ended (one batch an epoch: the second), counted as the status bar counts it
    assert " · epoch 1: " in lo.readout.text() and snap.status.startswith("epoch 1 · ")


def test_the_loss_grid_is_faint_opaque_and_behind_the_curves(make):
    """Translucent lines are 20-40x slower to paint; the grid is pre-blended with the
    background instead, drawn behind the curves so an opaque line never cuts one, and only
    at the labelled values so a fainter line never cuts a stronger one."""
    from PySide6.QtGui import QImage, QPainter
    t = toy_trainer()
    t.run_steps(30)
    lo = make("loss")
    lo.show_snapshot(snap_of(t, t.next_stage()))
    lo.grab()
    pi = lo.plot.getPlotItem()
    bg = lo.plot.backgroundBrush().color()
    spans = 0
    for side in ("left", "bottom"):
        ax = pi.getAxis(side)
        assert ax.zValue() < pi.vb.zValue()
        image = QImage(4, 4, QImage.Format_ARGB32)
        painter = QPainter(image)
        _, ticks, _ = ax.generateDrawSpecs(painter)
        painter.end()
        fg = ax.pen().color()
        assert len({pen.color().rgba() for pen, _, _ in ticks}) == 1
        for pen, p1, p2 in ticks:
            c = pen.color()
            assert c.alpha() == 255
            assert c.rgb() != fg.rgb() and c.rgb() != bg.rgb()  # a shade between them: faint, not absent
            for f, b, v in ((fg.red(), bg.red(), c.red()), (fg.green(), bg.green(), c.green()),
                            (fg.blue(), bg.blue(), c.blue())):
                assert min(f, b) - 1 <= v <= max(f, b) + 1
            spans += abs((p2 - p1).y() if side == "bottom" else (p2 - p1).x()) > 0.5 * (
                pi.vb.height() if side == "bottom" else pi.vb.width())
    assert spans >= 4  # grid lines across the plot, not tick marks
    # the test accuracy's axis (another scale) adds no second set of lines; no top axis appears
    assert pi.getAxis("right").grid is False and not pi.getAxis("top").isVisible()


def test_pixel_probes_show_something_is_drawn(make):
    t = toy_trainer()
    for _ in range(9):  # mid-backward (B5)
        r = t.next_stage()
    snap = snap_of(t, r)
    d = make("diagram")
    blank = distinct_colors(d)
    d.show_snapshot(snap)
    assert distinct_colors(d) > blank + 10  # edges and nodes in many colours
    h = make("heatmaps")
    h.what.setCurrentIndex(h.what.findData("update"))
    h.show_snapshot(snap)  # the update does not exist yet at B5: nothing in the plot
    w = r.arrays["W1"]  # (3, 4)
    assert len(plot_area_colors(h)) == 1  # only the background: no cells
    h.what.setCurrentIndex(h.what.findData("W"))
    lim = h.model["levels"][1]  # paused: the values' own limit, rounded up (steady_limit)
    assert np.abs(w).max() <= lim <= 1.5 * np.abs(w).max()
    for i in range(3):
        for j in range(4):
            want = DIVERGING.map((w[i, j] / lim + 1) / 2, mode="byte")[:3]  # the colour map's colour
            assert np.abs(np.subtract(cell_rgb(h, i, j), want)).max() <= 6, (i, j)


# -- 784-128-10 ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_snap():
    t = mnist_shaped_trainer()
    for _ in range(8):  # through B3 of the output layer: Delta2, dW2 exist, dW1 not yet
        r = t.next_stage()
    return snap_of(t, r, image_shape=(28, 28), class_names=[str(c) for c in range(10)], name="synthetic")


def test_mnist_diagram_draws_the_image_and_a_bounded_number_of_edges(make, mnist_snap):
    from bpviz.gui.panels.diagram import ALL_EDGES_UP_TO, COLOR_LEVELS, MAX_EDGES_PER_LAYER, WIDTHS
    a = mnist_snap.arrays
    d = make("diagram", 1200, 700)
    d.show_snapshot(mnist_snap)
    assert d.image.isVisible()
    np.testing.assert_array_equal(d.image.image, a["X"][0].reshape(28, 28))
    # the strongest 256 of 100,352 and of 1,280 (more than ALL_EDGES_UP_TO), and the note says so
    assert d.model["edges"] == {1: MAX_EDGES_PER_LAYER, 2: MAX_EDGES_PER_LAYER}
    assert 1280 > ALL_EDGES_UP_TO >= 16 * 10
    assert "layers 1, 2: 256 largest edges" in d.note.text()
    assert "layer 1: the 256 largest of 100,352 edges" in d.note.toolTip()
    assert "layer 2: the 256 largest of 1,280 edges" in d.note.toolTip()
    assert d.model["edge_items"] <= COLOR_LEVELS * len(WIDTHS)  # batched: a few buckets, not an item per edge
    drawn = np.concatenate([seg for _, seg in d.edges._groups])
    assert len(drawn) == 2 * MAX_EDGES_PER_LAYER
    second = drawn[drawn[:, 0] > 0.5]  # (256, 4) edges into the output layer: its strongest weights
    w2 = np.abs(a["W2"])  # (128, 10)
    (_, hy), (_, oy) = d._pos[1], d._pos[2]
    i2 = np.argmin(np.abs(second[:, None, 1] - hy), axis=1)
    j2 = np.argmin(np.abs(second[:, None, 3] - oy), axis=1)
    assert len(set(zip(i2.tolist(), j2.tolist()))) == MAX_EDGES_PER_LAYER
    assert w2[i2, j2].min() >= np.sort(w2.ravel())[-MAX_EDGES_PER_LAYER]
    # the input layer's edges are its strongest weights: find each drawn edge's (pixel, unit)
    (px, py), (_, uy) = d._pos[0], d._pos[1]
    first = drawn[drawn[:, 0] < 0.5]  # (256, 4) edges leaving the image
    i = np.argmin(np.abs(first[:, None, 0] - px) + np.abs(first[:, None, 1] - py), axis=1)  # (256,) pixel
    j = np.argmin(np.abs(first[:, None, 3] - uy), axis=1)  # (256,) hidden unit
    w1 = np.abs(a["W1"])  # (784, 128)
    assert len(set(zip(i.tolist(), j.tolist()))) == MAX_EDGES_PER_LAYER
    assert w1[i, j].min() >= np.sort(w1.ravel())[-MAX_EDGES_PER_LAYER]
    assert 0 not in d.model["node_values"]  # the input is the image, not 784 nodes
    assert d.model["node_values"][1][0] == "A1"  # Delta1 does not exist yet at B3 of layer 2
    assert d.model["node_values"][2][0] == "Delta2"
    d.set_focus_sample(7)
    np.testing.assert_array_equal(d.image.image, a["X"][7].reshape(28, 28))


def test_mnist_heatmap_montage_and_sample_image(make, mnist_snap):
    a = mnist_snap.arrays
    h = make("heatmaps")
    h.show_snapshot(mnist_snap)
    np.testing.assert_array_equal(h.image.image, a["W1"])
    assert h.model["montage"] == (11 * 29 - 1, 12 * 29 - 1)  # 128 tiles: 11 rows of 12, 1-px gaps
    tile = h.mont.image[0:28, 29:57]  # the second hidden unit's weights
    np.testing.assert_array_equal(tile, a["W1"][:, 1].reshape(28, 28))
    s = make("sample")
    s.show_snapshot(mnist_snap)
    np.testing.assert_array_equal(s.img.image, a["X"][0].reshape(28, 28))
    np.testing.assert_array_equal(s.model["output"], a["A2"][0])
    assert not s.table.isVisible()
    target = int(np.argmax(a["Y"][0]))
    assert f"target {target}" in s.caption.text()


# -- defects seen when looking at the panels (bpviz/gui/views is not this file's owner's;
#    strict xfails, so a fix turns them into failures that ask for the marker's removal) ---

SQUEEZED_IMAGE = ("diagram: on the first draw of a network the image box is computed before the view's range is "
                  "set, so the 28x28 input is squeezed into a strip until the next redraw")
EDGE_ORDER = ("diagram: edge buckets are painted blue to red, so weak positive edges cover strong negative "
              "ones; painting weakest first keeps the strongest of either sign on top")
UNIT_AXIS = ("inspector: the unit axis of a one-unit Delta reads 'unit (x0.001)' with ticks 0 and 500 "
             "(the heatmaps set whole-number ticks on small matrices, the inspector does not)")


def known_defect(reason):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def test_mnist_image_pixels_are_square_on_the_first_draw(make, mnist_snap):
    d = make("diagram", 1000, 600)
    d.show_snapshot(mnist_snap)
    vb = d.plot.getViewBox()
    r = vb.mapViewToDevice(d.image.mapRectToView(d.image.boundingRect())).boundingRect()
    assert r.width() / 28 == pytest.approx(r.height() / 28, rel=0.05)


def test_strong_edges_are_painted_over_weak_ones(make, mnist_snap):
    d = make("diagram", 1000, 600)
    d.show_snapshot(mnist_snap)
    widths = [pen.width() for pen, _ in d.edges._groups]  # in painting order
    assert widths == sorted(widths)


def test_inspector_unit_axis_counts_units(make):
    t = toy_trainer()
    for _ in range(9):
        r = t.next_stage()
    ins = make("inspector")
    ins.show_snapshot(snap_of(t, r))
    ins.grab()
    assert "x0.001" not in ins.delta_plot.getAxis("bottom").labelString()


def test_the_diagram_draws_an_image_input_upright(make):
    """Row 0 of the image is at the top of the box, where its pixels' edges start (it was
    drawn upside down: the view's y grows upward)."""
    n = 40
    labels = np.zeros(n, dtype=int)
    labels[1::2] = 1
    x = np.zeros((n, 28, 28), dtype=np.uint8)
    x[:, :4, :] = 255  # a bright band along the top rows
    ds = ArraySet(x.reshape(n, 784), labels=labels, n_classes=2, scale=1 / 255, image_shape=(28, 28))
    t = Trainer(get_preset("mnist").config.with_(sizes=(784, 8, 2), batch_size=10), ds)
    r = t.next_stage()
    d = make("diagram")
    d.show_snapshot(snap_of(t, r, name="band"))
    img = d.plot.grab().toImage()
    box = d.image.mapRectToScene(d.image.boundingRect())
    rect = d.plot.mapFromScene(box).boundingRect()
    from PySide6.QtGui import QColor
    top = QColor(img.pixel(rect.center().x(), rect.top() + 3)).lightness()
    bottom = QColor(img.pixel(rect.center().x(), rect.bottom() - 3)).lightness()
    assert top > 200 and bottom < 60, (top, bottom)
