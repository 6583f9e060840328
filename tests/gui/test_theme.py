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
