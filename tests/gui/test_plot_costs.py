"""What keeps plots cheap while playing and stepping. Ranges and colour limits hold still:
a new range or limit regenerates an axis (about 1 ms each, several a frame), so they
move in steps, always keep the data in view, and leave a user's own zoom alone. A plot
hidden behind its note is laid out ahead, not in the middle of a Step."""
from __future__ import annotations

import collections

import numpy as np
import pyqtgraph as pg
import pytest

from bpviz.engine.run import Run
from bpviz.runs import RunData
from bpviz.gui.widgets.plots import (Placeholder, SteadyRange, round_bounds, set_bar_levels, settle, steady_bounds,
                                     steady_limit, strongest)

from test_panels import make, toy_trainer  # noqa: F401  (make is a fixture)


def test_steady_bounds_hold_then_grow_on_the_side_the_data_passed():
    assert steady_bounds(None, 1, 10) == (1, 10)  # the first frame: the data's own
    assert steady_bounds((1, 10), 2, 9) == (1, 10)  # inside and filling: held
    assert steady_bounds((1, 10), 1, 12) == (1, 12 + 0.25 * 11)  # past the top: only the top moves out
    assert steady_bounds((0, 4), -1, 3) == (-2, 4)  # past the bottom: only the bottom
    assert steady_bounds((0, 100), 10, 30) == (10, 30)  # fills a fifth: the data's own again
    assert steady_bounds((0, 100), 10, 30, fill=0.2) == (0, 100)
    assert steady_bounds((0, 1), 5, 5) == (5, 5)  # one point far off: itself, not a crash


