"""Both themes keep text readable: WCAG contrast of at least 4.5:1 for every text colour
on the background it is drawn on."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtGui import QPalette
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
    palette, style, sheet = app.palette(), app.style().name(), app.styleSheet()
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
        app.setStyleSheet(sheet)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_scroll_bar_is_flat_and_its_handle_stands_out(qtbot, monkeypatch, theme):
    """Scroll bars come from the style sheet (Fusion's gradients took 1.3-1.7 ms a paint):
    one flat grey handle on the window colour, at 3:1 or more."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QScrollBar

    from bpviz.gui.main import SCROLL_GREYS, apply_theme
    app = QApplication.instance()
    palette, style, sheet = app.palette(), app.style().name(), app.styleSheet()
    monkeypatch.setenv("BPVIZ_THEME", theme)
    try:
        apply_theme(app)
        bar = QScrollBar(Qt.Vertical)
        qtbot.addWidget(bar)
        bar.resize(12, 200)
        bar.setRange(0, 100)
        bar.setPageStep(100)  # the handle fills half the groove, from the top
        image = QImage(bar.size(), QImage.Format_RGB32)
        bar.render(image)
        handle, groove = image.pixelColor(6, 40), image.pixelColor(6, 180)
        assert handle == QColor(SCROLL_GREYS[theme][0]) and groove == app.palette().color(QPalette.Window)
        assert image.pixelColor(6, 60) == handle  # flat: no gradient along the handle
        assert contrast(handle, groove) >= 3.0
    finally:
        app.setStyle(style)
        app.setPalette(palette)
        app.setStyleSheet(sheet)
