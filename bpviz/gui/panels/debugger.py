"""The debugger dock: going back through the history, breakpoints, the gradient check
on a chosen layer or weight, and each sample's part in the current batch."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSlider, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from bpviz.engine.breakpoints import KINDS, Breakpoint
from bpviz.engine.explain import counted
from bpviz.engine.gradcheck import TOLERANCE
from bpviz.engine.losses import get_output_loss
from bpviz.engine.series import folded_steps
from bpviz.engine.snapshot import Snapshot

from .base import catch_up_when_shown, in_view
from ..widgets.steady import SteadyText


class _NumberItem(QTableWidgetItem):
    """Sorts by value, not by text."""

    def __lt__(self, other):
        return float(self.data(Qt.UserRole)) < float(other.data(Qt.UserRole))


def _num(v: float, text: str | None = None) -> QTableWidgetItem:
    it = _NumberItem(text if text is not None else f"{v:+.4g}")
    it.setData(Qt.UserRole, float(v))
    it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return it


class DebuggerDock(QDockWidget):
    CONTRIB_HELP = ("Each sample's loss and its share of each layer's gradient (shares sum to 1; "
                    "a negative share pulls against the batch). Click a row to focus that sample.")

    def __init__(self, controller, parent=None):
        super().__init__("Debugger", parent)
        self.setObjectName("dock-debugger")
        self.controller = controller
        self.snapshot: Snapshot | None = None
        tabs = QTabWidget()
        tabs.addTab(self._history_tab(), "History")
        tabs.addTab(self._breakpoints_tab(), "Breakpoints")
        tabs.addTab(self._gradcheck_tab(), "Gradient check")
        tabs.addTab(self._contrib_tab(), "Per sample")
        self.tabs = tabs
        tabs.currentChanged.connect(lambda i: i == 3 and self.snapshot is not None and self._fill_contrib(self.snapshot))
        self._stale = False
        catch_up_when_shown(self, self, self._exposed)
        self.setWidget(tabs)
        controller.gradcheck_done.connect(self.show_gradcheck)
        controller.breakpoints_loaded.connect(self.set_breakpoints)

    # -- history ---------------------------------------------------------------------------
    def _history_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.back_btn = QPushButton("◀ Step back")
        self.back_btn.setToolTip("One stage back, across batches (Left)")
        self.back_btn.clicked.connect(self.controller.request_step_back)
        row.addWidget(self.back_btn)
        row.addWidget(QLabel("memory"))
        self.budget = QSpinBox()
        self.budget.setRange(1, 65536)
        self.budget.setSuffix(" MB")
        self.budget.setValue(256)
        self.budget.setToolTip("How much memory the history may use; the oldest stages fall out first")
        self.budget.editingFinished.connect(lambda: self.controller.set_history_mb(self.budget.value()))
        row.addWidget(self.budget)
        row.addStretch(1)
        lay.addLayout(row)
        self.scrub = QSlider(Qt.Horizontal)
        self.scrub.setToolTip("The timeline: drag to any kept step and release to go there; nothing is "
                              "deleted, and stepping forward replays the same numbers")
        self.scrub.setFocusPolicy(Qt.NoFocus)
        self.scrub.sliderMoved.connect(self._show_scrub_target)
        self.scrub.sliderReleased.connect(lambda: self.controller.request_rewind(self.scrub.value()))
        lay.addWidget(self.scrub)
        # set at every stage: painted texts that ask for a layout pass only when they need more lines
        self.scrub_label = SteadyText()
        lay.addWidget(self.scrub_label)
        self.history_label = SteadyText()
        lay.addWidget(self.history_label)
        hint = QLabel("Reset (Ctrl+R) replays the run from the same initial weights with identical numbers.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        lay.addStretch(1)
        return w

    # -- breakpoints -----------------------------------------------------------------------
    def _breakpoints_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        always = QLabel("Always on: a non-finite value stops training and names the equation, layer and cell.")
        always.setWordWrap(True)
        lay.addWidget(always)
        self.bp_list = QListWidget()
        self.bp_list.itemChanged.connect(lambda _: self._send_breakpoints())
        lay.addWidget(self.bp_list)
        form = QFormLayout()
        self.bp_kind = QComboBox()
        for k, text in KINDS.items():
            self.bp_kind.addItem(text, k)
        # whole in its list; its longest text must not set the dock's width (a tab beside
        # Sample in Learn, 267 px at 1366x768)
        self.bp_kind.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.bp_kind.setMinimumContentsLength(14)
        self.bp_kind.currentTextChanged.connect(self.bp_kind.setToolTip)  # the text the box may cut
        self.bp_kind.setToolTip(self.bp_kind.currentText())
        self.bp_value = QDoubleSpinBox()
        self.bp_value.setDecimals(6)
        self.bp_value.setRange(0, 1e12)
        self.bp_value.setValue(2.0)
        self.bp_layer = QSpinBox()
        self.bp_layer.setRange(0, 64)
        self.bp_layer.setSpecialValueText("any layer")
        self.bp_below = QCheckBox("fire when it falls below")
        form.addRow("when", self.bp_kind)
        form.addRow("value", self.bp_value)
        form.addRow("layer", self.bp_layer)
        form.addRow("", self.bp_below)
        lay.addLayout(form)
        row = QHBoxLayout()
        add = QPushButton("Add")
        add.clicked.connect(self.add_breakpoint)
        rm = QPushButton("Remove")
        rm.clicked.connect(self.remove_breakpoint)
        row.addWidget(add)
        row.addWidget(rm)
        lay.addLayout(row)
        self.bp_error = QLabel()
        self.bp_error.setStyleSheet("color: #b3261e;")
        lay.addWidget(self.bp_error)
        self._breakpoints: list[Breakpoint] = []
        return w

    def add_breakpoint(self) -> Breakpoint | None:
        try:
            bp = Breakpoint(self.bp_kind.currentData(), self.bp_value.value(),
                            layer=self.bp_layer.value() or None, below=self.bp_below.isChecked())
        except ValueError as e:
            self.bp_error.setText(str(e))
            return None
        self.bp_error.clear()
        self._breakpoints.append(bp)
        self._fill_breakpoints()
        self._send_breakpoints()
        return bp

    def remove_breakpoint(self) -> None:
        row = self.bp_list.currentRow()
        if 0 <= row < len(self._breakpoints):
            del self._breakpoints[row]
            self._fill_breakpoints()
            self._send_breakpoints()

    @Slot(object)
    def set_breakpoints(self, items) -> None:
        self._breakpoints = list(items)
        self._fill_breakpoints()

    def breakpoints(self) -> list[Breakpoint]:
        out = []
        for i, bp in enumerate(self._breakpoints):
            item = self.bp_list.item(i)
            on = item is None or item.checkState() == Qt.Checked
            out.append(Breakpoint(bp.kind, bp.value, bp.layer, bp.below, on))
        return out

    def _fill_breakpoints(self) -> None:
        self.bp_list.blockSignals(True)
        self.bp_list.clear()
        for bp in self._breakpoints:
            item = QListWidgetItem(bp.describe())
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if bp.enabled else Qt.Unchecked)
            self.bp_list.addItem(item)
        self.bp_list.blockSignals(False)

    def _send_breakpoints(self) -> None:
        self.controller.set_breakpoints(self.breakpoints())

    # -- gradient check ----------------------------------------------------------------------
    def _gradcheck_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addWidget(QLabel("layer"))
        self.gc_layer = QSpinBox()
        self.gc_layer.setRange(1, 64)
        row.addWidget(self.gc_layer)
        self.gc_run = QPushButton("Check")
        self.gc_run.setToolTip("Central finite differences on the current batch against the analytic gradient")
        self.gc_run.clicked.connect(self.run_gradcheck)
        row.addWidget(self.gc_run)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()  # a row of its own: the tab fits a narrow dock
        row.addWidget(QLabel("weight i,j (optional)"))
        self.gc_cell = QLineEdit()
        self.gc_cell.setPlaceholderText("all, sampled")
        self.gc_cell.setMaximumWidth(90)
        row.addWidget(self.gc_cell)
        row.addStretch(1)
        lay.addLayout(row)
        self.gc_table = QTableWidget(0, 5)
        self.gc_table.setHorizontalHeaderLabels(["array", "entries", "analytic", "numeric", "max rel. error"])
        lay.addWidget(self.gc_table)
        self.gc_note = QLabel()
        self.gc_note.setWordWrap(True)
        lay.addWidget(self.gc_note)
        self._checked: tuple | None = None  # (run_id, position, note) of the result shown
        return w

    def _follow_check(self, snap: Snapshot) -> None:
        """A check's result belongs to its run and to the weights its step starts from (the
        snapshot's position): another run clears it; another step says it is out of date."""
        if self._checked is None:
            return
        run_id, position, note = self._checked
        if snap.run_id != run_id:
            self._checked = None
            self.gc_table.setRowCount(0)
            self.gc_note.clear()
        elif snap.position != position:
            self.gc_note.setText(f"Checked with the weights step {position} starts from; the step shown now "
                                 f"starts from others: press Check again for them. {note}")
        else:
            self.gc_note.setText(note)

    def run_gradcheck(self) -> bool:
        text = self.gc_cell.text().strip()
        cell = None
        if text:
            try:
                cell = tuple(int(v) for v in text.split(","))
                assert len(cell) == 2
            except (ValueError, AssertionError):
                self.gc_note.setText("give a weight as i,j (row, column of W), or leave it empty")
                return False
        snap = self.snapshot
        if snap is not None:
            L = snap.config.n_layers
            layer = self.gc_layer.value()
            if layer > L:
                self.gc_note.setText(f"the network has {L} layers")
                return False
            n_in, n_out = snap.config.sizes[layer - 1], snap.config.sizes[layer]
            if cell is not None and not (0 <= cell[0] < n_in and 0 <= cell[1] < n_out):
                self.gc_note.setText(f"W{layer} is {n_in} x {n_out}")
                return False
        self.gc_note.setText("checking…")
        self.controller.request_gradcheck(self.gc_layer.value(), cell)
        return True

    @Slot(object)
    def show_gradcheck(self, checks) -> None:
        self.gc_table.setRowCount(len(checks))
        for i, c in enumerate(checks):
            single = c.n_checked == 1
            self.gc_table.setItem(i, 0, QTableWidgetItem(f"{c.name} ({c.eq})"))
            self.gc_table.setItem(i, 1, _num(c.n_checked, str(c.n_checked)))
            self.gc_table.setItem(i, 2, _num(c.analytic[0]) if single else QTableWidgetItem("…"))
            self.gc_table.setItem(i, 3, _num(c.numeric[0]) if single else QTableWidgetItem("…"))
            self.gc_table.setItem(i, 4, _num(c.max_rel_error, f"{c.max_rel_error:.2e} {'ok' if c.ok else 'FAILS'}"))
        self.gc_table.resizeColumnsToContents()
        approx = self.snapshot is not None and get_output_loss(self.snapshot.config.output_loss).approximate
        ok = all(c.ok for c in checks) and sum(c.n_checked for c in checks) > 0
        kinks = sum(getattr(c, "n_kinks", 0) for c in checks)
        note = (f"all within {TOLERANCE:g}: the analytic gradient matches central differences" if ok else
                f"relative error above {TOLERANCE:g}" if any(c.n_checked for c in checks) else
                "nothing could be checked")
        if kinks:
            note += (f"; {kinks} entries sit at a kink of the activation (the finite difference straddles "
                     "z = 0, where the derivative jumps): not checkable, left out")
        if approx:
            note += (". This network uses the approximate output delta A − Y of Neural Network with Hidden "
                     "Layers, which is not the gradient of its squared-error loss: the error shows how far "
                     "the approximation is.")
        self.gc_note.setText(note)
        self.last_checks = checks
        snap = self.snapshot  # the training published what it checked just before the result
        self._checked = (snap.run_id, snap.position, note) if snap is not None else None

    # -- per-sample parts ---------------------------------------------------------------------
    def _contrib_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.contrib_note = QLabel(self.CONTRIB_HELP)
        self.contrib_note.setWordWrap(True)
        lay.addWidget(self.contrib_note)
        self.contrib = QTableWidget()
        self.contrib.setSortingEnabled(True)
        self.contrib.setEditTriggers(QTableWidget.NoEditTriggers)
        self.contrib.setSelectionBehavior(QTableWidget.SelectRows)
        self.contrib.cellClicked.connect(self._focus_from_contrib)
        self.contrib.verticalHeader().hide()  # the sample column is the row's name
        lay.addWidget(self.contrib)
        return w

    def _focus_from_contrib(self, row: int, _col: int) -> None:
        item = self.contrib.item(row, 0)
        if item is not None:
            self.controller.set_focus(int(item.data(Qt.UserRole)))

    # -- drawing --------------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self._follow_check(snap)  # behind a tab too: Reset clears it, seen or not
        if not self._seen():  # a tab behind another: drawn when raised
            self._stale = True
            return
        self._stale = False
        n, oldest, dropped = snap.history or (0, 0, 0)
        now = snap.shown_step
        last = max(oldest, snap.last_step)  # the handle's right end
        if not self.scrub.isSliderDown():  # never move the handle under the user's mouse
            self.scrub.blockSignals(True)
            self.scrub.setRange(oldest, last)
            self.scrub.setValue(now)
            self.scrub.blockSignals(False)
            self.scrub_label.setText(self._scrub_text(now, "shown"))
        text = f"history: any stage from step {oldest} on can be revisited ({counted(n, 'checkpoint')})"
        text += f"; {counted(dropped, 'older checkpoint')} fell out (raise the memory to keep more)" if dropped else \
            "; nothing has fallen out yet"
        if snap.loss_folds:  # the loss history took its share of the memory
            text += f"; the losses of the first {counted(folded_steps(snap.loss_folds), 'step')} are kept as means of several steps"
        self.history_label.setText(text)
        self.gc_layer.setMaximum(snap.config.n_layers)
        if not self.isVisible() or self.tabs.currentIndex() != 3:
            return
        self._fill_contrib(snap)

    def _seen(self) -> bool:
        return self.widget() is not None and in_view(self.widget())

    def _exposed(self) -> None:
        if self._stale and self.snapshot is not None and self._seen():
            self.show_snapshot(self.snapshot)

    def _scrub_text(self, step: int, what: str) -> str:
        snap = self.snapshot
        per_epoch = (snap.n_batches or 0) if snap is not None else 0
        where = f" (epoch {step // per_epoch}, batch {step % per_epoch})" if per_epoch else ""
        return f"step {step}{where} {what}; the timeline reaches step {self.scrub.maximum()}"  # the handle's end

    def _show_scrub_target(self, step: int) -> None:
        self.scrub_label.setText(self._scrub_text(step, "under the handle (release to go there)"))

    def _fill_contrib(self, snap: Snapshot) -> None:
        c = snap.contrib
        if c is None:
            self.contrib.setRowCount(0)
            self.contrib_note.setText("Per-sample parts appear when paused, once the forward pass has run.")
            return
        self.contrib_note.setText(self.CONTRIB_HELP)
        losses = np.asarray(c["losses"])
        layers = sorted(c["shares"])
        self.contrib.setSortingEnabled(False)
        self.contrib.setColumnCount(2 + len(layers))
        self.contrib.setHorizontalHeaderLabels(["sample", "loss"] + [f"share of dW{l}" for l in layers])
        self.contrib.setRowCount(len(losses))
        for s, loss in enumerate(losses):
            self.contrib.setItem(s, 0, _num(s, str(s)))
            self.contrib.setItem(s, 1, _num(loss, f"{loss:.5g}"))
            for k, l in enumerate(layers):
                v = float(c["shares"][l][s])
                self.contrib.setItem(s, 2 + k, _num(v, f"{v:+.1%}"))
        self.contrib.setSortingEnabled(True)
        self.model_contrib = c