@pytest.fixture
def plot(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(500, 300)
    w.show()
    qtbot.waitExposed(w)
    return w


def grow(plot, curve, steps):
    """Frames of a loss-like curve gaining 7 steps each; yields each frame's data."""
    rng = np.random.default_rng(0)
    y = []
    for n in range(7, 7 * steps + 1, 7):
        y += list(2 * np.exp(-np.arange(len(y), n) / 300) + 0.05 * rng.random(n - len(y)))
        x = np.arange(1, n + 1)
        curve.setData(x, y)
        settle([plot.getPlotItem()], playing=True)
        yield x, np.asarray(y)


def test_a_growing_curve_moves_the_range_in_steps_and_stays_in_view(plot):
    SteadyRange(plot)
    curve = plot.plot()
    changes = []
    plot.getViewBox().sigRangeChanged.connect(lambda *_: changes.append(1))
    frames = 0
    for x, y in grow(plot, curve, 300):
        frames += 1
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        assert x0 <= x[0] and x[-1] <= x1 and y0 <= y.min() and y.max() <= y1
        assert x[-1] - x[0] >= 0.5 * (x1 - x0) * 0.9  # the curve keeps about half the width or more
    assert frames == 300 and len(changes) < 40  # every frame without it (pyqtgraph's own range)


def test_a_users_zoom_is_kept_and_the_A_button_follows_again(plot):
    SteadyRange(plot)
    curve = plot.plot()
    frames = grow(plot, curve, 200)
    for _ in range(20):
        next(frames)
    plot.setXRange(30, 60)  # what a wheel or a drag does: the automatic range is off
    for _ in range(50):
        next(frames)
    assert plot.getViewBox().viewRange()[0] == pytest.approx([30, 60], abs=2)
    plot.getPlotItem().autoBtnClicked()  # "A"
    x, _ = next(frames)
    x0, x1 = plot.getViewBox().viewRange()[0]
    assert x0 <= 1 and x1 >= x[-1]


def test_forget_fits_the_data_again(plot):
    steady = SteadyRange(plot)
    curve = plot.plot()
    curve.setData([0, 1000], [0, 1])
    settle([plot.getPlotItem()])
    curve.setData([0, 600], [0, 1])
    settle([plot.getPlotItem()])
    assert plot.getViewBox().viewRange()[0][1] > 1000  # 60% of the kept range: held
    steady.forget()  # a new run
    settle([plot.getPlotItem()])
    assert 600 <= plot.getViewBox().viewRange()[0][1] < 700


def test_a_colour_limit_holds_while_the_values_stay_between_half_and_all_of_it():
    held = {}
    assert steady_limit(held, "W1", np.array([-2.0, 1.0])) == 2.0
    assert steady_limit(held, "W1", np.array([1.2, -0.5])) == 2.0  # same colours for the same values
    assert steady_limit(held, "W1", np.array([3.0])) == 4.0  # 3 + a quarter of 3, rounded up
    assert steady_limit(held, "W1", np.array([0.1])) == pytest.approx(0.1)  # much smaller: its own
    assert steady_limit(held, "W2", np.array([5.0])) == 5.0  # each array its own
    assert steady_limit(held, "W2", np.array([4.0]), hold=False) == 4.0  # paused: fits the values shown
    # to a round number, which the next Step's values, a little larger or smaller, keep
    assert steady_limit(held, "W2", np.array([0.0473]), hold=False) == pytest.approx(0.05)
    assert steady_limit(held, "W2", np.array([0.0431]), hold=False) == pytest.approx(0.05)
    assert steady_limit(held, "W2", np.array([-0.0502]), hold=False) == pytest.approx(0.06)


@pytest.mark.parametrize("seed", range(5))
def test_round_bounds_hold_the_data_in_two_thirds_or_more_of_a_frame_ending_on_round_values(seed):
    rng = np.random.default_rng(seed)
    for _ in range(2000):
        scale = 10.0 ** rng.uniform(-8, 8)
        lo, hi = np.sort(rng.normal(rng.normal() * 3, 1, 2)) * scale
        a, b = round_bounds(lo, hi)
        assert a <= lo and hi <= b
        assert (hi - lo) / (b - a) >= 2 / 3 - 1e-9
        step = 10.0 ** np.floor(np.log10((hi - lo) / 8))
        ends = np.array([a, b]) / step * 2  # multiples of 0.5, 1, 2, 2.5 or 5 x step
        assert np.allclose(ends, np.round(ends), rtol=0, atol=1e-6 * np.abs(ends).max())
    assert round_bounds(0.1066, 0.1259) == pytest.approx((0.105, 0.1275))
    assert round_bounds(2.0, 2.0) == (2.0, 2.0)  # no span: as given, not a crash
    assert round_bounds(0.0, 1e-323) == (0.0, 1e-323)  # too small to divide: as given
    assert round_bounds(0.0, 1.79e308) == (0.0, 1.79e308)  # rounded up, it would not be finite


def test_the_colour_bars_axis_is_not_redone_while_its_levels_hold(qtbot):
    w = pg.GraphicsLayoutWidget()
    qtbot.addWidget(w)
    p = w.addPlot()
    image = pg.ImageItem(np.zeros((3, 3)))
    p.addItem(image)
    bar = pg.ColorBarItem(interactive=False)
    bar.setImageItem(image, insert_in=p)
    set_bar_levels(bar, 2.0)
    w.grab()
    picture = bar.axis.picture
    assert picture is not None
    set_bar_levels(bar, 2.0)
    assert bar.axis.picture is picture
    set_bar_levels(bar, 3.0)
    assert bar.axis.picture is None and tuple(bar.levels()) == (-3.0, 3.0)
    assert tuple(image.getLevels()) == (-3.0, 3.0)


def test_the_loss_axis_is_regenerated_in_steps_while_a_run_goes_on(make):  # noqa: F811
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    run.full_speed = True
    lo = make("loss")
    bottom = lo.plot.getPlotItem().getAxis("bottom")
    made = []
    generate = bottom.generateDrawSpecs
    bottom.generateDrawSpecs = lambda p: made.append(1) or generate(p)
    def frame(steps, playing):
        t.run_steps(steps)
        lo.show_snapshot(run.snapshot(playing=playing))
        lo.grab()
        (x0, x1), _ = lo.plot.getViewBox().viewRange()
        assert x0 <= 0 and t.steps_done - 1 <= x1  # steps 0 to steps_done - 1
        return x1

    for _ in range(60):
        frame(13, True)
    assert 0 < len(made) <= 20  # 60 without the steady range
    # Play stops: the range fits the steps; Steps then hold it
    assert frame(1, False) < 1.06 * t.steps_done  # pyqtgraph's own padding only
    made.clear()
    for _ in range(20):
        frame(1, False)
    assert len(made) <= 2
    lo.steady.fit_paused = True  # (the histogram's way) every paused frame fits, to round bounds
    frame(1, False)
    made.clear()
    x1 = frame(1, False)
    assert x1 < 1.5 * 1.06 * t.steps_done  # round bounds: the data fill two thirds or more
    assert frame(1, False) == x1 and not made  # a Step that moves the data a little keeps them


def test_a_plot_behind_its_note_is_laid_out_at_an_idle_moment(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget
    holder = QWidget()
    qtbot.addWidget(holder)
    plot = pg.PlotWidget()
    place = Placeholder(plot, "appears at the first step")
    QVBoxLayout(holder).addWidget(place.widget)
    holder.show()
    qtbot.waitExposed(holder)
    for width in (600, 700):  # at first, and after the window grew: laid out at the next note
        holder.resize(width, 400)
        qtbot.waitUntil(lambda: place.widget.width() > width - 50)
        place.show_note("appears at the first step")
        qtbot.waitUntil(lambda: place._warm_size == place.widget.size())
        # the hidden plot has the size it will be shown at, and its scene is laid out for it
        assert plot.size() == place.widget.size() and not plot.isVisible()
        assert plot.getPlotItem().geometry().width() == pytest.approx(plot.width(), abs=2)
    place.show_content()
    assert plot.size() == place.widget.size()


def test_a_range_set_behind_the_note_has_its_axis_drawn_ahead(qtbot):
    """A range given to the hidden plot after it was warmed (a step-count frame set at the
    ready snapshot) is drawn again at an idle moment: else its axes are redone the first
    time the plot shows data, in a Step or in Play's first frame. A plot whose ranges come
    with its data (Delta, the histogram) is not: at each step's first stage it would be
    painted again for nothing."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget
    for follow in (True, False):
        holder = QWidget()
        qtbot.addWidget(holder)
        plot = pg.PlotWidget()
        place = Placeholder(plot, "appears at the first step", follow_ranges=follow)
        QVBoxLayout(holder).addWidget(place.widget)
        holder.resize(600, 400)
        holder.show()
        qtbot.waitExposed(holder)
        place.show_note("appears at the first step")
        qtbot.waitUntil(lambda: place._warm_size == place.widget.size())
        bottom = plot.getPlotItem().getAxis("bottom")
        plot.setXRange(-0.5, 10, padding=0)  # what SteadyRange(min_x_span=10) gives an empty plot
        assert bottom.picture is None  # its ticks to be made again
        place.show_note("appears at the first step")
        place._warm()  # what the idle moment runs
        assert (bottom.picture is not None) == follow and not plot.isVisible()
        assert bottom.range == [-0.5, 10]


def test_the_plot_behind_its_note_is_painted_after_what_the_window_shows(make, qtbot):  # noqa: F811
    """In the first step, B2 gives the history plots (still behind their note) a new range,
    and they are painted again off screen: after the inspector's own paint. Before it, the
    learner waited 4-6 ms more for that Step to show."""
    from PySide6.QtCore import QEvent, QObject
    from bpviz.gui.window import paint_once
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    ins = make("inspector")
    order = []

    class Paints(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Paint:
                order.append(obj)
            return False

    spy = Paints()
    shown, hidden = ins.view.viewport(), ins.time_view.viewport()
    shown.installEventFilter(spy)
    hidden.installEventFilter(spy)
    ins.show_snapshot(run.snapshot())
    place = ins.time_place
    qtbot.waitUntil(lambda: place._warm_ranges is not None and not place._warm_queued)
    warmed_after_paint = 0
    while not run.trainer.last or not run.trainer.last.step_end:
        run.advance("stage")
        order.clear()
        before = place._warm_ranges
        ins.show_snapshot(run.snapshot())
        paint_once(ins)  # as the window paints a Step
        qtbot.wait(50)  # the paint, and the idle moment after it
        if place._warm_ranges != before:  # painted again behind the note
            assert hidden in order
            if shown in order:  # the stage changed what the inspector shows (B2; not B5 of layer 1)
                assert order.index(shown) < order.index(hidden)
                warmed_after_paint += 1
    assert warmed_after_paint >= 1


def test_each_plot_names_its_curves_in_its_title_and_nothing_covers_its_points(make):  # noqa: F811
    """A legend card inside the plot covered the newest points of a long run (the last test
    accuracy, the right end of each history curve): each curve is named in the title, after
    a sample in its own colour, and no legend is left over the views."""
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    lo, ins = make("loss"), make("inspector")
    run.advance("step")
    for panel in (lo, ins):
        panel.show_snapshot(run.snapshot())
        scenes = [v.scene() for v in panel.findChildren(pg.GraphicsView)]
        assert not [item for scene in scenes for item in scene.items() if isinstance(item, pg.LegendItem)]

    def named(label, color, name) -> bool:
        at = label.text.find(f"color: {pg.mkColor(color).name()}")
        return at >= 0 and label.text[at:].split("&nbsp;&nbsp;")[0].endswith(name)
    assert named(lo.plot.getPlotItem().titleLabel, lo.steps.opts["pen"].color(), "loss per step")
    assert lo.steps.opts["symbol"] == "o"  # the first step's loss is a dot, of the colour named
    assert pg.mkBrush(lo.steps.opts["symbolBrush"]).color() == lo.steps.opts["pen"].color()
    assert "epoch" not in lo.plot.getPlotItem().titleLabel.text  # one batch an epoch: no epoch means
    for (key, layer), curve in ins._curves.items():  # one key over the plots over time: a colour a layer
        assert named(ins.time_key, curve.opts["pen"].color(), f"layer {layer}"), (key, layer)
    keys = [(lo.plot.getPlotItem().titleLabel, [lo.plot.getPlotItem()]), (ins.time_key, ins._history_plots.values())]
    for label, plots in keys:
        for plot in plots:
            assert label.sceneBoundingRect().bottom() <= plot.getViewBox().sceneBoundingRect().top() + 1


def test_the_log_scale_drops_the_range_held_on_the_linear_one(make):  # noqa: F811
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    lo = make("loss")
    for _ in range(5):
        t.run_steps(40)
        lo.show_snapshot(run.snapshot(playing=True))
    lo.log.setChecked(True)
    lo.grab()
    losses = np.log10(np.asarray(run.snapshot().losses))
    _, (y0, y1) = lo.plot.getViewBox().viewRange()
    span = losses.max() - losses.min()
    assert y0 <= losses.min() and losses.max() <= y1 and y1 - y0 < 1.3 * span


def test_a_history_of_one_or_two_steps_is_drawn_as_dots_made_once(make, monkeypatch):  # noqa: F811
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    ins = make("inspector")
    made = []
    update = pg.PlotDataItem.updateItems
    monkeypatch.setattr(pg.PlotDataItem, "updateItems", lambda self, *a, **k: made.append(self) or update(self, *a, **k))
    ins.show_snapshot(run.snapshot())  # ready: the curves are made, empty
    made.clear()
    run.advance("step")
    ins.show_snapshot(run.snapshot(playing=True))
    drawn = [c for c in ins._curves.values() if c.getData()[0] is not None and len(c.getData()[0]) > 0]
    assert drawn and all(c.opts["symbol"] == "o" and c.opts["symbolSize"] == 5 for c in drawn)
    assert len([c for c in made if c in drawn]) <= 2 * len(drawn)  # the symbol, then the data; not again for a size
    run.advance("step")
    run.advance("step")
    ins.show_snapshot(run.snapshot(playing=True))
    assert all(c.opts["symbol"] is None for c in drawn)  # a line from three points on


@pytest.mark.parametrize("playing", [False, True])
def test_the_first_steps_are_drawn_into_a_steady_frame(make, playing):  # noqa: F811
    """A step-count axis spans FIRST_STEPS from the start: each of the first steps used to
    give the loss and history plots a new x range (their axes redone, a few ms a Step)."""
    from bpviz.gui.widgets.plots import FIRST_STEPS
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    lo, ins = make("loss"), make("inspector")
    boxes = [lo.plot.getViewBox()] + [p.getViewBox() for p in (ins.rms_plot, ins.ratio_plot, ins.dead_plot)]
    seen = [set() for _ in boxes]
    for _ in range(FIRST_STEPS - 1):
        run.advance("step")
        for p in (lo, ins):
            p.show_snapshot(run.snapshot(playing=playing))
            p.grab()
        for s, box in zip(seen, boxes):
            s.add(tuple(round(v, 6) for v in box.viewRange()[0]))
    for s in seen:
        assert len(s) == 1  # one x range through the first steps
        (x0, x1), = s
        assert x0 <= 1 and x1 >= FIRST_STEPS - 1  # the first step (0 or 1) to the last of them


@pytest.mark.parametrize("net", ["toy", "wide"])
def test_delta_is_framed_and_drawn_before_it_exists(make, qtbot, net):  # noqa: F811
    """Δ's frame (batch rows x the layer's units) is laid out, and its axes drawn, behind
    the note before Δ exists: else Play's first frame (or the first Step to reach the
    backward pass) redid both axes and laid the plot out again."""
    from test_panels import TOY, load_run_data, make_trainer
    # "wide": more units than index ticks (automatic ticks), and a batch of 3 of the 4 samples
    t = toy_trainer() if net == "toy" else make_trainer(TOY.with_(sizes=(3, 20, 1), batch_size=3),
                                                        load_run_data("toy"))
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    ins = make("inspector")
    ins.show_snapshot(run.snapshot())  # ready
    qtbot.waitUntil(lambda: ins.now_place._warm_ranges == ins.now_place._ranges())
    box = ins.delta_plot.getViewBox()
    axes = [ins.delta_plot.getAxis(side) for side in ("left", "bottom")]
    ahead = [list(map(list, box.viewRange()))] + [(ax.range, ax.picture) for ax in axes]
    assert all(picture is not None for _, picture in ahead[1:])  # painted behind the note
    while f"Delta{ins.layer.currentIndex() + 1}" not in run.snapshot().arrays:
        run.advance("stage")
    ins.show_snapshot(run.snapshot(playing=True))
    assert ins.model["delta"] is not None and not ins.now_place.showing_note
    assert [list(map(list, box.viewRange()))] + [(ax.range, ax.picture) for ax in axes] == ahead


def test_a_new_range_does_not_redo_the_inspectors_curves(make, monkeypatch):  # noqa: F811
    """pyqtgraph redoes a curve and its dots at each new y range by default (to clip values
    at extreme zooms): five curves redone at each of the first steps' new ranges."""
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    ins = make("inspector")
    run.advance("step")
    ins.show_snapshot(run.snapshot(playing=True))
    drawn = [c for c in ins._curves.values() if c.getData()[0] is not None and len(c.getData()[0]) > 0]
    redone = []
    update = pg.PlotDataItem.updateItems
    monkeypatch.setattr(pg.PlotDataItem, "updateItems", lambda self, *a, **k: redone.append(self) or update(self, *a, **k))
    for plot in (ins.rms_plot, ins.ratio_plot, ins.dead_plot, ins.hist_plot):
        plot.setYRange(-7, 3)
    assert drawn and not [c for c in redone if c in drawn or c is ins.hist]


