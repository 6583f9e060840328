"""Weight heatmaps: a layer's W, dL/dW, or the update −α dL/dW, on a symmetric
diverging colour map with a colour bar; hovering names the cell. For a first layer
fed by images, every hidden unit's weights also appear as an image (a montage)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout

from bpviz.engine.explain import fmt, update_of
from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import (ImageItem, diverging, Placeholder, elastic, fill_layer_choice, index_ticks,
                             signed_image_plot, set_bar_levels, steady_limit, style_plot, zoom_plots)

MODES = {"W": "weights W", "dW": "gradient dL/dW", "update": "update −α dL/dW"}


def montage(w: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """Each column of W (n_in = h*w pixels) as an h x w tile, tiles in a near-square
    grid with one-pixel gaps (NaN, drawn transparent). Returns (image, columns)."""
    h, wd = image_shape
    n = w.shape[1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + 1) - 1, cols * (wd + 1) - 1), np.nan)
    tiles = np.asarray(w, dtype=np.float64).T.reshape(n, h, wd)  # (units, h, w)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = tiles[k]
    return out, cols


HINT = "hover: value · double-click: edit"


class HeatmapPanel(Panel):
    object_name = "heatmaps"
    title = "Weights"
    area = "bottom"
    edit_requested = Signal(str, int, int)  # W{l}, i, j: the user double-clicked a weight

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.layer = QComboBox()
        self.layer.setToolTip("Which layer's matrix")
        self.what = QComboBox()
        for k, v in MODES.items():
            self.what.addItem(v, k)
        for w in (self.layer, self.what):
            w.currentIndexChanged.connect(lambda _: self.snapshot is not None and self.redraw())
        bar.addWidget(QLabel("layer"))
        bar.addWidget(self.layer)
        bar.addWidget(self.what)
        self.what.setToolTip("The weights, their gradient, or the update this step applies")
        self.hover = elastic(QLabel(HINT))
        self.hover.setToolTip("Hover a cell to read it; double-click a weight to edit it")
        bar.addWidget(self.hover, 1)
        lay.addLayout(bar)
        split = QSplitter()
        self.view = pg.GraphicsLayoutWidget()
        style_plot(self, self.view)
        self.plot, self.image, self.bar = signed_image_plot(self.view, "input unit k", "unit j")
        # cells an explained number came from (the equations panel's "explain this number")
        self.marks = pg.ScatterPlotItem(symbol="s", size=14, pen=pg.mkPen((255, 170, 0), width=2.5),
                                        brush=None, pxMode=True)
        self.marks.setZValue(10)
        self.plot.addItem(self.marks)
        self._marked: dict[str, list] = {}
        self._limits: dict[tuple, float] = {}  # the colour limit of each (layer, mode) (steady_limit)
        self.image.hoverEvent = self._hover
        self.image.mouseClickEvent = self._click
        self.mont_view = pg.GraphicsLayoutWidget()
        style_plot(self, self.mont_view)
        self.mont_plot = self.mont_view.addPlot()  # no title: every pixel goes to the tiles
        self.mont_view.setToolTip("Each hidden unit's input weights as a 28x28 image, one tile per unit "
                                  "(red +, blue −): what each unit looks for in a picture")
        self.mont_plot.invertY(True)
        self.mont_plot.hideAxis("left")
        self.mont_plot.hideAxis("bottom")
        self.mont_plot.setAspectLocked(True)
        self.mont = ImageItem()
        self.mont.setColorMap(diverging(self))
        self.mont_plot.addItem(self.mont)
        self.place = Placeholder(self.view)
        split.addWidget(self.place.widget)
        split.addWidget(self.mont_view)
        lay.addWidget(split, 1)  # the maps take the height; the bar keeps a line
        self.model: dict = {}
        self._shown: np.ndarray | None = None
        self._name = ""

    def reset_view(self) -> None:
        self.image.clear()
        self.mont.clear()
        self._limits.clear()
        self._marked = {}
        self._shown = None
        self.marks.setData([], [])
        self.hover.setText(HINT)
        self.model = {}

    def set_zoom(self, factor: float) -> None:
        zoom_plots(self, factor)
        self.marks.setSize(14 * factor)

    def _array(self, snap: Snapshot, layer: int, what: str):
        a = snap.arrays
        if what == "W":  # the new weights once U1 has made them
            if f"W{layer}_after" in a:
                return a[f"W{layer}_after"], f"W{layer}_after"
            return a.get(f"W{layer}"), f"W{layer}"
        dw = a.get(f"dW{layer}")
        if dw is None:
            return None, f"dW{layer}"
        if what == "dW":
            return dw, f"dW{layer}"
        return update_of(a, snap.config, layer), f"−α·dW{layer}"

    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        fill_layer_choice(self.layer, snap.config.n_layers)
        layer = self.layer.currentIndex() + 1
        what = self.what.currentData()
        arr, name = self._array(snap, layer, what)
        self._name = name
        if arr is None:
            self.image.clear()
            self.hover.setText(HINT)
            when = "B2 computes it in this step's backward pass" if what == "dW" else \
                "it exists once B2 has computed dL/dW in this step's backward pass"
            self.place.show_note(f"{MODES[what]} of layer {layer} appears here when {when}.")
            self._shown = None
            self.model = {"name": name, "shown": None}
        else:
            self.place.show_content()
            arr = np.asarray(arr)
            lim = steady_limit(self._limits, (layer, what), arr, snap.playing)  # W and W after U1: one limit
            self.image.setImage(arr, levels=(-lim, lim))
            self.image.setRect(QRectF(-0.5, -0.5, arr.shape[1], arr.shape[0]))  # cell (i, j) centred on (j, i)
            index_ticks(self.plot, arr.shape)
            set_bar_levels(self.bar, lim)
            self._shown = arr
            self.model = {"name": name, "shown": arr, "levels": (-lim, lim)}
        self._draw_marks()
        # the montage, for a layer fed by images
        shape = snap.image_shape
        show_mont = (layer == 1 and shape is not None and arr is not None
                     and arr.shape[0] == shape[0] * shape[1])
        self.mont_view.setVisible(bool(show_mont))
        if show_mont:
            img, _ = montage(arr, shape)
            self.mont.setImage(img, levels=(-lim, lim))  # the same values as the image: its colours
            self.model["montage"] = img.shape

    def _hover(self, event) -> None:
        if event.isExit() or self._shown is None:
            return
        p = event.pos()  # in the image's own pixel coordinates, whatever its rect
        i, j = int(np.floor(p.y())), int(np.floor(p.x()))
        a = self._shown
        if 0 <= i < a.shape[0] and 0 <= j < a.shape[1]:
            self.hover.setText(self.describe_cell(i, j))

    def set_marks(self, cells: dict[str, list]) -> None:
        """Outline the cells {array name: [(i, j), ...]} that belong to the matrix shown."""
        self._marked = cells
        self._draw_marks()

    def _draw_marks(self) -> None:
        pts = self._marked.get(self._name, []) if self._shown is not None else []
        self.marks.setData([j for i, j in pts], [i for i, j in pts])
        self.model["marks"] = list(pts)

    def _click(self, event) -> None:
        """Double-click a weight (in the W view) to edit it."""
        if not event.double() or self._shown is None or not self._name.startswith("W") or "_after" in self._name:
            return
        p = event.pos()
        i, j = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= i < self._shown.shape[0] and 0 <= j < self._shown.shape[1]:
            self.edit_requested.emit(self._name, i, j)
            event.accept()

    def describe_cell(self, i: int, j: int) -> str:
        """The hover text of cell (i, j), for tests and for keyboard users: indexed as the
        equations index a weight, W[k, j] (i is a sample there)."""
        return f"{self._name}[k={i}, j={j}] = {fmt(self._shown[i, j], 6)}"
