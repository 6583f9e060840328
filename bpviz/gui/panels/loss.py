"""The loss curve: every step's loss (the snapshot carries all of them, so nothing is
missing when frames are skipped), the mean per epoch, and test accuracy when there is
a test set. A long run's oldest losses come folded into means of several steps, each
drawn at the middle of its steps."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout

from bpviz.engine.explain import counted
from bpviz.engine.series import centres, folded_steps, steps_covered
from bpviz.engine.snapshot import Snapshot

from .base import Panel
from ..widgets.plots import (FIRST_STEPS, Drawn, NextPoint, Placeholder, SteadyRange, drawn_padding,
                             fix_left_axes, grid_plot, series_key, settle, style_plot,
                             zoom_plots)
from ..widgets.steady import SteadyText


STEP_COLOR, EPOCH_COLOR, ACCURACY_COLOR = (80, 130, 220), (220, 90, 40), (40, 160, 80)
EMPTY = ("The loss of each training step is drawn here once the first step ends "
         "(after its update U1); with a test set, the test accuracy after each epoch too.")


class LossPanel(Panel):
    object_name = "loss"
    title = "Loss"
    area = "bottom"

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.log = QCheckBox("log scale")
        self.log.setToolTip("Show the loss on a logarithmic axis")
        self.log.toggled.connect(self._log_scale)
        self.readout = SteadyText(elide=True)  # set every frame: no layout pass per text
        bar.addWidget(self.log)
        bar.addWidget(self.readout, 1)
        lay.addLayout(bar)
        self.plot = grid_plot()
        style_plot(self, self.plot)
        self.plot.setLabel("bottom", "step")  # step k at k, from 0: as the debugger and status bar count
        self.plot.setLabel("left", "loss")
        fix_left_axes([self.plot])
        # the range moves in steps, not with every frame's new steps
        self.steady = SteadyRange(self.plot, min_x_span=FIRST_STEPS)
        self.next_loss = NextPoint(self.plot)  # the step's loss, from its loss stage on
        # its first points are dots, in the colour the key gives it
        self.steps = self.plot.plot(pen=pg.mkPen(STEP_COLOR, width=1), symbolBrush=STEP_COLOR, symbolPen=STEP_COLOR)
        self.steps.setDownsampling(auto=True, method="peak")
        self.steps.setClipToView(True)
        self.epochs = self.plot.plot(pen=pg.mkPen(EPOCH_COLOR, width=2), symbol="o", symbolSize=6,
                                     symbolBrush=EPOCH_COLOR)
        # stepped back, the plot still draws the whole timeline: a dashed line marks the step shown
        self.shown_line = pg.InfiniteLine(angle=90, movable=False,
                                          pen=pg.mkPen(self.palette().text().color(), width=1, style=Qt.DashLine))
        self.plot.addItem(self.shown_line, ignoreBounds=True)  # the ranges follow the losses alone
        self.shown_line.hide()
        # test accuracy on its own axis at the right
        self.acc_view = pg.ViewBox()
        pi = self.plot.getPlotItem()
        pi.showAxis("right")
        pi.scene().addItem(self.acc_view)
        self.acc_view.setZValue(-1)  # under the plot's own curves
        pi.getAxis("right").linkToView(self.acc_view)
        pi.getAxis("right").setLabel("test accuracy")
        self.acc_view.setXLink(pi)
        self.acc_view.setYRange(0, 1)
        self.acc = pg.PlotDataItem(pen=pg.mkPen(ACCURACY_COLOR, width=2), symbol="s", symbolSize=6,
                                   symbolBrush=ACCURACY_COLOR)
        self.acc_view.addItem(self.acc)
        self._key = None
        self._set_key(epochs=False, accuracy=False)  # the title's row is there from the start
        pi.vb.sigResized.connect(lambda: self.acc_view.setGeometry(pi.vb.sceneBoundingRect()))
        self.place = Placeholder(self.plot, EMPTY, follow_ranges=True)
        self.place.show_note(EMPTY)
        lay.addWidget(self.place.widget, 1)  # the plot takes the height; the bar keeps a line
        self.model: dict = {}
        # the epoch means and the test accuracy change once an epoch: making their dots again
        # every frame of Play took about a tenth of the window's time
        self._drawn = Drawn()

    def reset_view(self) -> None:
        self._drawn.clear()
        for item in (self.steps, self.epochs, self.acc):
            item.setData([], [])
        self.next_loss.expect(None)
        self.shown_line.hide()
        self.plot.enableAutoRange()
        self.steady.forget()
        self.readout.setText("")
        self.place.show_note(EMPTY)
        self.model = {}

    def _log_scale(self, on: bool) -> None:
        self.plot.setLogMode(False, on)
        self.steady.forget()  # bounds kept on the other scale mean nothing on this one
        self.next_loss.expect(None)  # nor does the coming point's, until the next frame

    def _set_key(self, epochs: bool, accuracy: bool) -> None:
        """The title names the curves that can appear (no test accuracy on the toy set, no
        epoch means with one batch an epoch), each after a sample of it."""
        if (epochs, accuracy) != self._key:  # a new title is laid out again
            self._key = (epochs, accuracy)
            # short enough for Learn's middle tab (about 460 px at 1366x768) with both axes; the
            # right one names the test accuracy it measures
            self.plot.setTitle(series_key([("loss per step", STEP_COLOR, "line")]
                                          + [("epoch mean", EPOCH_COLOR, "dots")] * epochs
                                          + [("test accuracy", ACCURACY_COLOR, "squares")] * accuracy))

    def set_zoom(self, factor: float) -> None:
        zoom_plots(self, factor)
        fix_left_axes([self.plot], factor)

    def redraw(self) -> None:
        snap: Snapshot = self.snapshot
        losses = np.asarray(snap.losses)
        n_batches = snap.n_batches or 1
        # the key and the accuracy axis are the run's from its first snapshot on: laid out
        # behind the note, not at the first step's end (a relayout that doubled that Step)
        self.plot.getPlotItem().getAxis("right").setVisible(bool(snap.measures_test))
        self._set_key(epochs=n_batches > 1, accuracy=bool(snap.measures_test))
        stage = snap.stage
        # drawn at the step's end; while playing the next frame brings it anyway
        loss = stage.loss if stage is not None and not snap.playing else None
        if loss is not None and self.log.isChecked():
            loss = math.log10(loss) if loss > 0 else None
        self.next_loss.expect(stage.step if loss is not None else None, (loss,),
                              drawn_padding(self.steps))
        if len(losses) == 0:
            self.place.show_note(EMPTY)
            self.readout.setText("no step finished yet")
            self.model = {"steps": 0, "epochs": 0, "accuracy_points": 0, "points": 0}
            settle([self.plot.getPlotItem()], playing=snap.playing)  # the first point's frame, behind the note
            return
        self.place.show_content()
        folds, epoch_folds = snap.loss_folds or (), snap.epoch_loss_folds or ()
        self.steps.setData(centres(folds, len(losses)), losses)  # step k's loss at k
        self.steps.setSymbol("o" if len(losses) < 3 else None)  # one point is a dot, not nothing
        ep = np.asarray(snap.epoch_losses)
        steps, epochs = steps_covered(folds, len(losses)), steps_covered(epoch_folds, len(ep))
        if n_batches > 1:  # with one batch an epoch, the epoch mean is the step loss itself
            # a mean at the middle of the steps it averages, as a folded step point is: epoch e's
            # at e * n_batches + (n_batches - 1) / 2 (at its last step, early epochs' means sat
            # above the falling losses drawn around them)
            self._drawn.set_data(self.epochs, centres(epoch_folds, len(ep)) * n_batches + (n_batches - 1) / 2, ep)
            self.epochs.setSymbol("o" if len(ep) <= 60 else None)
        else:
            self._drawn.set_data(self.epochs, np.zeros(0), np.zeros(0))
        acc = np.asarray(snap.test_accuracy, dtype=float).reshape(-1, 2)
        self._drawn.set_data(self.acc, acc[:, 0] - 1, acc[:, 1])  # measured after N steps: at the last, N - 1
        done = counted(steps, "step")
        text = f"{done} · loss {losses[-1]:.4g}"
        tip = f"{done} done; the last step's loss is {losses[-1]:.6g}"
        self.shown_line.setVisible(snap.in_past)
        if snap.in_past:
            self.shown_line.setPos(snap.shown_step)
            text = f"step {snap.shown_step} shown (dashed) · timeline: " + text
            tip = (f"You stepped back to step {snap.shown_step} (the dashed line); the plot and these figures "
                   f"are the whole timeline's, which reaches step {snap.last_step}.\n" + tip)
        if len(ep):  # epochs counted from 0, as the status bar and the history count them
            text += f" · epoch {epochs - 1}: {ep[-1]:.4g}"
            tip += (f"\nmean loss of epoch {epochs - 1} (the last one finished): {ep[-1]:.6g}; each epoch's "
                    f"mean is drawn at the middle of its steps")
        if len(acc):
            text += f" · test {acc[-1, 1]:.1%}"
            tip += f"\ntest accuracy after {counted(int(acc[-1, 0]), 'step')}: {acc[-1, 1]:.4f}"
        if folds:
            widest = max(w for _, w, _ in folds)
            tip += (f"\nthe first {counted(folded_steps(folds), 'step')} are drawn as means of up to {widest} steps each, "
                    f"to keep the loss history within the history memory")
        self.readout.setText(text)
        self.readout.setToolTip(tip)
        self.model = {"steps": steps, "epochs": epochs, "accuracy_points": len(acc), "points": len(losses)}
        settle([self.plot.getPlotItem(), self.acc_view], playing=snap.playing)