@pytest.mark.parametrize("mapped", [True, False], ids=["colour map", "grey (the samples)"])
def test_an_image_reaches_qt_in_32_bits_with_pyqtgraphs_colours(qtbot, mapped):
    """pyqtgraph hands Qt an 8-bit indexed image (colour-mapped) or an 8-bit grey one, which
    Qt converts at every paint (on two threads for a 784 x 128 layer); bpviz's ImageItem
    converts once. Every cell is drawn in pyqtgraph's colour (Qt's two paths may round a
    cell's edge apart by a pixel)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage
    from bpviz.gui.widgets.plots import DIVERGING, ImageItem
    data = np.random.default_rng(1).normal(size=(16, 8))  # (16, 8)
    centres = []
    for cls in (pg.ImageItem, ImageItem):
        w = pg.PlotWidget()
        qtbot.addWidget(w)
        w.resize(420, 520)
        item = cls()
        if mapped:
            item.setColorMap(DIVERGING)
        item.setImage(data, levels=(-2, 2))
        w.addItem(item)
        w.show()
        qtbot.waitExposed(w)
        img = w.grab().toImage()
        vb = w.getViewBox()
        centres.append([img.pixel(w.mapFromScene(vb.mapViewToScene(QPointF(j + 0.5, i + 0.5))))
                        for i in range(16) for j in range(8)])
        expected = QImage.Format.Format_Indexed8 if mapped else QImage.Format.Format_Grayscale8
        assert item.qimage.format() == (QImage.Format.Format_RGB32 if cls is ImageItem else expected)
    assert len(set(centres[0])) > 50  # the colours of the data, not a blank
    assert centres[0] == centres[1]


def test_the_loss_panel_gives_its_epoch_dots_new_points_only_when_they_change(make, monkeypatch):  # noqa: F811
    """The epoch means change once an epoch; making their dots again every frame of Play
    cost the window a tenth of its time."""
    from test_panels import mnist_shaped_trainer
    t = mnist_shaped_trainer()  # 300 samples, batch 100: an epoch is 3 steps
    run = Run(t, RunData("synthetic", t.data, None, None, "synthetic"))
    lo = make("loss")
    given = []
    set_data = lo.epochs.setData
    monkeypatch.setattr(lo.epochs, "setData", lambda x, y, **kw: (given.append(len(y)), set_data(x, y, **kw)))
    for steps in (3, 1, 1, 1):
        t.run_steps(steps)
        lo.show_snapshot(run.snapshot())
    assert given == [1, 2]  # after steps 3 and 6, not at steps 4 and 5
    np.testing.assert_array_equal(lo.epochs.yData, np.asarray(t.epoch_losses))
    lo.reset_view()
    lo.show_snapshot(run.snapshot())
    assert given[-1] == 2  # drawn again after a reset


def _arrays_to_rank():
    rng = np.random.default_rng(7)
    n = 784 * 128
    yield "normal", rng.standard_normal((784, 128))
    yield "heavy tails", rng.standard_cauchy((784, 128))
    yield "all equal", np.ones((784, 128))
    outliers = rng.standard_normal(n) * 1e-3
    outliers[rng.choice(n, 300, replace=False)] = 50.0  # more outliers than k, where the sample may miss them
    yield "outliers", outliers.reshape(784, 128)
    # large only where strongest() samples: its threshold keeps fewer than k, so it ranks all
    sampled_only = np.zeros(n)
    sampled_only[::n // 4096] = np.arange(len(sampled_only[::n // 4096]))
    yield "large where sampled", sampled_only.reshape(784, 128)
    with_nan = rng.standard_normal((784, 128))
    with_nan[3, 5] = with_nan[700, 1] = np.nan
    yield "NaN", with_nan
    yield "small", rng.standard_normal((10, 10))


@pytest.mark.parametrize("name, values", list(_arrays_to_rank()), ids=[n for n, _ in _arrays_to_rank()])
def test_the_strongest_entries_are_exactly_the_k_of_largest_magnitude(name, values):
    """The diagram picks its edges with strongest() every frame of Play; its fast path (a
    threshold from a sample) must give the same magnitudes as ranking them all."""
    k = 256
    got = strongest(values, k)
    flat = np.abs(values).ravel()
    want = np.argpartition(flat, flat.size - k)[flat.size - k:] if flat.size > k else np.arange(flat.size)
    assert len(got) == len(set(got.tolist())) == min(k, flat.size)
    np.testing.assert_array_equal(np.sort(flat[got]), np.sort(flat[want]))


def test_a_paused_step_draws_again_only_what_it_changed_in_the_inspector(make, qtbot):  # noqa: F811
    """A paused Step changes the last layer's Δ at B1, its dL/dW at B2 and the figures over
    time at the step's end. Giving every item its data again at every Step had the panel's
    plots painted anew each time: 3-5 ms of what is now a 4-6 ms Step."""
    from PySide6.QtCore import QEvent, QObject
    t = toy_trainer()
    run = Run(t, RunData("toy", t.data, None, None, "toy"))
    ins = make("inspector")
    given = collections.Counter()

    def spy(obj, name, key):
        orig = getattr(obj, name)
        setattr(obj, name, lambda *a, **k: (given.update([key]), orig(*a, **k))[1])

    spy(ins.delta_img, "setImage", "delta")
    spy(ins.hist, "setData", "hist")
    ins.show_snapshot(run.snapshot())
    for _ in range(2):  # the first steps' new ranges are not what this is about
        run.advance("step")
        ins.show_snapshot(run.snapshot())
    curves = [c for c in ins._curves.values() if c.getData()[0] is not None and len(c.getData()[0])]
    for c in curves:
        spy(c, "setData", "history")

    class Paints(QObject):
        seen = 0

        def eventFilter(self, obj, event):
            self.seen += event.type() == QEvent.Paint
            return False

    over_time = Paints()
    ins.time_view.viewport().installEventFilter(over_time)
    qtbot.wait(20)
    given.clear()
    start, painted_at_first_stage = t.steps_done, []
    while t.steps_done < start + 2:  # two whole steps, stage by stage
        over_time.seen = 0
        r = run.advance("stage")
        ins.show_snapshot(run.snapshot())
        qtbot.wait(20)
        if r.index == 0:
            painted_at_first_stage.append(over_time.seen)
        if "Delta2" in r.arrays:
            np.testing.assert_array_equal(ins.delta_img.image, r.arrays["Delta2"])
        else:  # cleared at the step's first stage, not kept from the last step
            assert ins.delta_img.image is None
    assert given["delta"] == 2  # at each B1
    assert given["hist"] == 4  # at each B2, and cleared at each step's first stage
    assert curves and given["history"] == 2 * len(curves)  # at each step's end
    # a step's first stage changes nothing drawn over time: that view is not painted
    assert painted_at_first_stage == [0, 0]
    # another layer: its own Δ and dL/dW, or none, not what the last one drew
    while "Delta1" not in run.snapshot().arrays:
        run.advance("stage")
    ins.show_snapshot(run.snapshot())
    ins.layer.setCurrentIndex(0)
    a = run.snapshot().arrays
    np.testing.assert_array_equal(ins.delta_img.image, a["Delta1"])
    assert ins.model["hist_total"] == (a["dW1"].size if "dW1" in a else 0)
    run.advance("stage")  # the next step's F1 is far: step back to one without layer 1's Δ
    while "Delta1" in run.snapshot().arrays:
        run.advance("stage")
    ins.show_snapshot(run.snapshot())
    assert ins.delta_img.image is None and ins.model["hist_total"] == 0


def test_a_point_expected_before_the_steps_end_is_in_the_frame_after_settle(plot):
    from bpviz.gui.widgets.plots import NextPoint
    plot.plot([0, 1, 2], [1.0, 2.0, 3.0])
    nxt = NextPoint(plot.getPlotItem())
    settle([plot.getPlotItem()])
    (_, x1), (_, y1) = plot.getViewBox().viewRange()
    assert x1 < 2.5 and y1 < 3.5
    nxt.expect(3, [10.0])
    settle([plot.getPlotItem()])
    (_, x1), (_, y1) = plot.getViewBox().viewRange()
    assert x1 >= 3 and y1 >= 10
    nxt.expect(None)
    settle([plot.getPlotItem()])
    (_, x1), (_, y1) = plot.getViewBox().viewRange()
    assert x1 < 2.5 and y1 < 3.5
