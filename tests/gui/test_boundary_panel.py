"""The decision-boundary panel draws exactly the run model's maps."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
import pytest

from bpviz.engine.presets import get_preset
from bpviz.engine.run import Run
from bpviz.runs import load_run_data


@pytest.fixture
def panel(qtbot):
    from bpviz.gui.panels.boundary import BoundaryPanel
    p = BoundaryPanel()
    qtbot.addWidget(p)
    p.resize(500, 500)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_the_drawn_image_is_the_models_output_and_units(panel):
    run = Run.build(get_preset("circle").config, load_run_data("circle"))
    for _ in range(20):
        run.advance("step")
    snap = run.snapshot()
    panel.show_snapshot(snap)
    b = snap.boundary
    np.testing.assert_array_equal(panel.image.image, b["output"])
    assert panel.model["n_points"] == len(b["points"]) == len(panel.points.data)
    assert panel.what.count() == 1 + run.cfg.sizes[1]
    panel.what.setCurrentIndex(3)  # layer 1, unit 3
    panel.redraw()
    np.testing.assert_array_equal(panel.image.image, b["units"][1][:, :, 2])
    img = panel.plot.grab().toImage()
    colours = {img.pixel(x, y) & 0xFFFFFF for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20  # a colour map, not a blank plot
    # its axes name the features as the sample table does
    assert "x0" in panel.plot.getAxis("bottom").labelString() and "x1" in panel.plot.getAxis("left").labelString()


def test_the_colours_have_a_key_and_the_room_beside_the_map_is_not_a_probability(panel, qtbot):
    """A colour bar says what the map's colours are (P(class 1) from 0 to 1, or a unit's
    activation); the room the square plane leaves is grey, where it was the white that
    means P = 0.5."""
    from PySide6.QtGui import QColor
    run = Run.build(get_preset("circle").config, load_run_data("circle"))
    run.advance("step")
    panel.resize(700, 300)  # wider than the plane: room beside it
    qtbot.wait(50)
    panel.show_snapshot(run.snapshot())
    assert panel.model["key"] == "P(class 1)" and panel.bar.levels() == (0.0, 1.0)
    assert "P(class 1)" in panel.bar.axis.labelString()
    panel.what.setCurrentIndex(1)
    panel.redraw()
    assert panel.model["key"] == "activation" and panel.bar.levels() == panel.model["levels"]
    img = panel.plot.grab().toImage()
    box = panel.plot.getViewBox()
    x0, x1, y0, y1 = run.snapshot().boundary["extent"]
    (vx0, vx1), _ = box.viewRange()
    assert vx0 < x0 - 0.1 * (x1 - x0)  # the locked aspect left room at the left
    at = panel.plot.mapFromScene(box.mapViewToScene(pg.QtCore.QPointF((vx0 + x0) / 2, (y0 + y1) / 2)))
    beside = QColor(img.pixel(at))
    assert beside != QColor("white") and abs(beside.red() - beside.blue()) < 8  # grey, not a map colour


def test_without_two_features_the_panel_says_what_will_appear(panel):
    run = Run.build(get_preset("toy").config, load_run_data("toy"))
    panel.show_snapshot(run.snapshot())
    assert panel.stack.currentIndex() == 0 and "two input features" in panel.empty.text()
    spiral = Run.build(get_preset("spiral").config, load_run_data("spiral"))
    panel.show_snapshot(spiral.snapshot())  # a new run: the choices follow its units
    assert panel.stack.currentIndex() == 1 and panel.what.count() == 1 + 8 + 8


def test_the_window_shows_the_plane_for_a_2d_set(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    c = win.controller
    c.rebuild(get_preset("spiral").config, "spiral")
    qtbot.waitUntil(lambda: c.latest is not None and c.latest.boundary is not None, timeout=20000)
    boundary = next(p for p in win.panels if p.object_name == "boundary")
    qtbot.waitUntil(lambda: boundary.isVisible() and boundary.snapshot is c.latest, timeout=5000)
    np.testing.assert_array_equal(boundary.image.image, c.latest.boundary["output"])
    c.shutdown()


def test_each_hidden_node_of_the_diagram_shows_its_unit_over_the_plane(qtbot):
    from bpviz.gui.panels.diagram import UNIT_MAP_STEP, DiagramPanel
    d = DiagramPanel()
    qtbot.addWidget(d)
    d.resize(700, 600)
    d.show()
    qtbot.waitExposed(d)
    run = Run.build(get_preset("spiral").config, load_run_data("spiral"))
    run.advance("step")
    snap = run.snapshot()
    d.show_snapshot(snap)
    assert d.model["unit_maps"] == 16  # 8 + 8 hidden units
    units = snap.boundary["units"]
    np.testing.assert_array_equal(d._unit_maps[0].image, units[1][::UNIT_MAP_STEP, ::UNIT_MAP_STEP, 0])
    np.testing.assert_array_equal(d._unit_maps[9].image, units[2][::UNIT_MAP_STEP, ::UNIT_MAP_STEP, 1])
    toy = Run.build(get_preset("toy").config, load_run_data("toy"))
    d.show_snapshot(toy.snapshot())
    assert d.model["unit_maps"] == 0 and not any(m.isVisible() for m in d._unit_maps)
