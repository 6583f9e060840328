"""Both themes keep text readable: WCAG contrast of at least 4.5:1 for every text colour
on the background it is drawn on."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def luminance(c) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_text_colour_reads_on_its_background(qtbot, monkeypatch, theme):
    from bpviz.gui.main import apply_theme
    app = QApplication.instance()
    palette, style = app.palette(), app.style().name()
    monkeypatch.setenv("BPVIZ_THEME", theme)
    try:
        apply_theme(app)
        pal = app.palette()
        pairs = [(QPalette.WindowText, QPalette.Window), (QPalette.Text, QPalette.Base),
                 (QPalette.ButtonText, QPalette.Button), (QPalette.HighlightedText, QPalette.Highlight),
                 (QPalette.ToolTipText, QPalette.ToolTipBase), (QPalette.Link, QPalette.Base),
                 (QPalette.Link, QPalette.Window)]
        for fg, bg in pairs:
            assert contrast(pal.color(fg), pal.color(bg)) >= 4.5, (theme, fg, bg)
    finally:
        app.setStyle(style)
        app.setPalette(palette)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_scroll_bar_is_flat_and_its_handle_stands_out(qtbot, monkeypatch, theme):
    """Scroll bars are bpviz's own (Fusion's gradients took 1.3-1.7 ms a paint): one flat
    grey handle on the window colour, at 3:1 or more, and no arrow buttons."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QScrollBar

    from bpviz.gui.main import apply_theme
    from bpviz.gui.style import SCROLL_GREYS
    app = QApplication.instance()
    palette, style = app.palette(), app.style().name()
    monkeypatch.setenv("BPVIZ_THEME", theme)
    try:
        apply_theme(app)
        bar = QScrollBar(Qt.Vertical)
        qtbot.addWidget(bar)
        bar.resize(bar.sizeHint().width(), 200)
        bar.setRange(0, 100)
        bar.setPageStep(100)  # the handle fills half the bar, from the top
        image = QImage(bar.size(), QImage.Format_RGB32)
        bar.render(image)
        x = bar.width() // 2
        handle, groove = image.pixelColor(x, 40), image.pixelColor(x, 180)
        assert handle == QColor(SCROLL_GREYS[theme][0]) and groove == app.palette().color(QPalette.Window)
        assert image.pixelColor(x, 90) == handle and image.pixelColor(x, 10) == handle  # flat, to the top
        assert contrast(handle, groove) >= 3.0
    finally:
        app.setStyle(style)
        app.setPalette(palette)


def test_the_scroll_bar_scrolls_as_it_is_drawn(qtbot):
    """The handle is drawn where the bar takes it to be: a click just below the drawn
    handle pages down, and dragging it by its drawn middle to the end reaches the maximum."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QScrollBar

    from bpviz.gui.style import FlatScrollBars
    bar = QScrollBar(Qt.Vertical)
    style = FlatScrollBars("light")
    bar.setStyle(style)
    qtbot.addWidget(bar)
    bar.resize(12, 300)
    bar.setRange(0, 200)
    bar.setPageStep(100)  # the handle: a third of the bar, 100 px
    bar.show()
    qtbot.waitExposed(bar)
    image = QImage(bar.size(), QImage.Format_RGB32)
    bar.render(image)
    drawn = [y for y in range(300) if image.pixelColor(6, y) == style.handle]  # the handle's rows
    assert drawn and drawn[0] < 10 and 90 < drawn[-1] < 100
    QTest.mouseClick(bar, Qt.LeftButton, pos=QPoint(6, drawn[-1] + 5))
    assert bar.value() == 100
    bar.setValue(0)
    QTest.mousePress(bar, Qt.LeftButton, pos=QPoint(6, (drawn[0] + drawn[-1]) // 2))
    QTest.mouseMove(bar, QPoint(6, 280))
    QTest.mouseRelease(bar, Qt.LeftButton, pos=QPoint(6, 280))
    assert bar.value() == 200


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_zero_fades_into_the_background_in_either_theme(qtbot, monkeypatch, theme):
    """The diverging colours put zero at the background's lightness: white zeros were the
    brightest things on the dark canvas, and read as the most active."""
    from bpviz.gui.main import apply_theme
    from bpviz.gui.panels.diagram import COLOR_LEVELS, DiagramPanel
    from bpviz.gui.panels.heatmaps import HeatmapPanel
    app = QApplication.instance()
    palette, style = app.palette(), app.style().name()
    monkeypatch.setenv("BPVIZ_THEME", theme)
    try:
        apply_theme(app)
        d, h = DiagramPanel(), HeatmapPanel()
        qtbot.addWidget(d)
        qtbot.addWidget(h)
        base = app.palette().color(QPalette.Base).lightness()
        zero = d._node_brushes[(COLOR_LEVELS - 1) // 2].color()
        bar_zero = QColor(*h.bar.colorMap().map(0.5, mode="byte")[:3])
        for c in (zero, bar_zero):
            assert abs(c.lightness() - base) < 60, (theme, c.name(), base)
    finally:
        app.setStyle(style)
        app.setPalette(palette)
