"""The sample view: the focused sample's input (the image for MNIST), its target, and
the network's output for it; choosing the focused sample focuses it everywhere."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from bpviz.engine.explain import fmt
from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import ImageItem, fix_left_axes, style_plot, zoom_plots
from ..widgets.steady import SteadyText
from ..widgets.tables import NumberTable


def _output_words(out, y, classes) -> str:
    """The caption's end: the network's output for a sample (None: not computed yet)."""
    if out is None:
        return " · the output appears when the forward pass reaches the last layer"
    if len(out) > 1:
        guess = int(np.argmax(out))
        return f" · predicted {guess}" + (f" ({classes[guess]})" if classes else "") + f" at {out[guess]:.1%}"
    return f" · output {fmt(out[0], 4)} for target {fmt(y[0], 4)}"


class SampleView(Panel):
    object_name = "sample"
    title = "Sample"
    area = "left"
    input_edited = Signal(int, object)  # batch row, its new input values

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        focus_label = QLabel("focused sample")
        focus_label.setToolTip("Which sample (row of the batch) every panel follows")
        bar.addWidget(focus_label)
        self.pick = QSpinBox()
        self.pick.setToolTip("Which sample (row of the batch) every panel follows")
        self.pick.valueChanged.connect(self._picked)
        bar.addWidget(self.pick)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.caption = SteadyText()
        lay.addWidget(self.caption)
        # small data sets: every sample in a table; image data: the picture
        self.table = NumberTable()
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked)  # input cells only (show_cells' editable)
        self.table.edited.connect(self._edited)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.cellClicked.connect(lambda r, _: self.pick.setValue(r))
        lay.addWidget(self.table, 2)
        # the image and the output bars side by side, each its own view so a hidden one
        # leaves no empty cell behind
        self.view = QWidget()
        row = QHBoxLayout(self.view)
        row.setContentsMargins(0, 0, 0, 0)
        self._row = row
        self.img_view = pg.GraphicsLayoutWidget()
        style_plot(self, self.img_view)
        self.img_plot = self.img_view.addPlot(row=0, col=0)
        self.img_plot.invertY(True)
        self.img_plot.setAspectLocked(True)
        self.img_plot.hideAxis("left")
        self.img_plot.hideAxis("bottom")
        self.img = ImageItem()
        self.img_plot.addItem(self.img)
        self.out_view = pg.GraphicsLayoutWidget()
        style_plot(self, self.out_view)
        self.out_plot = self.out_view.addPlot(row=0, col=0, title="output")
        self.out_view.setToolTip("Blue bars: the network's output for the focused sample; green outlines: its target")
        row.addWidget(self.img_view, 1)
        row.addWidget(self.out_view, 1)
        self.out_plot.setYRange(0, 1)
        self.out_plot.setMouseEnabled(False, False)
        fix_left_axes([self.out_plot])
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=(80, 130, 220))
        self.target_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=None, pen=pg.mkPen((40, 160, 80), width=2))
        self.out_plot.addItem(self.bars)
        self.out_plot.addItem(self.target_bars)
        lay.addWidget(self.view, 3)
        self._axes_for: int | None = None  # outputs the bar axes were set up for
        self._out_range: tuple | None = None  # the bars axis range last set
        self._room_for: str | None = None  # the caption's start, whose texts its room was reserved for
        self._room_texts: list[str] = []
        self.model: dict = {}
        self._n_inputs = 0

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # a tall narrow dock stacks the image above the bars, so neither is squeezed
        tall = self.width() < 1.1 * self.view.height() or self.width() < 420
        self._row.setDirection(QHBoxLayout.TopToBottom if tall else QHBoxLayout.LeftToRight)
        if event.size().width() != event.oldSize().width() and self._room_for is not None:
            QTimer.singleShot(0, self, lambda: self.caption.reserve(self._room_texts))  # texts wrap anew

    def reset_view(self) -> None:
        self.table.show_cells(np.zeros((0, 0)), [])
        self.img.clear()
        self.bars.setOpts(x=[], height=[])
        self.target_bars.setOpts(x=[], height=[])
        self.out_plot.setYRange(0, 1)
        self._out_range, self._axes_for = None, None
        self._room_for = None
        self.caption.setText("")
        self.model = {}

    def set_zoom(self, factor: float) -> None:
        zoom_plots(self, factor)
        fix_left_axes([self.out_plot], factor)
        self.table.resizeColumnsToContents()  # the text grew: no cell may end in "…"
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 1.5))

    def _picked(self, row: int) -> None:
        if row != self.focus_sample:
            self.focus_requested.emit(row)

    def set_focus_sample(self, row: int) -> None:
        self.pick.blockSignals(True)
        self.pick.setValue(row)
        self.pick.blockSignals(False)
        super().set_focus_sample(row)

    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        a = snap.arrays
        L = snap.config.n_layers
        x = a.get("X")
        y = a.get("Y")
        if x is None:  # no batch to show (a snapshot without one)
            self.caption.setText("The batch's samples, the focused sample's target and the network's "
                                 "output for it appear here once a batch is loaded.")
            self.table.hide()
            self.view.hide()
            self.model = {}
            return
        m = len(x)
        self.pick.setMaximum(m - 1)
        f = min(self.focus_sample, m - 1)
        out = a.get(f"A{L}")
        row = int(snap.batch_indices[f])
        image = snap.image_shape is not None and x.shape[1] == snap.image_shape[0] * snap.image_shape[1]
        classes = snap.class_names
        target = int(np.argmax(y[f])) if y.shape[1] > 1 else None
        base = f"sample {f} of the batch (data set row {row})"
        if target is not None:
            base += f" · target {target}" + (f" ({classes[target]})" if classes else "")
        text = base + _output_words(None if out is None else out[f], y[f], classes)
        self.caption.setText(text)
        if snap.playing:
            self._room_for = None  # held steady while playing; fitted again at the pause
        elif base != self._room_for:
            # room for this sample's caption at every stage of the step, with its output and
            # without: the image and the bars under it stay put from one Step to the next
            self._room_for = base
            k = y.shape[1]
            widest = max(range(k), key=lambda c: len(classes[c])) if classes and len(classes) == k else 0
            self._room_texts = [base + _output_words(None, y[f], classes),  # with the text shown
                                base + _output_words(np.eye(k)[widest], y[f], classes)]
            self.caption.reserve(self._room_texts)
        self.model = {"focus": f, "row": row, "output": None if out is None else np.asarray(out[f])}
        self.table.setVisible(not image)
        if image:
            self.img.setImage(np.asarray(x[f]).reshape(snap.image_shape), levels=(0, 1))
            self.img_view.show()
        else:
            self.img_view.hide()
            self._fill_table(x, y, out, f)
        # the target from the start, the output bars once computed: the plot is there at every
        # stage, so nothing moves when the forward pass reaches the last layer
        self.view.show()
        k = y.shape[1]
        heights = np.zeros(0) if out is None else \
            np.nan_to_num(np.asarray(out[f], dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)  # (k,) or (0,)
        self.bars.setOpts(x=np.arange(len(heights)), height=heights, width=0.7)
        # 0-1 unless an output leaves it (a diverged or identity output): then all of it
        lo = min(0.0, float(heights.min(initial=0.0)), float(np.min(y[f])))
        hi = max(1.0, float(heights.max(initial=1.0)), float(np.max(y[f])))
        if self._out_range != (lo, hi):  # the axis is redrawn only when its range changes
            self.out_plot.setYRange(lo, hi, padding=0.02)
            self._out_range = (lo, hi)
        self.model["out_range"] = (lo, hi)
        self.target_bars.setOpts(x=np.arange(k), height=np.asarray(y[f]), width=0.7)
        if self._axes_for != k:
            # class indices on the axis (names would overlap); the caption names the classes
            self.out_plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(k)]])
            self._axes_for = k

    def _fill_table(self, x, y, out, focus) -> None:
        n0 = self._n_inputs = x.shape[1]
        k = y.shape[1]
        heads = [f"x{i}" for i in range(n0)] + [f"y{i}" if k > 1 else "y" for i in range(k)] + \
                ([f"out{i}" if k > 1 else "output" for i in range(k)] if out is not None else [])
        values = np.hstack([x, y] + ([out] if out is not None else []))  # (m, n0 + k [+ k])
        # fmt switches to scientific notation for huge or tiny values (a diverged output)
        texts = [[f"{v:.4g}" if c < n0 + k else fmt(v, 4) for c, v in enumerate(row)] for row in values.tolist()]
        self.table.show_cells(values, texts, heads, editable=n0)  # an input can be edited; targets and outputs cannot
        if not self.table.selectionModel().isRowSelected(focus):
            self.table.selectRow(focus)

    def _edited(self, row: int, column: int, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            self.caption.setText(f"'{text}' is not a number; the input is unchanged")
            return
        values = self.table.values[row, :self._n_inputs].tolist()  # the exact inputs, not their 4-digit texts
        values[column] = value
        self.input_edited.emit(row, values)
