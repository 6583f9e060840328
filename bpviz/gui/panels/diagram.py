"""The network diagram: nodes coloured by the focused sample's activation (or delta
going backward), edges coloured and sized by weight, gradient or update, and the
layer the current equation works on lit, with its direction.

Edges are drawn as a few batched curves (one per colour and width bucket), never one
item per edge; a 784-input layer is drawn as the 28x28 image of the focused sample,
its strongest edges leaving from their pixels. A layer of more than ALL_EDGES_UP_TO edges
shows its MAX_EDGES_PER_LAYER strongest, and the line above the diagram says so."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QGraphicsRectItem, QHBoxLayout, QLabel, QVBoxLayout

from bpviz.engine.equations import equation_title, lit_layers
from bpviz.engine.sources import plain_words
from bpviz.engine.explain import update_of
from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import ImageItem, diverging, color_level, strongest, style_plot, symmetric_limit, zoom_plots
from ..widgets.steady import SteadyText

MAX_EDGES_PER_LAYER = 256  # a layer with more than ALL_EDGES_UP_TO edges shows only its strongest
# 8 -> 8 or 16 -> 10 is drawn in full; 128 -> 10 (1,280 edges, a hairball that took 6 of the
# 11 ms of a frame's painting at 1366x768) and 784 -> 128 (100,352) show their strongest 256
ALL_EDGES_UP_TO = 512
COLOR_LEVELS = 17
NOTE_TIP = ("Edges of a layer whose gradient this step has not computed yet are not drawn; a layer of more "
            f"than {ALL_EDGES_UP_TO} edges shows its {MAX_EDGES_PER_LAYER} largest in magnitude")
WIDTHS = (1, 2, 3)  # whole pixels: lines without antialiasing stay crisp
UNIT_MAP_PX = 34  # a hidden node's map of the input plane, in screen pixels at zoom 1
UNIT_MAP_STEP = 4  # every 4th point of the run model's 64x64 grid: 16x16 is enough at that size
MAX_UNIT_MAPS = 64  # more maps than this would be too small to read
IMAGE_BOX = (-0.42, 0.15, 0.84, 0.7)  # x, y, width, height an image input may fill at most


class EdgesItem(pg.GraphicsObject):
    """All edges in one item: each (colour, width) bucket is one QPainter.drawLines
    call, which is far cheaper than an antialiased path of many segments."""

    def __init__(self):
        super().__init__()
        self._groups: list[tuple[QPen, np.ndarray]] = []
        self._rect = QRectF()
        # QLineF arrays over NumPy memory, one per group: drawLines reads them without a
        # Python object per line (pyqtgraph's own curves draw through these)
        self._lines: list[PrimitiveArray] = []

    def set_groups(self, groups: list[tuple[QPen, np.ndarray]]) -> None:
        """groups: (pen, (k, 4) array of x0, y0, x1, y1) in view coordinates."""
        self.prepareGeometryChange()
        self._groups = groups
        if groups:
            allseg = np.concatenate([seg for _, seg in groups])
            xs, ys = allseg[:, [0, 2]], allseg[:, [1, 3]]
            self._rect = QRectF(xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min())
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p, *args) -> None:
        # Lines under the view's non-uniform scale take Qt's slow stroking path (60 ms a
        # frame for 1,500 edges): map the ends to device pixels here and draw unscaled.
        t = p.transform()
        p.resetTransform()
        p.setRenderHint(QPainter.Antialiasing, False)
        while len(self._lines) < len(self._groups):
            self._lines.append(PrimitiveArray(QLineF, 4))
        for (pen, seg), lines in zip(self._groups, self._lines):
            lines.resize(len(seg))
            out = lines.ndarray()  # (k, 4): x0, y0, x1, y1 in device pixels
            out[:, 0::2] = t.m11() * seg[:, 0::2] + t.m21() * seg[:, 1::2] + t.dx()
            out[:, 1::2] = t.m12() * seg[:, 0::2] + t.m22() * seg[:, 1::2] + t.dy()
            p.setPen(pen)
            p.drawLines(*lines.drawargs())
        p.setTransform(t)


class NodesItem(pg.GraphicsObject):
    """Every node in one item: a disc of a fixed size in pixels, coloured by its level.
    Each (level, diameter) disc is drawn once into an atlas, and a frame is one
    drawPixmapFragments call (a ScatterPlotItem made a brush object per point in Python,
    3 ms a frame for 138 nodes; a drawEllipse per node still cost 1.5 ms)."""

    def __init__(self):
        super().__init__()
        self._x = self._y = self._size = np.zeros(0)
        self._level = np.zeros(0, dtype=int)
        self._brushes: list[QBrush] = []
        self._pen = QPen()
        self._rect = QRectF()
        self._atlas: QPixmap | None = None
        self._atlas_key = None
        self._source = np.zeros((0, 0, 4))  # (diameter index, level, 4): x, y, w, h in the atlas
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)

    def set_nodes(self, x, y, level, size_px, brushes, pen) -> None:
        """x, y: (n,) view coordinates; level: (n,) index into brushes; size_px: (n,) diameters."""
        self.prepareGeometryChange()
        self._x, self._y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self._level, self._size = np.asarray(level, dtype=int), np.asarray(size_px, dtype=float)
        self._brushes, self._pen = brushes, pen
        self._rect = QRectF(self._x.min(), self._y.min(), np.ptp(self._x), np.ptp(self._y)) if len(self._x) else QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        # the discs reach beyond the centres by a few pixels, whatever the scale
        px = self.pixelLength(pg.Point(1, 0)) or 0.0
        py = self.pixelLength(pg.Point(0, 1)) or 0.0
        r = float(self._size.max(initial=0)) / 2 + 2
        return self._rect.adjusted(-r * px, -r * py, r * px, r * py)

    def _draw_atlas(self, diameters: np.ndarray, dpr: float) -> None:
        """One row of discs per diameter, one column per level, at the screen's density."""
        key = (tuple(diameters.tolist()), dpr, tuple(b.color().rgba() for b in self._brushes),
               self._pen.color().rgba(), self._pen.widthF())
        if key == self._atlas_key:
            return
        cell = int(np.ceil((diameters.max() + self._pen.widthF() + 2) * dpr))  # one disc with its outline
        atlas = QPixmap(cell * max(1, len(self._brushes)), cell * len(diameters))
        atlas.fill(Qt.transparent)
        q = QPainter(atlas)
        q.setRenderHint(QPainter.Antialiasing, True)
        q.setPen(QPen(self._pen.color(), self._pen.widthF() * dpr))
        source = np.zeros((len(diameters), len(self._brushes), 4))
        for i, d in enumerate(diameters.tolist()):
            for lv, brush in enumerate(self._brushes):
                q.setBrush(brush)
                q.drawEllipse(QPointF((lv + 0.5) * cell, (i + 0.5) * cell), d * dpr / 2, d * dpr / 2)
                source[i, lv] = (lv * cell, i * cell, cell, cell)
        q.end()
        self._atlas, self._atlas_key, self._source = atlas, key, source

    def paint(self, p, option=None, widget=None) -> None:
        if not len(self._x):
            return
        t = p.transform()
        if self._exportOpts is not False:  # into a file: discs as shapes (an SVG took the whole atlas per node)
            p.resetTransform()
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setPen(self._pen)
            for x, y, d, lv in zip(self._x.tolist(), self._y.tolist(), self._size.tolist(), self._level.tolist()):
                p.setBrush(self._brushes[lv])
                p.drawEllipse(t.map(QPointF(x, y)), d / 2, d / 2)
            p.setTransform(t)
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        diameters, which = np.unique(self._size, return_inverse=True)
        self._draw_atlas(diameters, dpr)
        self._fragments.resize(len(self._x))
        f = self._fragments.ndarray()  # (n, 10): centre x, y, source x, y, w, h, scale x, y, rotation, opacity
        f[:, 0] = t.m11() * self._x + t.m21() * self._y + t.dx()  # device pixels
        f[:, 1] = t.m12() * self._x + t.m22() * self._y + t.dy()
        f[:, 2:6] = self._source[which.ravel(), self._level]
        f[:, 6:10] = (1 / dpr, 1 / dpr, 0.0, 1.0)
        p.resetTransform()
        p.drawPixmapFragments(*self._fragments.drawargs(), self._atlas)
        p.setTransform(t)


