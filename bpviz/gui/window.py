"""The main window: toolbar, docks, status bar, menus. Layout only: every action
goes to the Controller, every panel draws the snapshots the Controller hands out."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressDialog, QSlider,
                               QWidget)

from bpviz import __version__
from bpviz.engine.snapshot import Snapshot

from .panels.config import ConfigDock
from .panels.debugger import DebuggerDock
from .panels.equations import EquationsPanel
from .controller import Controller

ORG, APP = "bpviz", "bpviz"
PANELS_PER_FRAME = 1  # besides the loss curve, how many panels redraw per frame while playing
LAYOUT_VERSION = 2  # bump when the set of docks changes, so an old saved layout is ignored
# the speed slider's stops, in stages per second; the last is full speed
SPEEDS = (1, 2, 4, 8, 15, 30, 60, 120, 250, 500, 1000, 0)


def panel_classes() -> list:
    """The panels' classes, in dock order."""
    from .panels.diagram import DiagramPanel
    from .panels.heatmaps import HeatmapPanel
    from .panels.inspector import InspectorPanel
    from .panels.loss import LossPanel
    from .panels.sample import SampleView
    return [DiagramPanel, EquationsPanel, SampleView, LossPanel, HeatmapPanel, InspectorPanel]


def with_suffix(path: str, pattern: str, chosen_filter: str, default: str) -> str:
    """`path` as typed when it ends with a suffix any of the dialog's filters offers (x.svg
    stays SVG whichever filter is chosen); else with the chosen filter's suffix, or `default`."""
    import re
    suffixes = re.compile(r"\*(\.\w+)")
    if any(path.lower().endswith(s) for s in suffixes.findall(pattern)):
        return path
    chosen = suffixes.findall(chosen_filter or "")
    return path + (chosen[0] if chosen else default)


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("bpviz — backpropagation, one equation at a time")
        self.setObjectName("bpviz-main")
        from .reference import app_icon
        self.setWindowIcon(app_icon())
        self.setFocusPolicy(Qt.StrongFocus)
        self.setDockNestingEnabled(True)
        self.controller = controller or Controller(self)
        self.settings = settings if settings is not None else QSettings(ORG, APP)
        self.panels: list = []
        self.docks: dict[str, QDockWidget] = {}
        self._progress: QProgressDialog | None = None
        self.last_error = ""
        self._turn = 0

        self._make_actions()
        self._make_toolbar()
        self._make_menus()
        self._make_docks()
        self.status = QLabel("epoch 0 · batch 0 · stage: ready")
        self.status.setMinimumWidth(1)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.statusBar().addWidget(self.status, 1)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { color: white; background: #b3261e; padding: 4px; }")
        self.banner.hide()
        self.statusBar().addPermanentWidget(self.banner, 2)

        c = self.controller
        c.snapshot_changed.connect(self.on_snapshot)
        c.error_occurred.connect(self.on_error)
        c.playing_changed.connect(self.on_playing)
        c.download_progress.connect(self.on_download_progress)
        c.config_changed.connect(self.on_config_changed)
        c.focus_changed.connect(self._on_focus)
        c.session_saved.connect(lambda path: self.statusBar().showMessage(f"session saved to {path}", 5000))
        self.resize(1500, 950)
        self._restore_layout()

    # -- building ---------------------------------------------------------------------
    def _action(self, text, slot, keys=(), tip=""):
        a = QAction(text, self)
        if keys:
            a.setShortcuts([QKeySequence(k) for k in keys])
        names = " or ".join(QKeySequence(k).toString(QKeySequence.NativeText) for k in keys)
        a.setToolTip(f"{tip or text} ({names})" if names else (tip or text))
        a.setShortcutContext(Qt.ApplicationShortcut)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self):
        c = self.controller
        self.act_step = self._action("Step", c.request_step, ("F10", "Right"), "Compute the next equation")
        self.act_pass = self._action("Finish pass", c.request_finish_pass, ("Shift+F10",),
                                     "Run to the end of the current backward pass")
        self.act_batch = self._action("Step batch", c.request_step_batch, ("Ctrl+F10",), "Finish this training step")
        self.act_epoch = self._action("Step epoch", c.request_step_epoch, ("Ctrl+Shift+F10",), "Run to the end of the epoch")
        self.act_play = self._action("Play", c.toggle_play, ("Space",), "Train continuously; again to pause")
        self.act_reset = self._action("Reset", c.request_reset, ("Ctrl+R",), "Back to the initial weights of the same seed")
        self.act_sample = self._action("Step sample", c.request_step_sample, ("Ctrl+Right",),
                                       "Per-sample mode: the next sample's contribution")
        self.act_back = self._action("Step back", c.request_step_back, ("Left",),
                                     "One stage back, across batches, as far as the history reaches")

    def _make_toolbar(self):
        tb = self.addToolBar("Training")
        tb.setObjectName("training-toolbar")
        for a in (self.act_back, self.act_step, self.act_pass, self.act_batch, self.act_epoch, self.act_play,
                  self.act_reset):
            tb.addAction(a)
        tb.addSeparator()
        tb.addWidget(QLabel(" speed "))
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(len(SPEEDS) - 1)
        self.speed.setFixedWidth(160)
        self.speed.setToolTip("Stages per second while playing, from 1 to full speed")
        self.speed.setFocusPolicy(Qt.NoFocus)  # Right and Space belong to Step and Play, not the slider
        self.speed_label = QLabel()
        self.speed.valueChanged.connect(self._on_speed)
        tb.addWidget(self.speed)
        tb.addWidget(self.speed_label)
        self._on_speed(self.speed.value())

    def _make_menus(self):
        m = self.menuBar()
        self.file_menu = m.addMenu("&File")
        self.act_open = self._action("Open session…", self.open_session, ("Ctrl+O",), "Load a saved run")
        self.act_save = self._action("Save session…", self.save_session, ("Ctrl+S",),
                                     "Save the run (configuration, weights, position, history, breakpoints)")
        self.file_menu.addAction(self.act_open)
        self.file_menu.addAction(self.act_save)
        self.act_open_data = self._action("Open data…", self.open_data, ("Ctrl+Shift+O",),
                                          "Train on your own data: a .csv file or a folder of four IDX files")
        self.file_menu.addAction(self.act_open_data)
        export = self.file_menu.addMenu("Export")
        export.addAction(self._action("Loss history as CSV…", self.export_losses))
        export.addAction(self._action("This step's arrays as NPZ…", self.export_trace))
        self.export_panels = export.addMenu("Panel as PNG or SVG")
        self.file_menu.addSeparator()
        self.act_quit = self._action("Quit", self.close, ("Ctrl+Q",), "Close bpviz")
        self.file_menu.addAction(self.act_quit)
        run = m.addMenu("&Training")
        for a in (self.act_back, self.act_step, self.act_sample, self.act_pass, self.act_batch, self.act_epoch, self.act_play,
                  self.act_reset):
            run.addAction(a)
        run.addSeparator()
        self.act_draw = self._action("Draw the focused sample's input…", self.draw_input, ("Ctrl+D",),
                                     "Draw or edit the focused sample's image; the step is recomputed with it")
        run.addAction(self.act_draw)
        self.view_menu = m.addMenu("&View")
        helpm = m.addMenu("&Help")
        helpm.addAction(self._action("Equations", self.show_equations, ("Shift+F1",)))
        helpm.addAction(self._action("Keyboard shortcuts", self.show_shortcuts, ("F1",)))
        helpm.addAction(self._action("About bpviz", self.show_about))

    def _make_docks(self):
        self.config_dock = ConfigDock(self.controller, self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.config_dock)
        self.view_menu.addAction(self.config_dock.toggleViewAction())
        self.debugger = DebuggerDock(self.controller, self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.debugger)
        self.view_menu.addAction(self.debugger.toggleViewAction())
        self.docks["config"] = self.config_dock
        self.docks["debugger"] = self.debugger
        areas = {"left": Qt.LeftDockWidgetArea, "right": Qt.RightDockWidgetArea,
                 "bottom": Qt.BottomDockWidgetArea, "top": Qt.TopDockWidgetArea}
        for cls in panel_classes():
            panel = cls()
            dock = QDockWidget(cls.title, self)
            dock.setObjectName(f"dock-{cls.object_name}")
            dock.setWidget(panel)
            self.addDockWidget(areas.get(cls.area, Qt.RightDockWidgetArea), dock)
            self.view_menu.addAction(dock.toggleViewAction())
            panel.focus_requested.connect(self.controller.set_focus)
            if hasattr(panel, "edit_requested"):
                panel.edit_requested.connect(self.edit_weight)
            if hasattr(panel, "input_edited"):
                panel.input_edited.connect(self.edit_input)
            if hasattr(panel, "explain_requested"):
                panel.explain_requested.connect(lambda *_a, p=panel: self.mark_explained(p))
            self.panels.append(panel)
            self.docks[cls.object_name] = dock
            self.export_panels.addAction(self._action(f"{cls.title}…", lambda _=False, n=cls.object_name: self.export_panel(n)))
        self.setCentralWidget(QWidget())  # docks fill the window; an empty centre collapses
        self.centralWidget().hide()
        self._default_layout()

    def _default_layout(self):
        """Settings on the left above the sample; diagram and equations on top; loss,
        weights and inspector along the bottom. A saved layout replaces this."""
        d = self.docks
        if not all(k in d for k in ("diagram", "equations", "sample", "loss", "heatmaps", "inspector")):
            return
        self.addDockWidget(Qt.LeftDockWidgetArea, self.config_dock)
        self.splitDockWidget(self.config_dock, d["sample"], Qt.Vertical)
        self.tabifyDockWidget(self.config_dock, self.debugger)
        self.config_dock.raise_()
        self.addDockWidget(Qt.RightDockWidgetArea, d["diagram"])
        self.splitDockWidget(d["diagram"], d["equations"], Qt.Horizontal)
        self.addDockWidget(Qt.BottomDockWidgetArea, d["loss"])
        self.splitDockWidget(d["loss"], d["heatmaps"], Qt.Horizontal)
        self.splitDockWidget(d["heatmaps"], d["inspector"], Qt.Horizontal)
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self._sizes_pending = True

    def _default_sizes(self):
        """Dock sizes in proportion to the window; only effective once it is shown."""
        d, W, H = self.docks, self.width(), self.height()
        self.resizeDocks([self.config_dock], [int(W * 0.2)], Qt.Horizontal)
        self.resizeDocks([d["diagram"], d["equations"]], [int(W * 0.33), int(W * 0.47)], Qt.Horizontal)
        self.resizeDocks([d["diagram"], d["loss"]], [int(H * 0.62), int(H * 0.3)], Qt.Vertical)
        self.resizeDocks([d["loss"], d["heatmaps"], d["inspector"]], [int(W * 0.25)] * 2 + [int(W * 0.3)],
                         Qt.Horizontal)
        self.resizeDocks([self.config_dock, d["sample"]], [int(H * 0.45), int(H * 0.5)], Qt.Vertical)

    def showEvent(self, event):
        super().showEvent(event)
        self.setFocus()  # no input field starts with the keys Step and Play use
        if getattr(self, "_sizes_pending", False):
            self._sizes_pending = False
            if not self._restored:
                from PySide6.QtCore import QTimer
                QTimer.singleShot(0, self._default_sizes)  # after the first layout pass

    # -- layout memory ----------------------------------------------------------------
    def _restore_layout(self):
        self._restored = False
        if self.settings.value("layout_version", 0, int) == LAYOUT_VERSION:
            self._restored = True
            geo = self.settings.value("geometry")
            state = self.settings.value("state")
            if geo is not None:
                self.restoreGeometry(geo)
            if state is not None:
                self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self):
        self.settings.setValue("layout_version", LAYOUT_VERSION)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    # -- reacting -------------------------------------------------------------------------
    @Slot(object)
    def on_snapshot(self, snap: Snapshot):
        self.status.setText(snap.status)
        if snap.message:
            self._show_banner(snap.message)
        # every panel draws the same snapshot in the same frame: they never show different stages
        for p in self.panels:
            p.show_snapshot(snap)
        self.debugger.show_snapshot(snap)

    @Slot(str)
    def on_error(self, msg: str):
        self.last_error = msg
        self._show_banner(msg)
        if msg.startswith("not applied"):
            self.config_dock.apply_failed(msg)
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def _show_banner(self, msg: str):
        self.banner.setText(msg)
        self.banner.setToolTip(msg)
        self.banner.show()

    @Slot(bool)
    def on_playing(self, on: bool):
        self.act_play.setText("Pause" if on else "Play")
        if on:
            self.banner.hide()
        elif self.controller.latest is not None:
            self.on_snapshot(self.controller.latest)  # every panel at the same stage again

    @Slot(object)
    def on_config_changed(self, cfg):
        self.banner.hide()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        self.config_dock.show_running(cfg, self.controller.dataset)

    @Slot(int, int, str)
    def on_download_progress(self, done: int, total: int, name: str):
        if self._progress is None:
            self._progress = QProgressDialog(f"Downloading {name}…", "Cancel", 0, 100, self)
            self._progress.setWindowTitle("bpviz: downloading a data set")
            self._progress.setMinimumDuration(0)
            self._progress.canceled.connect(self.controller.cancel_download)
        self._progress.setLabelText(f"Downloading {name}… {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))
        self._progress.setValue(int(100 * done / total) if total else 0)

    @Slot(int)
    def _on_focus(self, row: int):
        for p in self.panels:
            p.set_focus_sample(row)

    def _on_speed(self, i: int):
        v = SPEEDS[i]
        self.speed_label.setText(" full speed" if v == 0 else f" {v} stages/s")
        self.controller.set_speed(v)

    def mark_explained(self, equations_panel) -> None:
        """Show in the heatmaps and the diagram the cells an explained number came from."""
        e = equations_panel.model.get("explanation")
        cells: dict[str, list] = {}
        if e is not None:
            for t in e.terms:
                for name, ix, _ in t.factors:  # row-form indices, as the engine holds them
                    cells.setdefault(name, []).append(tuple(ix))
            cells.setdefault(e.target[0], []).append(tuple(e.target[1]))
        for p in self.panels:
            if hasattr(p, "set_marks"):
                p.set_marks(cells)

    # -- editing --------------------------------------------------------------------------
    @Slot(str, int, int)
    def edit_weight(self, name: str, i: int, j: int):
        """Ask for a new value of W{l}[i, j] (paused), and recompute the current step."""
        from PySide6.QtWidgets import QInputDialog
        snap = self.controller.latest
        if snap is None or name not in snap.arrays:
            return
        self.controller.request_pause()
        old = float(snap.arrays[name][i, j])
        value, ok = QInputDialog.getDouble(self, "Edit a weight", f"{name}[{i}, {j}] (now {old:.6g})", old,
                                           -1e9, 1e9, 6)
        if ok and self.may_branch():
            self.controller.edit_param(name, (i, j), value)

    @Slot(int, object)
    def edit_input(self, batch_row: int, values):
        snap = self.controller.latest
        if snap is None or snap.stage is None or not self.may_branch():
            return
        self.controller.edit_input(int(snap.stage.batch_indices[batch_row]), values)

    def draw_input(self) -> bool:
        """Draw or edit the focused sample's input image (image data sets)."""
        from .widgets.draw import DrawInputDialog
        snap = self.controller.latest
        if snap is None or snap.image_shape is None:
            self.statusBar().showMessage("Drawing an input needs an image data set (MNIST, Fashion-MNIST, "
                                         "your own IDX files or an image CSV)", 5000)
            return False
        if snap.stage is None:
            self.statusBar().showMessage("Step once first: the input belongs to the batch in progress", 5000)
            return False
        row = min(self.controller.focus, len(snap.stage.batch_indices) - 1)
        image = np.asarray(snap.arrays["X"][row], dtype=np.float64).reshape(snap.image_shape)  # (h, w)
        top = float(image.max(initial=0.0))
        scale = top if top > 1 else 1.0  # the inputs' own range: 0 to 1 for the scaled image sets
        dialog = DrawInputDialog(image / scale, f"Draw sample {int(snap.stage.batch_indices[row])}", self)
        if dialog.exec() != DrawInputDialog.Accepted:
            return False
        self.edit_input(row, dialog.values() * scale)
        return True

    def may_branch(self) -> bool:
        """An edit in the past starts a new branch: say so, and let the user keep the old future."""
        snap = self.controller.latest
        if snap is None or not snap.frontier or snap.position >= snap.frontier:
            return True
        answer = QMessageBox.question(
            self, "Edit in the past",
            f"You are at step {snap.position}; the timeline reaches step {snap.frontier}. Editing here starts "
            f"a new branch: steps {snap.position + 1} to {snap.frontier} will be discarded.\n\nEdit anyway?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    # -- files ----------------------------------------------------------------------------
    def _ask_path(self, title: str, pattern: str, save: bool, suffix: str) -> str:
        from PySide6.QtWidgets import QFileDialog
        fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, chosen = fn(self, title, "", pattern)
        return with_suffix(path, pattern, chosen, suffix) if path and save else path

    def open_data(self, path: str | None = None) -> bool:
        """Your own data: a CSV file, or a folder of four IDX files (checked for structure,
        not against a checksum); the network is fitted to it, keeping its hidden layers."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog
            path, _ = QFileDialog.getOpenFileName(self, "Open data: a CSV file (Cancel to pick a folder of IDX files)",
                                                  "", "CSV (*.csv);;All files (*)")
            if not path:
                path = QFileDialog.getExistingDirectory(self, "Open data: a folder of four IDX files")
        if not path:
            return False
        cfg = self.controller.config or self.controller.latest.config
        self.controller.rebuild(cfg, path)
        return True

    def save_session(self, path: str | None = None):
        path = path or self._ask_path("Save session", "bpviz sessions (*.bpviz)", True, ".bpviz")
        if path:
            self.controller.save_session(path, self.debugger.breakpoints())

    def open_session(self, path: str | None = None):
        path = path or self._ask_path("Open session", "bpviz sessions (*.bpviz);;All files (*)", False, "")
        if path:
            self.controller.load_session(path)

    def _write(self, what: str, fn) -> bool:
        try:
            fn()
        except OSError as e:
            self.on_error(f"could not write {what}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"wrote {what}", 5000)
        return True

    def export_losses(self, path: str | None = None) -> bool:
        from bpviz.files import save_losses_csv
        snap = self.controller.latest
        path = path or self._ask_path("Export the loss history", "CSV (*.csv)", True, ".csv")
        if not path or snap is None:
            return False
        n_batches = snap.stage.n_batches if snap.stage is not None else 1
        return self._write(path, lambda: save_losses_csv(path, snap.losses, snap.epoch_losses, n_batches,
                                                         snap.test_accuracy))

    def export_trace(self, path: str | None = None) -> bool:
        from bpviz.files import save_trace
        snap = self.controller.latest
        if snap is None or snap.stage is None:
            self.on_error("nothing to export yet: step at least once")
            return False
        path = path or self._ask_path("Export this step's arrays", "NumPy (*.npz)", True, ".npz")
        if not path:
            return False
        return self._write(path, lambda: save_trace(path, snap.stage.arrays, snap.config.to_json()))

    def export_panel(self, name: str, path: str | None = None) -> bool:
        """A panel as PNG (pixels) or SVG (vector, from Qt's painter)."""
        panel = next(p for p in self.panels if p.object_name == name)
        path = path or self._ask_path(f"Export {panel.title}", "PNG (*.png);;SVG (*.svg)", True, ".png")
        if not path:
            return False
        from bpviz.gui.export import export_widget
        return self._write(path, lambda: export_widget(panel, path, f"bpviz: {panel.title}"))

    # -- help -----------------------------------------------------------------------------
    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for a in self.actions():
            keys = ", ".join(k.toString(QKeySequence.NativeText) for k in a.shortcuts())
            if keys:
                rows.append((a.text(), keys))
        return rows

    def show_equations(self):
        """The equations reference; typeset on first use (about 2 s), then kept."""
        if getattr(self, "reference", None) is None:
            from PySide6.QtWidgets import QApplication
            from .reference import ReferenceDialog
            QApplication.setOverrideCursor(Qt.WaitCursor)
            try:
                self.reference = ReferenceDialog(self, self.windowIcon())
            finally:
                QApplication.restoreOverrideCursor()
        self.reference.show()
        self.reference.raise_()

    def show_shortcuts(self):
        text = "<table>" + "".join(f"<tr><td>{n}</td><td>&nbsp;&nbsp;<b>{k}</b></td></tr>"
                                   for n, k in self.shortcut_rows()) + "</table>"
        QMessageBox.information(self, "Keyboard shortcuts", text)

    def show_about(self):
        QMessageBox.about(self, "About bpviz",
                          f"bpviz {__version__}: step through backpropagation one equation at a time.")

    def closeEvent(self, event):
        self.save_layout()
        self.controller.shutdown()
        super().closeEvent(event)
