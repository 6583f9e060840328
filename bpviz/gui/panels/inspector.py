"""The delta / gradient inspector: for a chosen layer, Delta over the batch (samples x
units), a histogram of its weight gradient, and per layer over time the gradient RMS,
the update-to-weight ratio and the share of dead or saturated units."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from bpviz.engine.snapshot import Snapshot
from bpviz.engine.stats import known_figures

from .base import Panel
from ..widgets.plots import (FIRST_STEPS, KEEP_ON_NEW_RANGE, CountAxis, Drawn, MatrixFrame, NextPoint, Placeholder,
                             PowerAxis, SteadyRange, StepAxis, drawn_padding, fill_layer_choice, fix_left_axes,
                             index_ticks, series_key, settle, set_bar_levels, signed_image_plot, steady_limit,
                             style_plot, zoom_plots)
from ..widgets.steady import SteadyText

NOW_EMPTY = ("Δ of this layer over the batch and a histogram of its dL/dW appear here when the "
             "backward pass reaches the layer (B1 or B5, then B2).")
TIME_EMPTY = ("Per layer over the steps: the gradient's RMS, the update/weight ratio and the share of "
              "dead or saturated units, drawn here once the first step has ended.")
LAYER_COLORS = [(80, 130, 220), (220, 90, 40), (40, 160, 80), (160, 60, 170), (120, 120, 120)]


def layer_color(layer: int) -> tuple[int, int, int]:
    return LAYER_COLORS[(layer - 1) % len(LAYER_COLORS)]


class InspectorPanel(Panel):
    object_name = "inspector"
    title = "Deltas and gradients"
    area = "bottom"

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("layer"))
        self.layer = QComboBox()
        self.layer.setToolTip("Which layer's Δ and dL/dW the top row shows")
        self.layer.currentIndexChanged.connect(lambda _: self.snapshot is not None and self.redraw())
        bar.addWidget(self.layer)
        self.info = SteadyText(elide=True)  # set every frame: no layout pass per text
        bar.addWidget(self.info, 1)
        lay.addLayout(bar)
        self.view = pg.GraphicsLayoutWidget()
        style_plot(self, self.view)
        self.time_view = pg.GraphicsLayoutWidget()
        style_plot(self, self.time_view)
        self.time_place = Placeholder(self.time_view, TIME_EMPTY, follow_ranges=True)
        self.delta_plot, self.delta_img, self.delta_bar = signed_image_plot(
            self.view, "sample", "unit", "Δ (samples × units)", row=0, col=0, bar_width=12)
        self.delta_frame = MatrixFrame(self.delta_plot)  # Δ's shape is known before Δ
        self.now_place = Placeholder(self.view, NOW_EMPTY, follow_ranges=(self.delta_plot,))
        lay.addWidget(self.now_place.widget, 1)
        lay.addWidget(self.time_place.widget, 1)
        self.hist_plot = self.view.addPlot(row=0, col=1, title="dL/dW histogram",
                                           axisItems={"left": CountAxis("left")})
        # its edges are all upright or level: drawn crisp, without antialiasing, 3x faster (0.2
        # against 0.7 ms a paint at the Debug layout's size)
        self.hist = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=(80, 130, 220, 120),
                                    pen=pg.mkPen((80, 130, 220)), antialias=False, **KEEP_ON_NEW_RANGE)
        self.hist_plot.addItem(self.hist)
        # RMS and ratio span decades: drawn as log10, labelled with the values
        # one key over the three: a layer has one colour in all of them (in each title, it
        # pushed the plots past the panel at zoom 1.5)
        self.time_key = self.time_view.addLabel(" ", row=0, col=0, colspan=3)
        self.rms_plot = self.time_view.addPlot(row=1, col=0, title="grad RMS",
                                               axisItems={"left": PowerAxis("left"), "bottom": StepAxis("bottom")})
        self.ratio_plot = self.time_view.addPlot(row=1, col=1, title="update/weight",
                                                 axisItems={"left": PowerAxis("left"), "bottom": StepAxis("bottom")})
        self.dead_plot = self.time_view.addPlot(row=1, col=2, title="dead/saturated",
                                                axisItems={"bottom": StepAxis("bottom")})
        self.dead_plot.setYRange(0, 1)
        self._history_plots = {"grad_rms": self.rms_plot, "update_ratio": self.ratio_plot,
                               "inactive_share": self.dead_plot}
        for p in self._history_plots.values():
            p.setLabel("bottom", "step")  # step k at k, as the loss plot
        fix_left_axes(self._plots())
        # their ranges move in steps, not with every frame's new step and histogram
        # (a histogram's ends jump 2-4x from one batch to the next: kept while it fills a quarter)
        self._steady = [SteadyRange(self.hist_plot, fill=0.25, fit_paused=True)] + \
            [SteadyRange(p, min_x_span=FIRST_STEPS) for p in (self.rms_plot, self.ratio_plot, self.dead_plot)]
        # the step's figures, known from its B2 / F2 / U1 on, are the points its end adds
        self._next = {key: NextPoint(p) for key, p in self._history_plots.items()}
        self._curves: dict[tuple[str, int], pg.PlotDataItem] = {}
        self._limits: dict[int, float] = {}  # each layer's colour limit (steady_limit)
        # a paused Step changes a layer's Δ once (B1, or B5 for a hidden layer), its dL/dW
        # once (B2) and the figures over time at its end: the rest stays as drawn, unpainted
        self._drawn = Drawn()
        self._hist_total = 0  # how many entries the drawn histogram counts
        self.model: dict = {}
        self._zoom = 1.0
        self.now_place.show_note(NOW_EMPTY)
        self.time_place.show_note(TIME_EMPTY)

    def reset_view(self) -> None:
        for (key, _), c in self._curves.items():
            self._history_plots[key].removeItem(c)  # from its view box, its legend and the plot's own list
        self._curves.clear()
        self._drawn.clear()
        self._hist_total = 0
        self.delta_img.clear()
        self.delta_frame.expect(None)
        self._limits.clear()
        self.hist.setData([], [])
        for p in (self.hist_plot, self.rms_plot, self.ratio_plot):
            p.enableAutoRange()
        self.dead_plot.enableAutoRange(x=True)
        for steady in self._steady:
            steady.forget()
        for nxt in self._next.values():
            nxt.expect(None)
        self.info.setText("")
        self.now_place.show_note(NOW_EMPTY)
        self.time_place.show_note(TIME_EMPTY)
        self.model = {}

    def _plots(self) -> tuple:
        return self.delta_plot, self.hist_plot, self.rms_plot, self.ratio_plot, self.dead_plot

    def set_zoom(self, factor: float) -> None:
        self._zoom = factor
        zoom_plots(self, factor)
        fix_left_axes(self._plots(), factor)

    def _curve(self, plot, key: str, layer: int) -> pg.PlotDataItem:
        c = self._curves.get((key, layer))
        if c is None:
            color = layer_color(layer)
            # 1 px at the normal size: Qt draws a wider antialiased line 20x slower (1.8 against
            # 0.08 ms for 800 points), and these change every frame
            c = plot.plot(pen=pg.mkPen(color, width=1.0 * self._zoom), symbolBrush=color, symbolPen=color,
                          symbolSize=5, **KEEP_ON_NEW_RANGE)
            c._zoom_base_width = 1.0
            self._curves[(key, layer)] = c
        return c

    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        L = snap.config.n_layers
        if self.layer.count() != L:  # a new network: its layers, and no curves of the old one
            self.reset_view()
        fill_layer_choice(self.layer, L, select_last=True)
        if not self._curves:  # made ahead, with their keys: 10 ms less when the first step ends
            for key, layer in known_figures(L, snap.config.hidden):
                self._curve(self._history_plots[key], key, layer)
            self.time_key.setText(series_key([(f"layer {l}", layer_color(l), "line") for l in range(1, L + 1)]))
        l = self.layer.currentIndex() + 1
        a = snap.arrays
        self.model = {"layer": l}
        delta = a.get(f"Delta{l}")
        rows = snap.batch_indices
        # (m, units): before Δ exists, its frame and ticks are laid out ahead behind the note
        shape = delta.shape if delta is not None else (
            None if rows is None else (len(rows), snap.config.sizes[l]))
        self.delta_frame.expect(shape)
        index_ticks(self.delta_plot, shape)
        if delta is not None:
            lim = steady_limit(self._limits, l, delta, snap.playing)
            if self._drawn.changed(self.delta_img, delta, lim):
                self.delta_img.setImage(np.asarray(delta), levels=(-lim, lim))
                self.delta_img.setRect(QRectF(-0.5, -0.5, delta.shape[1], delta.shape[0]))
                set_bar_levels(self.delta_bar, lim)
        elif self._drawn.changed(self.delta_img, None):
            self.delta_img.clear()
        self.model["delta"] = delta
        dw = a.get(f"dW{l}")
        if self._drawn.changed(self.hist, dw):
            if dw is not None:
                counts, edges = np.histogram(np.asarray(dw, dtype=np.float64), bins=40)  # display binning
                self.hist.setData(edges, counts)
                self._hist_total = int(counts.sum())
            else:
                self.hist.setData([], [])
                self._hist_total = 0
        self.model["hist_total"] = self._hist_total
        if delta is None and dw is None:
            self.now_place.show_note(NOW_EMPTY)
        else:
            self.now_place.show_content()
        info = snap.stats.get(l, {}) if snap.stats else {}
        short = {"grad_rms": "RMS", "update_ratio": "upd/W", "inactive_share": "inactive"}
        parts = [f"{short.get(k, k)} {v:.3g}" for k, v in info.items()]
        self.info.setText(" · ".join(parts) if parts else "no gradient yet")
        self.info.setToolTip("\n".join(f"{k.replace('_', ' ')}: {v:.6g}" for k, v in info.items())
                             or "The layer's statistics appear once its gradient exists in this step.")
        hist = snap.stats_history
        if not hist:
            self.time_place.show_note(TIME_EMPTY)
        else:
            self.time_place.show_content()
        steps = hist.steps if hist else np.zeros(0)  # step k's figures at k, where the loss plot draws its loss
        for key, nxt in self._next.items():
            ys = [s.get(key) for s in (snap.stats or {}).values()]
            ys = [y if key == "inactive_share" else math.log10(y) for y in ys
                  if y is not None and (key == "inactive_share" or y > 0)]  # drawn as log10, as below
            like = next((c for (k, _), c in self._curves.items() if k == key), None)  # drawn as its curves are
            pad = drawn_padding(like) if like is not None else 0.0
            # while playing, figures of steps the history skips (STATS_EVERY) would move the frame
            nxt.expect(snap.stage.step if snap.stage is not None and ys and not snap.playing else None, ys, pad)
        for key, plot in self._history_plots.items():
            for layer in range(1, L + 1):
                ys = hist.column(key, layer) if hist else np.zeros(0)  # (n,) NaN where unknown
                ok = np.isfinite(ys) & ((ys > 0) if key != "inactive_share" else True)
                if ok.any():
                    c = self._curve(plot, key, layer)
                    # one point is a dot, not nothing; set before the data, so the dots are made once
                    c.setSymbol("o" if ok.sum() < 3 else None)
                    self._drawn.set_data(c, steps[ok], ys[ok] if key == "inactive_share" else np.log10(ys[ok]))
        self.model["history_points"] = len(hist)
        settle(self._plots(), playing=snap.playing)