class DiagramPanel(Panel):
    object_name = "diagram"
    title = "Network"
    area = "top"

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("edges show"))
        self.mode = QComboBox()
        self.mode.addItems(["weights", "gradients", "updates"])
        self.mode.setToolTip("Colour and width of each edge: W, dL/dW, or the update −α dL/dW")
        self.mode.currentIndexChanged.connect(lambda _: self.snapshot is not None and self.redraw())
        bar.addWidget(self.mode)
        self.note = SteadyText(elide=True)  # set every frame: no layout pass per text
        bar.addWidget(self.note, 1)
        self.note.setToolTip(NOTE_TIP)
        legend = QLabel("nodes: the focused sample's activation (its Δ in the backward pass and the update) · "
                        "edges: red + / blue −, wider = larger")
        legend.setWordWrap(True)
        legend.setToolTip("Node colour: the focused sample's activation A, or its delta Δ during the backward "
                          "pass and the update, red positive, blue negative, scaled per layer.\nEdge colour: the weight (or "
                          "gradient, or update), red positive, blue negative; wider and stronger = larger.")
        self.legend = legend
        lay.addLayout(bar)
        lay.addWidget(legend)
        self.plot = pg.PlotWidget()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        style_plot(self, self.plot)
        lay.addWidget(self.plot, 1)  # the network takes the height; the bar and legend keep their lines
        vb = self.plot.getViewBox()
        self.highlight = QGraphicsRectItem()
        self.highlight.setBrush(QBrush(QColor(255, 200, 0, 60)))
        self.highlight.setPen(QPen(Qt.NoPen))
        self.highlight.setZValue(-10)
        vb.addItem(self.highlight)
        self._unit_maps: list = []
        self.image = ImageItem()
        self.image.setZValue(5)  # above the edges: the digit stays readable, edges leave its border
        vb.addItem(self.image)
        self.edges = EdgesItem()
        vb.addItem(self.edges)
        self.nodes = NodesItem()
        self.nodes.setZValue(10)
        vb.addItem(self.nodes)
        self.labels: list[pg.TextItem] = []
        self.arrow = pg.TextItem(anchor=(0.5, 1.0))
        vb.addItem(self.arrow)
        # what an explained number came from: rings on nodes, a bright line on each weight
        self.mark_nodes = pg.ScatterPlotItem(symbol="o", size=22, pen=pg.mkPen((255, 170, 0), width=3),
                                             brush=None, pxMode=True)
        self.mark_nodes.setZValue(12)
        vb.addItem(self.mark_nodes)
        self.mark_edges = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen((255, 170, 0), width=3))
        self.mark_edges.setZValue(11)
        vb.addItem(self.mark_edges)
        self._marked: dict[str, list] = {}
        self._pos = None
        self._layout_key = None
        self._arrow_key = None
        self._node_pen = pg.mkPen(self.palette().text().color(), width=0.6)
        self._zoom = 1.0
        self._cmap = diverging(self)
        self._node_brushes = [pg.mkBrush(*c) for c in self._cmap.map(np.linspace(0, 1, COLOR_LEVELS), mode="byte")]
        self.model: dict = {}

    def reset_view(self) -> None:
        self._marked = {}
        self.mark_nodes.setData([], [])
        self.mark_edges.setData([], [])
        self.edges.set_groups([])
        self.image.clear()
        self._layout_key = None
        self._arrow_key = None
        self._pos = None
        self.model = {}

    def set_zoom(self, factor: float) -> None:
        from PySide6.QtGui import QFont
        self._zoom = factor
        zoom_plots(self, factor)
        font = QFont()
        font.setPointSizeF(9 * factor)
        for t in self.labels + [self.arrow]:
            t.setFont(font)
        self.mark_nodes.setSize(22 * factor)
        self._node_pen = pg.mkPen(self.palette().text().color(), width=0.6 * factor)
        if self.snapshot is not None:
            self.redraw()

    def _image_box(self, image_shape) -> tuple[float, float, float, float]:
        """The largest box inside IMAGE_BOX whose pixels are square on screen (the view
        scales x and y differently)."""
        bx, by, bw, bh = IMAGE_BOX
        sx, sy = self.plot.getViewBox().viewPixelSize()  # view units per screen pixel
        if not (sx > 0 and sy > 0):
            return IMAGE_BOX
        h, w = image_shape
        # width in screen pixels if the full height is used, and the reverse
        w_units = min(bw, bh / sy * (w / h) * sx)
        h_units = w_units / sx * (h / w) * sy
        return (bx + (bw - w_units) / 2, by + (bh - h_units) / 2, w_units, h_units)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.snapshot is not None and (self.snapshot.image_shape is not None or self.snapshot.boundary is not None):
            self.redraw()  # square image pixels and unit maps depend on the panel's shape

    def set_marks(self, cells: dict[str, list]) -> None:
        """Mark what an explained number came from: {array name: [index, ...]} in the
        engine's row form. Activations, pre-activations and deltas of the focused sample
        mark their nodes; weights mark their edges."""
        self._marked = cells
        if self.snapshot is not None:
            self._draw_marks()

    def _draw_marks(self) -> None:
        pos, focus = self._pos, self.model.get("focus", 0)
        nx, ny, ex, ey = [], [], [], []
        for name, cells in self._marked.items():
            core = name.rstrip("0123456789")
            layer = int(name[len(core):]) if name[len(core):] else 0
            if pos is None or layer >= len(pos) + (1 if core in ("W", "dW") else 0):
                continue
            for ix in cells:
                if core in ("A", "Z", "Delta", "dA") and len(ix) == 2 and ix[0] == focus:
                    nx.append(pos[layer][0][ix[1]])
                    ny.append(pos[layer][1][ix[1]])
                elif core in ("W", "dW") and len(ix) == 2 and 1 <= layer < len(pos):
                    i, j = ix
                    ex += [pos[layer - 1][0][i], pos[layer][0][j]]
                    ey += [pos[layer - 1][1][i], pos[layer][1][j]]
        if nx or self.mark_nodes.isVisible():
            self.mark_nodes.setData(nx, ny)
        if ex or self.mark_edges.isVisible():
            self.mark_edges.setData(np.array(ex, dtype=float), np.array(ey, dtype=float))
        self.mark_nodes.setVisible(bool(nx))  # empty items still cost a paint every frame
        self.mark_edges.setVisible(bool(ex))
        self.model["marks"] = {"nodes": len(nx), "edges": len(ex) // 2}

    def _draw_unit_maps(self, snap: Snapshot, pos) -> None:
        """Two inputs: on each hidden node, that unit's activation over the input plane
        (the run model's maps, every UNIT_MAP_STEP-th grid point), as TensorFlow Playground
        shows it. Hidden when there is no plane or too many units to read."""
        b = snap.boundary
        units = [] if b is None else [(l, k) for l in sorted(b["units"]) for k in range(b["units"][l].shape[2])]
        if len(units) > MAX_UNIT_MAPS:
            units = []
        while len(self._unit_maps) < len(units):
            item = ImageItem()
            item.setZValue(6)  # above the nodes they stand for
            item.setLookupTable(self._cmap.getLookupTable(nPts=256))
            self.plot.getViewBox().addItem(item)
            self._unit_maps.append(item)
        sx, sy = self.plot.getViewBox().viewPixelSize()  # view units per screen pixel
        for item, (l, k) in zip(self._unit_maps, units):
            a = b["units"][l][::UNIT_MAP_STEP, ::UNIT_MAP_STEP, k]  # (16, 16) of (64, 64)
            top = float(np.nanmax(np.abs(a))) if np.isfinite(a).any() else 1.0
            item.setImage(a, levels=(-max(top, 1e-12), max(top, 1e-12)))
            n = len(pos[l][1])
            gap_px = (0.92 / max(n - 1, 1)) / sy if sy > 0 else 30  # between two nodes of the layer
            side = min(UNIT_MAP_PX * self._zoom, 0.9 * gap_px)
            w, h = side * sx, side * sy
            x, y = pos[l][0][k], pos[l][1][k]
            item.setRect(QRectF(x - w / 2, y - h / 2, w, h))  # the plane's y grows upward, as the view's
            item.show()
        for item in self._unit_maps[len(units):]:
            item.hide()
        self.model["unit_maps"] = len(units)

    # -- geometry -----------------------------------------------------------------------
    def _positions(self, sizes, image_shape):
        """(x, y) of every node, per layer; an image input gets its pixels' positions."""
        pos = []
        for l, n in enumerate(sizes):
            if l == 0 and image_shape is not None and n == image_shape[0] * image_shape[1]:
                h, w = image_shape
                bx, by, bw, bh = self._image_box(image_shape)
                r, c = np.divmod(np.arange(n), w)
                pos.append((bx + (c + 0.5) / w * bw, by + bh - (r + 0.5) / h * bh))
            else:
                ys = np.linspace(0.04, 0.96, n) if n > 1 else np.array([0.5])
                pos.append((np.full(n, float(l)), ys[::-1].copy()))
        return pos

    # -- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        cfg = snap.config
        arrays = snap.arrays
        stage = snap.stage
        sizes = cfg.sizes
        image_shape = snap.image_shape
        image_input = image_shape is not None and sizes[0] == image_shape[0] * image_shape[1]
        key = (cfg.sizes, cfg.hidden, cfg.output_loss, snap.image_shape)
        if key != self._layout_key:  # labels and the view's range change only with the network
            self._layout_key = key
            self._draw_labels(cfg, snap)
            # before any position: the image box keeps its pixels square at this range
            self.plot.getViewBox().setRange(xRange=(-0.55, len(sizes) - 0.45), yRange=(-0.12, 1.18), padding=0)
        pos = self._positions(sizes, image_shape if image_input else None)
        self._pos = pos
        focus = min(self.focus_sample, len(arrays["X"]) - 1) if "X" in arrays else 0

        # edges
        mode = self.mode.currentText()
        self.model = {"mode": mode, "edges": {}, "node_values": {}, "focus": focus}
        segs_x, segs_y, vals = [], [], []
        missing = []
        for l in range(1, len(sizes)):
            w = arrays.get(f"W{l}_after", arrays.get(f"W{l}"))  # the new weights once U1 made them
            if mode == "gradients":
                w = arrays.get(f"dW{l}")
            elif mode == "updates":
                w = update_of(arrays, cfg, l)
            if w is None:
                missing.append(l)
                self.model["edges"][l] = 0
                continue
            pick = strongest(w, MAX_EDGES_PER_LAYER if w.size > ALL_EDGES_UP_TO else w.size)
            i, j = np.unravel_index(pick, w.shape)
            x0, y0 = pos[l - 1][0][i], pos[l - 1][1][i]
            x1, y1 = pos[l][0][j], pos[l][1][j]
            segs_x.append(np.stack([x0, x1], 1).ravel())  # (2k,) pairs
            segs_y.append(np.stack([y0, y1], 1).ravel())
            vals.append(np.asarray(w).ravel()[pick])
            self.model["edges"][l] = len(pick)
        capped = [l for l, k in self.model["edges"].items() if 0 < k < sizes[l - 1] * sizes[l]]
        notes = [f"{mode} of layer {', '.join(map(str, missing))} not computed yet in this step"] if missing else []
        if capped:
            notes.append(f"layer{'s' if len(capped) > 1 else ''} {', '.join(map(str, capped))}: "
                         f"{MAX_EDGES_PER_LAYER} largest edges")
        self.note.setText(" · ".join(notes))
        self.note.setToolTip("\n".join(notes + [f"layer {l}: the {self.model['edges'][l]:,} largest of "
                                                 f"{sizes[l - 1] * sizes[l]:,} edges" for l in capped] + [NOTE_TIP]))
        self._draw_edges(segs_x, segs_y, vals)

        # nodes: activation going forward, delta going backward
        backward = stage is not None and stage.phase in ("backward", "update")
        xs, ys, brushes, sizes_px = [], [], [], []
        for l, n in enumerate(sizes):
            if l == 0 and image_input:
                continue
            key = f"Delta{l}" if backward and f"Delta{l}" in arrays else ("X" if l == 0 else f"A{l}")
            a = arrays.get(key)
            v = np.zeros(n) if a is None else np.asarray(a[focus], dtype=np.float64)  # (n,)
            self.model["node_values"][l] = (key if a is not None else None, v)
            lim = symmetric_limit(v)
            # a few colour levels: one brush change per level when painting
            level = color_level(v, lim, COLOR_LEVELS)  # (n,)
            xs.append(pos[l][0])
            ys.append(pos[l][1])
            brushes.append(level)
            sizes_px.append(np.full(n, (14.0 if n <= 16 else (8.0 if n <= 64 else 4.0)) * self._zoom))
        self.nodes.set_nodes(np.concatenate(xs), np.concatenate(ys), np.concatenate(brushes), np.concatenate(sizes_px),
                             self._node_brushes, self._node_pen)

        self._draw_unit_maps(snap, pos)

        # an image input: the focused sample itself
        if image_input and "X" in arrays:
            self.image.setImage(np.asarray(arrays["X"][focus]).reshape(image_shape), levels=(0, 1))
            bx, by, bw, bh = self._image_box(image_shape)
            # the view's y grows upward: a rectangle of negative height puts row 0 at the top,
            # where the pixel nodes the edges leave from are
            self.image.setRect(QRectF(bx, by + bh, bw, -bh))
            self.image.show()
        else:
            self.image.hide()

        # what the current equation works on (a layer's weights, or its nodes), and its direction
        if stage is not None:
            l = stage.layer
            first, last = lit_layers(stage.eq, l)
            self.highlight.setRect(QRectF(first - 0.08, -0.02, last - first + 0.16, 1.04))
            self.highlight.show()
            arrow = {"forward": "→", "loss": "L", "backward": "←", "update": "↻"}[stage.phase]
            title = plain_words(equation_title(stage.eq, l))
            text = f"{arrow} {stage.eq}: {title}"
            if (text, len(sizes)) != self._arrow_key:  # a text item lays itself out again at every setText
                self._arrow_key = (text, len(sizes))
                self.arrow.setText(text, color=self.palette().text().color())
                x, x0, x1 = (first + last) / 2, -0.55, len(sizes) - 0.45
                self.arrow.setAnchor(((x - x0) / (x1 - x0), 1.0))  # a long title stays inside the view
                self.arrow.setPos(x, 1.1)
            self.model["highlight"] = (l, stage.phase)
            self.model["lit"] = (first, last)
        else:
            self.highlight.hide()
            if self._arrow_key is not None:
                self.arrow.setText("")
                self._arrow_key = None
            self.model["highlight"] = None
        self._draw_marks()

    def _draw_edges(self, segs_x, segs_y, vals) -> None:
        groups = []
        if vals:
            x, y, v = np.concatenate(segs_x), np.concatenate(segs_y), np.concatenate(vals)
            seg = np.stack([x[0::2], y[0::2], x[1::2], y[1::2]], 1)  # (k, 4)
            lim = symmetric_limit(v)
            level = color_level(v, lim, COLOR_LEVELS)  # (k,)
            width = np.minimum((np.abs(v) / lim * len(WIDTHS)).astype(int), len(WIDTHS) - 1)
            colors = self._cmap.map(np.linspace(0, 1, COLOR_LEVELS), mode="byte")
            bg = self.plot.backgroundBrush().color()
            bg_rgb = np.array([bg.red(), bg.green(), bg.blue()], dtype=float)
            bucket = level * len(WIDTHS) + width
            centre = (COLOR_LEVELS - 1) / 2
            # weakest first, so the strongest edges of either sign are painted on top
            order = sorted(np.unique(bucket).tolist(), key=lambda b: (b % len(WIDTHS), abs(b // len(WIDTHS) - centre)))
            for b in order:
                lv, wd = divmod(int(b), len(WIDTHS))
                # weak edges fade into the background; blended here, so the pen is opaque
                # (a translucent pen draws 25x slower: 77 ms against 3 ms for 1,536 lines)
                a = (90 + 55 * wd) / 255
                rgb = (1 - a) * bg_rgb + a * np.asarray(colors[lv][:3], dtype=float)
                pen = QPen(QColor(*(int(round(v)) for v in rgb)))
                # a pen of exactly 1 px takes Qt's thin-line path, twice as slow here for the
                # same pixels (4 of 229,500 differ in Learn's diagram) as a hair wider
                pen.setWidthF(WIDTHS[wd] + 1e-4)
                groups.append((pen, seg[bucket == b]))
        self.edges.set_groups(groups)
        self.model["edge_items"] = len(groups)

    def _draw_labels(self, cfg, snap) -> None:
        names = [("input" if snap.image_shape is None else "input image")] + \
                [cfg.hidden] * (cfg.n_layers - 1) + [cfg.output_loss.split("-")[0]]
        vb = self.plot.getViewBox()
        while len(self.labels) < len(cfg.sizes):
            t = pg.TextItem(anchor=(0.5, 0.0))
            f = t.textItem.font()
            f.setPointSizeF(9 * self._zoom)
            t.setFont(f)
            vb.addItem(t)
            self.labels.append(t)
        for l, (n, name) in enumerate(zip(cfg.sizes, names)):
            t = self.labels[l]
            t.setText(f"{'A(0)' if l == 0 else f'layer {l}'}\n{n} · {name}", color=self.palette().text().color())
            t.setPos(l, -0.01)
            t.show()
        for t in self.labels[len(cfg.sizes):]:
            t.hide()
