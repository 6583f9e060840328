"""Drawing an input image with the mouse: a canvas of the data's image size (28x28 for
MNIST), started from the sample's own image, painted with a soft round brush. The
window hands the result to the run as an edited input, so the step is recomputed."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

BRUSH_RADIUS = 1.3  # in pixels of the image: a stroke about as wide as a pen digit's


class DrawCanvas(QWidget):
    """An image of `shape` with values in [0, 1]; the left button paints, the right erases."""

    changed = Signal()

    def __init__(self, image: np.ndarray, parent=None):
        super().__init__(parent)
        self.image = np.clip(np.array(image, dtype=np.float64), 0.0, 1.0)  # (h, w)
        self.setMinimumSize(280, 280)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.CrossCursor)
        self._last: QPointF | None = None
        self._erase = False

    def _cell(self, pos: QPointF) -> tuple[float, float]:
        """(row, column) of a widget position, as fractions of image pixels."""
        h, w = self.image.shape
        r = self._square()
        return (pos.y() - r.top()) / r.height() * h, (pos.x() - r.left()) / r.width() * w

    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def paint_at(self, row: float, col: float, erase: bool = False) -> None:
        """Brush one dab centred at (row, col) in image pixels: full strength inside the
        radius, fading over one pixel beyond it."""
        h, w = self.image.shape
        rr, cc = np.mgrid[0:h, 0:w]  # (h, w) each
        dist = np.hypot(rr + 0.5 - row, cc + 0.5 - col)  # (h, w)
        amount = np.clip(BRUSH_RADIUS + 1 - dist, 0.0, 1.0)  # (h, w)
        if erase:
            self.image = np.minimum(self.image, 1 - amount)
        else:
            self.image = np.maximum(self.image, amount)
        self.update()
        self.changed.emit()

    def stroke(self, a: QPointF, b: QPointF) -> None:
        (r0, c0), (r1, c1) = self._cell(a), self._cell(b)
        n = max(1, int(np.ceil(max(abs(r1 - r0), abs(c1 - c0)) * 2)))
        for t in np.linspace(0, 1, n + 1):
            self.paint_at(r0 + (r1 - r0) * t, c0 + (c1 - c0) * t, self._erase)

    def mousePressEvent(self, e):
        self._erase = e.button() == Qt.RightButton
        self._last = e.position()
        self.stroke(self._last, self._last)

    def mouseMoveEvent(self, e):
        if self._last is not None:
            self.stroke(self._last, e.position())
            self._last = e.position()

    def mouseReleaseEvent(self, e):
        self._last = None

    def clear(self) -> None:
        self.image = np.zeros_like(self.image)
        self.update()
        self.changed.emit()

    def paintEvent(self, e):
        h, w = self.image.shape
        grey = np.ascontiguousarray((255 * (1 - self.image)).astype(np.uint8))  # (h, w): ink is dark
        img = QImage(grey.data, w, h, w, QImage.Format_Grayscale8)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.drawImage(self._square(), img)
        p.setPen(QColor(128, 128, 128))
        p.drawRect(self._square())
        p.end()


class DrawInputDialog(QDialog):
    """Draw or edit one sample's input image; `values()` is the result as the network's
    inputs (scaled like the data set's, e.g. 0 to 1 for MNIST)."""

    def __init__(self, image: np.ndarray, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        hint = QLabel("Draw with the left mouse button, erase with the right. Use it: the current step is "
                      "recomputed with this image, and every number downstream of it changes.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.canvas = DrawCanvas(image, self)
        lay.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        clear = QPushButton("Clear")
        clear.clicked.connect(self.canvas.clear)
        row.addWidget(clear)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Use this input")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        lay.addLayout(row)
        self.resize(420, 500)

    def values(self) -> np.ndarray:
        return self.canvas.image.ravel().copy()  # (h*w,)
