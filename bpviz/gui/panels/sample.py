"""The sample view: the focused sample's input (the image for MNIST), its target, and
the network's output for it; choosing the focused sample focuses it everywhere."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from bpviz.engine.explain import fmt
from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import style_plot


class SampleView(Panel):
    object_name = "sample"
    title = "Sample"
    area = "left"
    input_edited = Signal(int, object)  # batch row, its new input values

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("focused sample (row of the batch)"))
        self.pick = QSpinBox()
        self.pick.setToolTip("Which sample of the batch every panel follows")
        self.pick.valueChanged.connect(self._picked)
        bar.addWidget(self.pick)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        # small data sets: every sample in a table; image data: the picture
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.DoubleClicked)  # input cells only; see _fill_table
        self.table.itemChanged.connect(self._edited)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.cellClicked.connect(lambda r, _: self.pick.setValue(r))
        lay.addWidget(self.table, 2)
        self.view = pg.GraphicsLayoutWidget()
        style_plot(self, self.view)
        self.img_plot = self.view.addPlot(row=0, col=0)
        self.img_plot.invertY(True)
        self.img_plot.setAspectLocked(True)
        self.img_plot.hideAxis("left")
        self.img_plot.hideAxis("bottom")
        self.img = pg.ImageItem()
        self.img_plot.addItem(self.img)
        self.out_plot = self.view.addPlot(row=0, col=1, title="output")
        self.out_plot.setYRange(0, 1)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=(80, 130, 220))
        self.target_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=None, pen=pg.mkPen((40, 160, 80), width=2))
        self.out_plot.addItem(self.bars)
        self.out_plot.addItem(self.target_bars)
        lay.addWidget(self.view, 3)
        self.model: dict = {}

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
        if x is None:  # before the first step: no batch yet
            self.caption.setText("Press Step: the first batch appears with the first equation.")
            self.model = {}
            return
        m = len(x)
        self.pick.setMaximum(m - 1)
        f = min(self.focus_sample, m - 1)
        out = a.get(f"A{L}")
        row = int(snap.stage.batch_indices[f]) if snap.stage is not None else f
        image = snap.image_shape is not None and x.shape[1] == snap.image_shape[0] * snap.image_shape[1]
        classes = snap.class_names
        target = int(np.argmax(y[f])) if y.shape[1] > 1 else None
        text = f"sample {f} of the batch (data set row {row})"
        if target is not None:
            text += f" · target {target}" + (f" ({classes[target]})" if classes else "")
        if out is not None and out.shape[1] > 1:
            guess = int(np.argmax(out[f]))
            text += f" · predicted {guess}" + (f" ({classes[guess]})" if classes else "") + f" at {out[f, guess]:.1%}"
        elif out is not None:
            text += f" · output {fmt(out[f, 0], 4)} for target {fmt(y[f, 0], 4)}"
        self.caption.setText(text)
        self.model = {"focus": f, "row": row, "output": None if out is None else np.asarray(out[f])}
        self.table.setVisible(not image)
        if image:
            self.img.setImage(np.asarray(x[f]).reshape(snap.image_shape), levels=(0, 1))
            self.img_plot.show()
        else:
            self.img_plot.hide()
            self._fill_table(x, y, out, f)
        if out is not None:
            k = out.shape[1]
            self.bars.setOpts(x=np.arange(k), height=np.asarray(out[f]), width=0.7)
            self.target_bars.setOpts(x=np.arange(k), height=np.asarray(y[f]), width=0.7)
            # class indices on the axis (names would overlap); the caption names the classes
            self.out_plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(k)]])
        else:
            self.bars.setOpts(x=[], height=[])
            self.target_bars.setOpts(x=[], height=[])

    def _fill_table(self, x, y, out, focus) -> None:
        m, n0 = x.shape
        k = y.shape[1]
        heads = [f"x{i}" for i in range(n0)] + [f"y{i}" if k > 1 else "y" for i in range(k)] + \
                ([f"out{i}" if k > 1 else "output" for i in range(k)] if out is not None else [])
        self._n_inputs = n0
        self.table.blockSignals(True)
        self.table.setRowCount(m)
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setVerticalHeaderLabels([str(r) for r in range(m)])  # 0-based, as everywhere
        for r in range(m):
            vals = list(x[r]) + list(y[r]) + (list(out[r]) if out is not None else [])
            for c, v in enumerate(vals):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    self.table.setItem(r, c, item)
                item.setText(f"{v:.4g}" if c < n0 + k else f"{v:.4f}")
                editable = c < n0  # an input can be edited; targets and outputs cannot
                item.setFlags((item.flags() | Qt.ItemIsEditable) if editable else (item.flags() & ~Qt.ItemIsEditable))
                item.setToolTip("double-click to edit this input" if editable else "")
        self.table.blockSignals(False)
        self.table.selectRow(focus)
        self.table.resizeColumnsToContents()

    def _edited(self, item) -> None:
        if item.column() >= getattr(self, "_n_inputs", 0):
            return
        row = item.row()
        try:
            values = [float(self.table.item(row, c).text()) for c in range(self._n_inputs)]
        except ValueError:
            self.caption.setText(f"'{item.text()}' is not a number; the input is unchanged")
            return
        self.input_edited.emit(row, values)
