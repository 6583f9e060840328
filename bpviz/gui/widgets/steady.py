"""Widgets that keep a panel's per-frame layout work inside the panel.

LayoutBarrier: Qt re-lays out a widget's parent every time the widget's layout is activated, whether or
not any size hint changed (QLayout::activate ends in updateGeometry()), so one label whose
text changes every frame climbs the chain to the main window and re-lays out every dock,
tab bar and the status bar, then repaints them. A LayoutBarrier holds one widget filling it
and passes a layout request on only when the window's layout would really differ: the held
widget's minimum size no longer fits, or its size policy changed.

SteadyLabel: a word-wrapped label whose preferred height never shrinks back at a given
width, so a text one line shorter than the last does not move everything under it in
every frame while playing (its minimum size, which the window's fit depends on, is Qt's).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QLabel, QWidget


class LayoutBarrier(QWidget):
    def __init__(self, child: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.child = child
        child.setParent(self)
        self.setSizePolicy(child.sizePolicy())
        # opaque: a repaint inside the panel need not repaint the dock and window under it first
        self.setAutoFillBackground(True)
        self.passed_on = 0  # layout requests passed on to the dock and window (tests read both counts)
        self.held = 0  # layout requests that stopped here
        self._last_min = self._child_min()

    def _child_min(self) -> QSize:
        return self.child.minimumSizeHint().expandedTo(self.child.minimumSize())

    def minimumSizeHint(self) -> QSize:
        return self._child_min()

    def sizeHint(self) -> QSize:
        return self.child.sizeHint()

    def resizeEvent(self, event) -> None:
        self.child.setGeometry(self.rect())

    def event(self, event) -> bool:
        if event.type() == QEvent.LayoutRequest:
            m = self._child_min()
            outgrown = m.width() > self.width() or m.height() > self.height()
            if self.child.sizePolicy() != self.sizePolicy() or (outgrown and m != self._last_min) \
                    or not self.isVisible():
                self.setSizePolicy(self.child.sizePolicy())
                self._last_min = m
                self.passed_on += 1
                self.updateGeometry()
            else:
                self.held += 1
            return True
        return super().event(event)


class SteadyLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._tallest: dict[int, int] = {}  # width -> the tallest height its texts needed

    def heightForWidth(self, width: int) -> int:
        h = max(super().heightForWidth(width), self._tallest.get(width, 0))
        if width not in self._tallest and len(self._tallest) >= 16:
            self._tallest.clear()  # the dock was resized many times: old widths are history
        self._tallest[width] = h
        return h

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self._tallest.get(self.width(), 0)))

    def release(self) -> None:
        """Fit the current text again (paused: nothing will move it every frame)."""
        if self._tallest:
            self._tallest.clear()
            self.updateGeometry()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.FontChange:  # text of another size wraps anew (View → Zoom)
            self._tallest.clear()
        super().changeEvent(event)
