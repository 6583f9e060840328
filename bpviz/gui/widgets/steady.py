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

SteadyText: the same for plain text, painted by the widget itself. A QLabel asks for a
layout pass at every new text, even one that fits; SteadyText asks only when the text
needs more height than it has, so numbers changing every frame cost a repaint and nothing
else (rich text and links stay in a SteadyLabel).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QPainter, QStaticText, QTransform
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QWidget


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


class HeldHeights:
    """The tallest height a widget's texts needed at each width, until cleared: what keeps a
    steady label's height from shrinking back while playing."""

    def __init__(self):
        self._tallest: dict[int, int] = {}

    def hold(self, width: int, needed: int) -> int:
        """The height to give at `width` when the text now needs `needed`."""
        h = max(needed, self._tallest.get(width, 0))
        if width not in self._tallest and len(self._tallest) >= 16:
            self._tallest.clear()  # the dock was resized many times: old widths are history
        self._tallest[width] = h
        return h

    def at(self, width: int) -> int:
        return self._tallest.get(width, 0)

    def clear(self) -> bool:
        """Forget every height; whether there were any (the widget then asks for a layout pass)."""
        held = bool(self._tallest)
        self._tallest.clear()
        return held


class _Steady:
    """What both steady texts do with their held heights: give them up when paused, or when
    a new font wraps the text anew (`_font_changed` says what else to forget)."""
    _held: HeldHeights

    def release(self) -> None:
        """Fit the current text again (paused: nothing will move it every frame)."""
        if self._held.clear():
            self.updateGeometry()

    def reserve(self, texts) -> None:
        """Hold, at the current width, the height the tallest of `texts` needs: texts shown one
        after another (a step's stages) then never move what is under them."""
        width, shown = self.width(), self.text()
        self._held.clear()
        for text in list(texts) + [shown]:
            self._held.hold(width, self._needed_for(text, width))
        self.updateGeometry()

    def _font_changed(self) -> None:
        pass

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.FontChange:  # text of another size wraps anew (View → Zoom)
            self._held.clear()
            self._font_changed()
        super().changeEvent(event)


class SteadyLabel(_Steady, QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._held = HeldHeights()

    def heightForWidth(self, width: int) -> int:
        return self._held.hold(width, super().heightForWidth(width))

    def _needed_for(self, text: str, width: int) -> int:
        shown = self.text()
        self.blockSignals(True)
        self.setText(text)
        h = QLabel.heightForWidth(self, width)  # Qt's measure of rich text, without holding it
        self.setText(shown)
        self.blockSignals(False)
        return h

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self._held.at(self.width())))


class SteadyText(_Steady, QWidget):
    """elide: one line, cut with "…" when narrower than the text (a status line); else
    word-wrapped. Right-click → Copy puts the whole text on the clipboard."""
    WRAP = Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop

    def __init__(self, text: str = "", parent: QWidget | None = None, elide: bool = False):
        super().__init__(parent)
        self._text = str(text)
        self._elide = elide
        self.setContextMenuPolicy(Qt.ActionsContextMenu)
        copy = QAction("Copy", self)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(self._text))
        self.addAction(copy)
        self._held = HeldHeights()
        policy = QSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.layout_passes = 0  # texts that needed more room (tests read it)
        self._measured: dict[int, int] = {}  # width -> height of the current text
        self._hint_width: tuple = (None, 0)  # (text, preferred width)
        self._static = QStaticText()  # the text laid out once, drawn at every paint
        self._static.setTextFormat(Qt.PlainText)
        self._static_key = None  # (text, width) it was laid out for
        self._cut = False  # an elided line cut short when last painted: its tooltip shows it whole

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        text = str(text)
        if text == self._text:
            return
        self._text = text
        self._measured = {}
        if not (self.isVisible() and self._needed(self.width()) <= self.height()):
            self.layout_passes += 1
            self.updateGeometry()  # more lines than it has room for: the layout makes room
        self.update()

    def _needed_for(self, text: str, width: int) -> int:
        shown, measured = self._text, self._measured
        self._text, self._measured = str(text), {}
        h = self._needed(width)
        self._text, self._measured = shown, measured
        return h

    def _needed(self, width: int) -> int:
        """Pixels of height the text takes wrapped at `width` (0 for no text)."""
        if not self._text:
            return 0
        h = self._measured.get(width)
        if h is None:  # layouts ask several times a frame, at a few widths
            h = self._measured[width] = self._measure(width)
        return h

    def _measure(self, width: int) -> int:
        m = self.contentsMargins()
        if self._elide:
            return self.fontMetrics().height() + m.top() + m.bottom()
        inner = max(1, width - m.left() - m.right())
        r = self.fontMetrics().boundingRect(QRect(0, 0, inner, 1 << 20), self.WRAP, self._text)
        return r.height() + m.top() + m.bottom()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._held.hold(width, self._needed(width))

    def sizeHint(self) -> QSize:
        if self._hint_width[0] != self._text:  # layouts ask many times a frame
            fm = self.fontMetrics()
            # one line up to about 60 characters wide, as a wrapped QLabel prefers
            w = min(max((fm.horizontalAdvance(line) for line in self._text.split("\n")), default=0),
                    60 * fm.averageCharWidth())
            m = self.contentsMargins()
            self._hint_width = (self._text, w + m.left() + m.right())
        w = self._hint_width[1]
        return QSize(w, self.heightForWidth(max(w, 1)))

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(min(8 * fm.averageCharWidth(), self.sizeHint().width()),
                     fm.height() if self._text or self._elide else 0)

    def _font_changed(self) -> None:
        self._measured, self._hint_width = {}, (None, 0)
        self._static_key = None
        self.updateGeometry()

    def event(self, event) -> bool:
        if event.type() == QEvent.ToolTip and self._elide and self._cut:  # the whole line, then the tip
            QToolTip.showText(event.globalPos(), "\n\n".join(t for t in (self._text, self.toolTip()) if t), self)
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:
        if self._text:
            p = QPainter(self)
            p.setPen(self.palette().windowText().color())
            r = self.contentsRect()
            if self._elide:
                shown = self.fontMetrics().elidedText(self._text.replace("\n", " "), Qt.ElideRight, r.width())
                self._cut = shown != self._text.replace("\n", " ")
                p.drawText(r, Qt.AlignLeft | Qt.AlignVCenter, shown)
            else:
                if self._static_key != (self._text, r.width()):
                    self._static.setText(self._text)
                    self._static.setTextWidth(r.width())
                    self._static.prepare(QTransform(), self.font())
                    self._static_key = (self._text, r.width())
                p.setFont(self.font())
                p.drawStaticText(r.topLeft(), self._static)
            p.end()
