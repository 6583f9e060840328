"""Fusion with flat scroll bars.

Fusion paints a scroll bar with gradients: 1.3-1.7 ms for one 500 px high, and the
equation list's repaints at every Step as it follows the current equation. This style
draws the groove in the window colour and the handle as one rounded grey bar (0.03 ms),
with no arrow buttons. An application style sheet did the same, but it put Qt's style
sheet machinery under every widget of the window: 35-40 ms more to the first frame.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QProxyStyle, QStyle

BAR_PX = 12  # the bar's thickness
MIN_HANDLE_PX = 24
HANDLE_INSET_PX = 2
# (handle, handle under the mouse or dragged) per theme: 3:1 or more against the window
# colour, the contrast WCAG asks of the parts of a control
SCROLL_GREYS = {"light": ("#858585", "#6a6a6a"), "dark": ("#7a7a7a", "#989898")}

def on_dark(widget) -> bool:
    """Whether `widget` is drawn on a dark base (the dark theme, or a palette set on it)."""
    return widget.palette().color(QPalette.Base).lightness() < 128


_CC = QStyle.ComplexControl
_SC = QStyle.SubControl


class FlatScrollBars(QProxyStyle):
    def __init__(self, theme: str):
        super().__init__("Fusion")
        self.handle, self.hover = (QColor(c) for c in SCROLL_GREYS[theme])

    def pixelMetric(self, metric, option=None, widget=None) -> int:
        if metric == QStyle.PixelMetric.PM_ScrollBarExtent:
            return BAR_PX
        if metric == QStyle.PixelMetric.PM_ScrollBarSliderMin:
            return MIN_HANDLE_PX
        return super().pixelMetric(metric, option, widget)

    def subControlRect(self, control, option, sub, widget=None) -> QRect:
        if control != _CC.CC_ScrollBar:
            return super().subControlRect(control, option, sub, widget)
        r = option.rect
        horizontal = option.orientation == Qt.Orientation.Horizontal
        length = r.width() if horizontal else r.height()
        span = option.maximum - option.minimum
        size = length if span <= 0 else max(min(MIN_HANDLE_PX, length),
                                            length * option.pageStep // max(1, span + option.pageStep))
        start = QStyle.sliderPositionFromValue(option.minimum, option.maximum, option.sliderPosition,
                                               length - size, option.upsideDown)

        def along(a: int, n: int) -> QRect:  # the part [a, a + n) of the bar along its length
            return QRect(r.x() + a, r.y(), n, r.height()) if horizontal else QRect(r.x(), r.y() + a, r.width(), n)
        if sub == _SC.SC_ScrollBarSlider:
            return along(start, size)
        if sub == _SC.SC_ScrollBarSubPage:
            return along(0, start)
        if sub == _SC.SC_ScrollBarAddPage:
            return along(start + size, length - start - size)
        if sub == _SC.SC_ScrollBarGroove:
            return QRect(r)
        return QRect()  # no arrow buttons (SC_ScrollBarAddLine, SubLine, First, Last)

    def hitTestComplexControl(self, control, option, pos, widget=None):
        if control != _CC.CC_ScrollBar:
            return super().hitTestComplexControl(control, option, pos, widget)
        for sub in (_SC.SC_ScrollBarSlider, _SC.SC_ScrollBarSubPage, _SC.SC_ScrollBarAddPage):
            if self.subControlRect(control, option, sub, widget).contains(pos):
                return sub
        return _SC.SC_None

    def drawComplexControl(self, control, option, painter, widget=None) -> None:
        if control != _CC.CC_ScrollBar:
            return super().drawComplexControl(control, option, painter, widget)
        painter.fillRect(option.rect, option.palette.color(QPalette.ColorRole.Window))
        if option.maximum <= option.minimum or not option.state & QStyle.StateFlag.State_Enabled:
            return
        handle = self.subControlRect(control, option, _SC.SC_ScrollBarSlider, widget)
        hot = bool(option.activeSubControls & _SC.SC_ScrollBarSlider) and bool(
            option.state & (QStyle.StateFlag.State_MouseOver | QStyle.StateFlag.State_Sunken))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.hover if hot else self.handle)
        inset = HANDLE_INSET_PX
        painter.drawRoundedRect(QRectF(handle).adjusted(inset, inset, -inset, -inset), 4, 4)
        painter.restore()
