"""The decision boundary: for data with two input features, the network's output over the
whole input plane as a colour map with the samples on top, and one hidden unit's
activation over the plane. The run model computes the maps (Snapshot.boundary) with the
weights the stage shows; this panel only draws them."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedLayout, QVBoxLayout, QWidget

from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import ImageItem, blend, diverging, palette_colors, style_plot

EMPTY = ("The decision boundary appears for data with two input features (xor, circle, gauss, spiral, "
         "or a CSV with two feature columns): the network's answer over the whole plane.")
CLASS_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class BoundaryPanel(Panel):
    object_name = "boundary"
    title = "Boundary"  # the decision boundary; short, so the tab fits beside the network's
    area = "right"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stack = QStackedLayout(self)
        self.empty = QLabel(EMPTY)
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.empty)
        host = QWidget()
        lay = QVBoxLayout(host)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("decision boundary: show"))
        self.what = QComboBox()
        self.what.setToolTip("The network's output, or one hidden unit's activation, over the input plane")
        self.what.activated.connect(lambda _: self.redraw())
        bar.addWidget(self.what, 1)
        lay.addLayout(bar)
        self.plot = pg.PlotWidget()
        style_plot(self, self.plot)
        self.plot.setAspectLocked(True)
        # the room the locked aspect leaves beside the map: grey, not the white of P = 0.5
        bg, fg = palette_colors(self)
        self.plot.getViewBox().setBackgroundColor(blend(fg, bg, 0.12))
        # the features as the sample table names them, from 0
        self.plot.setLabel("bottom", "x0")
        self.plot.setLabel("left", "x1")
        self.image = ImageItem()
        self.plot.addItem(self.image)
        # what a colour means: the probability, the output, the class or the activation
        self.bar = pg.ColorBarItem(colorMap=diverging(self), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self._bar_as: tuple | None = None  # (label, levels, map name) the bar was last set to
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("k", width=0.8))
        self.plot.addItem(self.points)
        lay.addWidget(self.plot, 1)
        self.stack.addWidget(host)
        self.model: dict = {}
        self._choices: tuple = ()

    def reset_view(self) -> None:
        self._choices = ()
        self._bar_as = None
        self.what.clear()
        self.model = {}

    def _fill_choices(self, b: dict) -> None:
        choices = (("output", None, None),) + tuple(
            (f"layer {l}, unit {k + 1}", l, k) for l, u in sorted(b["units"].items()) for k in range(u.shape[2]))
        if choices != self._choices:
            keep = self.what.currentIndex()
            self._choices = choices
            self.what.clear()
            self.what.addItems([c[0] for c in choices])
            self.what.setCurrentIndex(keep if 0 <= keep < len(choices) else 0)

    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        b = snap.boundary if snap is not None else None
        if b is None:
            self.stack.setCurrentIndex(0)
            self.model = {"shown": None}
            return
        self.stack.setCurrentIndex(1)
        self._fill_choices(b)
        _, layer, unit = self._choices[max(0, self.what.currentIndex())]
        if layer is None:
            shown = b["output"]  # (grid, grid)
            if b["kind"] == "probability":
                levels, cmap, label = (0.0, 1.0), diverging(self), "P(class 1)"
            elif b["kind"] == "class":
                levels, cmap = (0.0, max(1.0, float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0)), \
                    pg.colormap.get("CET-C6")
                label = "predicted class"
            else:
                top = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
                levels, cmap, label = (-max(top, 1e-12), max(top, 1e-12)), diverging(self), "output"
        else:
            shown = b["units"][layer][:, :, unit]  # (grid, grid)
            top = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
            levels, cmap, label = (-max(top, 1e-12), max(top, 1e-12)), diverging(self), "activation"
        x0, x1, y0, y1 = b["extent"]
        self.image.setImage(shown, levels=levels, autoLevels=False)  # row-major: row i is y = y0 + i·dy
        if self._bar_as != (label, levels, cmap.name):  # a new bar axis costs about 1 ms: only on a change
            self._bar_as = (label, levels, cmap.name)
            self.bar.setColorMap(cmap)
            self.bar.setLevels(levels)
            self.bar.axis.setLabel(label)
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        pts, labels = b["points"], b["labels"]
        brushes = [pg.mkBrush(*CLASS_COLOURS[int(c) % len(CLASS_COLOURS)]) for c in labels] \
            if labels is not None else pg.mkBrush(255, 255, 255)
        self.points.setData(pts[:, 0], pts[:, 1], brush=brushes)
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.model = {"shown": shown, "layer": layer, "unit": unit, "levels": levels, "n_points": len(pts),
                      "key": label}
