"""The main window: toolbar, docks, status bar, menus. Layout only: every action
goes to the Controller, every panel draws the snapshots the Controller hands out."""
from __future__ import annotations

import gc

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRect, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressDialog, QScrollArea,
                               QSizePolicy, QSlider, QToolBar, QWidget)

from bpviz import __version__
from bpviz.engine.run import status_equation
from bpviz.engine.snapshot import Snapshot

from .panels.base import catch_up_when_shown, in_view
from .panels.config import ConfigDock
from .panels.debugger import DebuggerDock
from .panels.equations import EquationsPanel
from .widgets.steady import LayoutBarrier, SteadyText
from .controller import Controller

ORG, APP = "bpviz", "bpviz"
LAYOUT_VERSION = 4  # bump when the set of docks changes, so an old saved layout is ignored
LAYOUTS = ("learn", "train", "debug")
# what each layout puts in front; the other docks are tabs behind them
LAYOUT_PROMISES = {"learn": ("diagram", "equations"), "train": ("loss", "heatmaps"),
                   "debug": ("inspector", "debugger")}
ZOOMS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
MIN_DOCK = 40  # a restored dock smaller than this (pixels) means a broken layout
INFO_MS = 4000  # an information message starts to fade after this long
INFO_FADE_MS = 1000
MESSAGE_STYLE = {"warning": "QLabel { color: black; background: #f6c343; padding: 4px; }",
                 "error": "QLabel { color: white; background: #b3261e; padding: 4px; }"}
# the speed slider's stops, in stages per second; the last is full speed
SPEEDS = (1, 2, 4, 8, 15, 30, 60, 120, 250, 500, 1000, 0)


def on_any_screen(rect: QRect) -> bool:
    """Whether a good part of `rect` (at least MIN_DOCK pixels each way) lies on a screen."""
    screens = [sc.availableGeometry() for sc in QGuiApplication.screens()]
    return not screens or any(sc.intersected(rect).width() >= MIN_DOCK
                              and sc.intersected(rect).height() >= MIN_DOCK for sc in screens)


def panel_classes() -> list:
    """The panels' classes, in dock order."""
    from .panels.diagram import DiagramPanel
    from .panels.heatmaps import HeatmapPanel
    from .panels.inspector import InspectorPanel
    from .panels.loss import LossPanel
    from .panels.boundary import BoundaryPanel
    from .panels.sample import SampleView
    return [DiagramPanel, EquationsPanel, SampleView, LossPanel, HeatmapPanel, InspectorPanel, BoundaryPanel]


def with_suffix(path: str, pattern: str, chosen_filter: str, default: str) -> str:
    """`path` as typed when it ends with a suffix any of the dialog's filters offers (x.svg
    stays SVG whichever filter is chosen); else with the chosen filter's suffix, or `default`."""
    import re
    suffixes = re.compile(r"\*(\.\w+)")
    if any(path.lower().endswith(s) for s in suffixes.findall(pattern)):
        return path
    chosen = suffixes.findall(chosen_filter or "")
    return path + (chosen[0] if chosen else default)


def lay_out_now(rounds: int = 4) -> None:
    """Run the layouts the widgets asked for, up to the window: a round runs the requests
    posted before it (a table's new height), which post the next level's (its view's, then
    its area's); three rounds were needed in the equations panel."""
    for _ in range(rounds):
        QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)


class _Banner(QLabel):
    """The message strip's text: across the strip's whole width, wrapped, as tall as its lines
    there. A toolbar's layout knows nothing of height for width: it gave a label that ignores
    its width no width at all, and one that may be narrow the height of its text one word a
    line."""

    def __init__(self):
        super().__init__()
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMinimumWidth(1)  # a long message neither widens the window nor is cut

    def _lines_height(self) -> int:
        bar = self.parentWidget()
        room = max(self.width(), bar.width() - 16 if bar is not None else 0, 200)  # before the first layout
        return self.heightForWidth(room)

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._lines_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(1, self._lines_height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # its lines at the new width


class _HoldPaint(QObject):
    """Holds back a window's paint request until released (see paint_once)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.held = False
        self.later = QTimer(self)  # a timer, not a posted call: it comes after the timers already due
        self.later.setSingleShot(True)
        self.later.setInterval(0)
        self.later.timeout.connect(self.release)

    def hold(self) -> None:
        if not self.later.isActive():  # else still held from the last frame
            self.window.installEventFilter(self)

    def release(self) -> None:
        self.window.removeEventFilter(self)
        if self.held:  # asked again: Qt asks only once until the request it sent is handled
            self.held = False
            QCoreApplication.postEvent(self.window, QEvent(QEvent.UpdateRequest), Qt.LowEventPriority.value)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.UpdateRequest:
            self.held = True
            return True
        return False


def paint_once(window, after_timers: bool = False) -> None:
    """Let every plot scene in `window` mark what the frame changed, then paint the window
    once. Each scene does it in its own queued call, which paints the window at once
    (QGraphicsView dispatches the pending paint request): a frame that changed n scenes
    was painted n times, and a plot shown this frame was painted again by its scene. Call
    it after the layout: a plot resized by it moves its items when it is next painted.

    after_timers: the paint waits for the timers and input that came in during the frame's
    update. Qt's paint request is a posted event, and the event loop sends posted events
    before it looks at timers and input: update and paint ran as one block (two 15 ms
    halves of a 30 ms stall while playing)."""
    views = getattr(window, "_plot_views", None)
    if views is None:  # the panels make their plots once
        import pyqtgraph as pg
        views = window._plot_views = [(v, [item for item in v.scene().items() if isinstance(item, pg.ViewBox)])
                                      for v in window.findChildren(pg.GraphicsView)]
    shown = [(v.scene(), boxes) for v, boxes in views if in_view(v)]  # a tab behind is never painted
    for _ in range(2):  # the ranges and transforms the paint would work out: they move items again
        for _scene, boxes in shown:
            for box in boxes:
                if getattr(box, "_autoRangeNeedsUpdate", True) or getattr(box, "_matrixNeedsUpdate", True):
                    box.prepareForPaint()
    scenes = [scene for scene, _ in shown]
    hold = getattr(window, "_hold_paint", None)
    if hold is None:
        hold = window._hold_paint = _HoldPaint(window)
    hold.hold()
    try:
        for scene in scenes:
            QCoreApplication.sendPostedEvents(scene, QEvent.MetaCall)
    finally:
        if after_timers:
            hold.later.start()
        elif not hold.later.isActive():
            hold.release()


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("bpviz — backpropagation, one equation at a time")
        self._column = False  # the equations panel's notation, which the status bar's equation follows
        self._status_snap: Snapshot | None = None  # the snapshot the status bar names
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

        self._make_actions()
        self._make_toolbar()
        self._make_menus()
        self._make_docks()
        self._make_status()

        c = self.controller
        c.snapshot_changed.connect(self.on_snapshot)
        c.error_occurred.connect(self.on_error)
        c.playing_changed.connect(self.on_playing)
        c.download_progress.connect(self.on_download_progress)
        c.config_changed.connect(self.on_config_changed)
        c.focus_changed.connect(self._on_focus)
        c.session_saved.connect(lambda path: self.inform(f"session saved to {path}"))
        self.resize(1366, 768)
        self._restore_layout()
        self._watching_clicks = False

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
        for a in (self.act_step, self.act_pass, self.act_batch, self.act_epoch, self.act_play, self.act_reset,
                  self.act_sample, self.act_back):
            a.triggered.connect(self.clear_message)  # the user acted: an old warning or error goes

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
        layouts = self.view_menu.addMenu("Layouts")
        self.layout_actions = {}
        for name, tip in (("learn", "The network and the current equation with its numbers"),
                          ("train", "The loss and test accuracy, and the weights"),
                          ("debug", "Deltas and gradients, and the debugger")):
            a = self._action(name.capitalize(), lambda _=False, n=name: self.apply_layout(n), (), tip)
            layouts.addAction(a)
            self.layout_actions[name] = a
        layouts.addSeparator()
        self.act_reset_layout = self._action("Reset layout", lambda: self.apply_layout("learn"), (),
                                             "Back to the Learn layout at the window's size")
        layouts.addAction(self.act_reset_layout)
        zoom = self.view_menu.addMenu("Zoom")
        zoom.addAction(self._action("Zoom in", lambda: self.step_zoom(+1), ("Ctrl+=", "Ctrl++"),
                                    "Larger text, equations, numbers and lines in every panel"))
        zoom.addAction(self._action("Zoom out", lambda: self.step_zoom(-1), ("Ctrl+-",)))
        zoom.addAction(self._action("Actual size", lambda: self.set_zoom(1.0), ("Ctrl+0",)))
        self.view_menu.addSeparator()
        helpm = m.addMenu("&Help")
        helpm.addAction(self._action("Equations", self.show_equations, ("Shift+F1",)))
        helpm.addAction(self._action("Keyboard shortcuts", self.show_shortcuts, ("F1",)))
        helpm.addAction(self._action("Sources", self.show_sources, (),
                                     "The four documents the equations come from"))
        helpm.addAction(self._action("Stage codes", self.show_stage_codes, (),
                                     "What F1, F2, L, B1-B5 and U1 mean"))
        helpm.addAction(self._action("About bpviz", self.show_about))

    def _make_status(self):
        """The status line (where the run is), standing warnings (amber), and a message strip
        under the toolbar for warnings and errors; information goes to the status bar and fades."""
        # painted, one line: a QLabel re-laid out its text document at every frame while playing
        self.status = SteadyText("epoch 0 · batch 0 · stage: ready", elide=True)
        self.status.setMinimumWidth(1)
        from bpviz.engine.sources import stage_legend
        self.status.setToolTip("Stage codes:\n" + stage_legend())
        self.statusBar().addWidget(LayoutBarrier(self.status), 1)
        self.info_label = QLabel()
        self.info_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.statusBar().addPermanentWidget(self.info_label)
        from PySide6.QtCore import QPropertyAnimation
        from PySide6.QtWidgets import QGraphicsOpacityEffect
        self._info_effect = QGraphicsOpacityEffect(self.info_label)
        self._info_effect.setOpacity(1.0)
        self.info_label.setGraphicsEffect(self._info_effect)
        self._info_fade = QPropertyAnimation(self._info_effect, b"opacity", self)
        self._info_fade.setDuration(INFO_FADE_MS)
        self._info_fade.setStartValue(1.0)
        self._info_fade.setEndValue(0.0)
        self._info_fade.finished.connect(self.info_label.clear)
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.timeout.connect(self._info_fade.start)
        self.warnings_label = QLabel()
        self.warnings_label.setStyleSheet(MESSAGE_STYLE["warning"])
        self.warnings_label.hide()
        self.statusBar().addPermanentWidget(self.warnings_label)
        self.message_bar = QToolBar("Messages")
        self.message_bar.setObjectName("message-bar")
        self.message_bar.setMovable(False)
        self.message_bar.toggleViewAction().setVisible(False)
        self.banner = _Banner()
        self.banner.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message_bar.addWidget(self.banner)
        self.addToolBarBreak()
        self.addToolBar(self.message_bar)
        self.message_bar.hide()
        self.message_kind = ""
        self._shown_message = ("", "")

    def inform(self, text: str) -> None:
        """Information (edited, saved, copied): the status bar, fading after a few seconds."""
        self._info_fade.stop()
        self._info_effect.setOpacity(1.0)
        self.info_label.setText(text)
        self.info_label.setToolTip(text)
        self._info_timer.start(INFO_MS)

    def show_message(self, text: str, kind: str) -> None:
        """A message by kind: information fades in the status bar; a warning (amber) or an
        error (red) stays in the strip under the toolbar until Reset or the user acts."""
        if kind not in MESSAGE_STYLE:
            self.inform(text)
            return
        self.banner.setText(("⚠ " if kind == "warning" else "✖ ") + text)
        self.banner.setToolTip(text)
        self.banner.setStyleSheet(MESSAGE_STYLE[kind])
        self.message_kind = kind
        self.message_bar.show()

    def clear_message(self) -> None:
        self.banner.clear()
        self.message_kind = ""
        self.message_bar.hide()

    def _make_docks(self):
        self.config_dock = ConfigDock(self.controller, self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.config_dock)
        self.view_menu.addAction(self.config_dock.toggleViewAction())
        self.debugger = DebuggerDock(self.controller, self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.debugger)
        self.view_menu.addAction(self.debugger.toggleViewAction())
        self.docks["config"] = self.config_dock
        self.docks["debugger"] = self.debugger
        for dock in (self.config_dock, self.debugger):
            # forms scroll rather than hold the whole window to their width (at 1366x768 and 2x zoom)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.NoFrame)
            scroll.setWidget(dock.widget())
            dock.setWidget(scroll)
        areas = {"left": Qt.LeftDockWidgetArea, "right": Qt.RightDockWidgetArea,
                 "bottom": Qt.BottomDockWidgetArea, "top": Qt.TopDockWidgetArea}
        for cls in panel_classes():
            panel = cls()
            dock = QDockWidget(cls.title, self)
            dock.setObjectName(f"dock-{cls.object_name}")
            dock.setWidget(LayoutBarrier(panel))  # a panel's per-frame text re-lays out the panel, not the window
            self.addDockWidget(areas.get(cls.area, Qt.RightDockWidgetArea), dock)
            self.view_menu.addAction(dock.toggleViewAction())
            panel.focus_requested.connect(self.controller.set_focus)
            catch_up_when_shown(dock, panel, panel.exposed)  # it draws what it kept while behind
            if hasattr(panel, "edit_requested"):
                panel.edit_requested.connect(self.edit_weight)
            if hasattr(panel, "input_edited"):
                panel.input_edited.connect(self.edit_input)
            if hasattr(panel, "notice"):
                panel.notice.connect(self.inform)
            if hasattr(panel, "notation_changed"):
                panel.notation_changed.connect(self._set_notation)
            if hasattr(panel, "explanation_changed"):
                panel.explanation_changed.connect(lambda p=panel: self.mark_explained(p))
            self.panels.append(panel)
            self.docks[cls.object_name] = dock
            self.export_panels.addAction(self._action(f"{cls.title}…", lambda _=False, n=cls.object_name: self.export_panel(n)))
        self.setCentralWidget(QWidget())  # docks fill the window; an empty centre collapses
        self.centralWidget().hide()
        self._default_layout()

    def _default_layout(self):
        """The Learn layout; a saved layout replaces it when it is sound."""
        if not all(k in self.docks for k in ("diagram", "equations", "sample", "loss", "heatmaps", "inspector")):
            return
        self.apply_layout("learn", sizes=False)
        self._sizes_pending = True

    def apply_layout(self, name: str, sizes: bool = True) -> None:
        """Arrange the docks for `name` (learn, train or debug): the views it promises in
        front and large, every other view a tab behind them."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r} (choose from {', '.join(LAYOUTS)})")
        d = self.docks
        for dock in d.values():
            dock.setFloating(False)
            self.removeDockWidget(dock)
        left, right = Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea
        if name == "learn":
            # the sample beside the network and the equation; settings a tab behind it
            self.addDockWidget(left, d["sample"])
            for k in ("config", "debugger"):
                self.tabifyDockWidget(d["sample"], d[k])
            self.addDockWidget(right, d["diagram"])
            self.splitDockWidget(d["diagram"], d["equations"], Qt.Horizontal)
            for k in ("loss", "heatmaps", "inspector", "boundary"):
                self.tabifyDockWidget(d["diagram"], d[k])
            front = ("sample", "diagram", "equations")
        elif name == "train":
            self.addDockWidget(left, d["config"])
            for k in ("sample", "debugger"):
                self.tabifyDockWidget(d["config"], d[k])
            self.addDockWidget(right, d["loss"])
            self.splitDockWidget(d["loss"], d["heatmaps"], Qt.Vertical)
            # the tall views behind one tab group, so the window's minimum height stays under
            # 768 even at twice the text size
            for k in ("inspector", "diagram", "equations", "boundary"):
                self.tabifyDockWidget(d["heatmaps"], d[k])
            front = ("config", "loss", "heatmaps")
        else:
            self.addDockWidget(left, d["debugger"])
            for k in ("config", "sample"):
                self.tabifyDockWidget(d["debugger"], d[k])
            self.addDockWidget(right, d["inspector"])
            for k in ("equations", "diagram", "loss", "heatmaps", "boundary"):
                self.tabifyDockWidget(d["inspector"], d[k])
            front = ("debugger", "inspector")
        for dock in d.values():
            dock.show()
        for k in front:
            d[k].raise_()
        self.layout_name = name
        self._front_boundary(self.controller.latest)
        if sizes:
            self._layout_sizes()
            QTimer.singleShot(0, self, self._layout_sizes)  # again after the first layout pass

    def _front_boundary(self, snap) -> None:
        """In Learn, a network with two inputs shows its decision boundary in front of the
        diagram: the plane is the view to watch (the diagram is a tab away). A network without
        brings the diagram back to the front if the boundary was there (it would only say
        that it has nothing to draw); a tab the user chose otherwise stays."""
        if snap is None or getattr(self, "layout_name", "learn") != "learn":
            return
        if snap.boundary is not None:
            self.docks["boundary"].raise_()
        elif in_view(self.docks["boundary"]):
            self.docks["diagram"].raise_()

    def _layout_sizes(self) -> None:
        """Dock sizes in proportion to the window (effective once it is shown)."""
        d, W, H = self.docks, self.width(), self.height()
        name = getattr(self, "layout_name", "learn")
        if name == "learn":
            self.resizeDocks([d["sample"], d["diagram"], d["equations"]],
                             [int(W * 0.2), int(W * 0.34), int(W * 0.46)], Qt.Horizontal)
        elif name == "train":
            side = max(int(W * 0.24), d["config"].widget().widget().minimumSizeHint().width() + 24)
            self.resizeDocks([d["config"], d["loss"]], [side, W - side], Qt.Horizontal)
            self.resizeDocks([d["loss"], d["heatmaps"]], [int(H * 0.4), int(H * 0.6)], Qt.Vertical)
        else:
            self.resizeDocks([d["debugger"], d["inspector"]], [int(W * 0.32), int(W * 0.68)], Qt.Horizontal)

    def showEvent(self, event):
        super().showEvent(event)
        self.setFocus()  # no input field starts with the keys Step and Play use
        if getattr(self, "_sizes_pending", False):
            self._sizes_pending = False
            if self._restored:
                QTimer.singleShot(0, self, self._check_restored)
            else:
                QTimer.singleShot(0, self, self._layout_sizes)  # after the first layout pass

    # -- layout memory ----------------------------------------------------------------
    def _restore_layout(self):
        self._restored = False
        self.set_zoom(float(self.settings.value("zoom", 1.0)), save=False)
        if self.settings.value("layout_version", 0, int) == LAYOUT_VERSION:
            geo = self.settings.value("geometry")
            state = self.settings.value("state")
            ok = state is not None and self.restoreState(state, LAYOUT_VERSION)
            if ok and geo is not None:
                self.restoreGeometry(geo)
            self._restored = bool(ok)
            name = self.settings.value("layout_name", "learn")
            self.layout_name = name if name in LAYOUTS else "learn"
            if not ok:
                self.apply_layout("learn", sizes=False)
            elif not self.layout_is_sound(shown=False):
                self._restored = False
                self.apply_layout("learn", sizes=False)

    def layout_is_sound(self, shown: bool = True) -> bool:
        on_screen = on_any_screen
        """No dock off every screen, and (once shown) no visible dock squeezed to a sliver."""
        if shown and (not on_screen(self.frameGeometry()) or self.width() < 600 or self.height() < 400):
            return False
        for dock in self.docks.values():
            if dock.isFloating() and dock.isVisible() and (
                    not on_screen(dock.frameGeometry()) or min(dock.width(), dock.height()) < MIN_DOCK):
                return False
            if shown and dock.isVisible() and not dock.isFloating() and dock.widget().isVisible():
                if dock.width() < MIN_DOCK or dock.height() < MIN_DOCK:
                    return False
        return True

    def _check_restored(self) -> None:
        if not self.layout_is_sound():
            self._restored = False
            screen = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
            if not on_any_screen(self.frameGeometry()) or self.width() < 600 or self.height() < 400:
                self.setGeometry(QRect(screen.x(), screen.y(), min(1366, screen.width()), min(768, screen.height())))
            self.apply_layout("learn")
            self.inform("the saved layout did not fit this screen: back to the Learn layout")

    def save_layout(self):
        self.settings.setValue("layout_version", LAYOUT_VERSION)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("layout_name", getattr(self, "layout_name", "learn"))
        self.settings.setValue("zoom", self.zoom)
        self.settings.sync()

    # -- zoom -----------------------------------------------------------------------------
    def set_zoom(self, factor: float, save: bool = True) -> None:
        """Scale the text, typeset equations, numbers and lines of every panel together."""
        factor = min(max(float(factor), ZOOMS[0]), ZOOMS[-1])
        if not hasattr(self, "_base_font"):
            self._base_font = QGuiApplication.font()
        self.zoom = factor
        font = QFont(self._base_font)
        font.setPointSizeF(self._base_font.pointSizeF() * factor)
        self.setFont(font)
        for w in self.findChildren(QWidget):
            if w.styleSheet():  # its style sheet (a colour) made its font its own: it no longer follows
                w.setFont(font)
        for p in self.panels + [self.config_dock, self.debugger]:
            if hasattr(p, "set_zoom"):
                p.set_zoom(factor)
        if save:
            self.settings.setValue("zoom", factor)
            if self.isVisible():
                QTimer.singleShot(0, self, self._layout_sizes)

    def step_zoom(self, direction: int) -> None:
        i = min(range(len(ZOOMS)), key=lambda k: abs(ZOOMS[k] - self.zoom))
        self.set_zoom(ZOOMS[min(max(i + direction, 0), len(ZOOMS) - 1)])

    # -- reacting -------------------------------------------------------------------------
    def _set_notation(self, column: bool) -> None:
        self._column = column
        if self._status_snap is not None:
            self.status.setText(self._status_of(self._status_snap))

    def _status_of(self, snap: Snapshot) -> str:
        """The status line, its equation in the notation the equations panel shows (the run
        model writes it in rows, the engine's own)."""
        if not self._column or snap.stage is None:
            return snap.status
        spec = snap.stage.spec
        return snap.status.replace(status_equation(snap.config, spec), status_equation(snap.config, spec, column=True), 1)

    @Slot(object)
    def on_snapshot(self, snap: Snapshot):
        self._status_snap = snap  # the stage the status bar names, written again in another notation
        self.status.setText(self._status_of(snap))
        prev = getattr(self, "controller_run_id", None)
        if snap.run_id != prev:  # the first run, Reset, another data set or configuration, an opened session
            if prev is not None:
                self.clear_message()
                self.info_label.clear()
            self._front_boundary(snap)
            # the widgets, items and caches made for this run live as long as it does: out of
            # the collector's reach, a full collection no longer walks them (54 ms, once every
            # few seconds of Play, before)
            QTimer.singleShot(0, gc.freeze)
        self.controller_run_id = snap.run_id
        message = snap.message or ""
        if message != self._shown_message[0]:  # each message once; a repeat of it is not news
            self._shown_message = (message, snap.message_kind or "info")
            if message:
                self.show_message(message, snap.message_kind or "info")
        warnings = tuple(snap.warnings or ())
        self.warnings_label.setVisible(bool(warnings))
        if warnings:
            self.warnings_label.setText("⚠ " + warnings[0] + (f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""))
            self.warnings_label.setToolTip("\n".join(warnings))
        # every panel draws the same snapshot in the same frame: they never show different stages
        for p in self.panels:
            p.show_snapshot(snap)
        self.debugger.show_snapshot(snap)
        # laid out now: a pyqtgraph scene's queued update paints the whole window at once
        # (QGraphicsView dispatches its pending update requests), ahead of the layouts the
        # panels asked for, which would then move things and paint it all again
        lay_out_now()
        paint_once(self, after_timers=snap.playing)  # a Step is painted at once

    @Slot(str)
    def on_error(self, msg: str):
        self.last_error = msg
        self.show_message(msg, "error")
        if msg.startswith("not applied"):
            self.config_dock.apply_failed(msg)
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    @Slot(bool)
    def on_playing(self, on: bool):
        self.act_play.setText("Pause" if on else "Play")
        if not on and self.controller.latest is not None:
            self.on_snapshot(self.controller.latest)  # every panel at the same stage again

    @Slot(object)
    def on_config_changed(self, cfg):
        self.clear_message()
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
        # a click elsewhere drops the explanation: watch the application's events only while
        # one is shown (a Python filter on every event costs ~3 ms a frame while playing)
        from PySide6.QtWidgets import QApplication
        if e is not None and not self._watching_clicks:
            QApplication.instance().installEventFilter(self)
        elif e is None and self._watching_clicks:
            QApplication.instance().removeEventFilter(self)
        self._watching_clicks = e is not None

    def eventFilter(self, obj, event):
        """A click outside the equations panel drops an explained number's marks."""
        from PySide6.QtCore import QEvent
        if event.type() == QEvent.MouseButtonPress and isinstance(obj, QWidget):
            eq = next((p for p in self.panels if p.object_name == "equations"), None)
            if eq is not None and eq.model.get("explanation") is not None and obj.window() is self \
                    and not (obj is eq or eq.isAncestorOf(obj)):
                eq.drop_explanation()
        return False

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
        if snap is None or snap.batch_indices is None or not self.may_branch():
            return
        self.controller.edit_input(int(snap.batch_indices[batch_row]), values)

    def draw_input(self) -> bool:
        """Draw or edit the focused sample's input image (image data sets)."""
        from .widgets.draw import DrawInputDialog
        snap = self.controller.latest
        if snap is None or snap.image_shape is None:
            self.statusBar().showMessage("Drawing an input needs an image data set (MNIST, Fashion-MNIST, "
                                         "your own IDX files or an image CSV)", 5000)
            return False
        if snap.batch_indices is None:
            self.statusBar().showMessage("No batch is loaded yet: the input belongs to the batch in progress", 5000)
            return False
        row = min(self.controller.focus, len(snap.batch_indices) - 1)
        image = np.asarray(snap.arrays["X"][row], dtype=np.float64).reshape(snap.image_shape)  # (h, w)
        top = float(image.max(initial=0.0))
        scale = top if top > 1 else 1.0  # the inputs' own range: 0 to 1 for the scaled image sets
        dialog = DrawInputDialog(image / scale, f"Draw sample {int(snap.batch_indices[row])}", self)
        if dialog.exec() != DrawInputDialog.Accepted:
            return False
        self.edit_input(row, dialog.values() * scale)
        return True

    def may_branch(self) -> bool:
        """An edit in the past starts a new branch: say so, and let the user keep the old future."""
        snap = self.controller.latest
        if snap is None or not snap.in_past:
            return True
        answer = QMessageBox.question(
            self, "Edit in the past",
            f"You are at step {snap.shown_step}; the timeline reaches step {snap.last_step}. Editing here "
            f"starts a new branch: what was computed after this point, up to step {snap.last_step}, "
            f"will be discarded.\n\nEdit anyway?",
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
        self.inform(f"wrote {what}")
        return True

    def export_losses(self, path: str | None = None) -> bool:
        from bpviz.files import save_losses_csv
        snap = self.controller.latest
        path = path or self._ask_path("Export the loss history", "CSV (*.csv)", True, ".csv")
        if not path or snap is None:
            return False
        n_batches = snap.n_batches or 1
        return self._write(path, lambda: save_losses_csv(path, snap.losses, snap.epoch_losses, n_batches,
                                                         snap.test_accuracy, snap.loss_folds, snap.epoch_loss_folds))

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
        if not in_view(panel):  # a tab behind another has neither its size nor the stage drawn
            self.docks[name].show()
            self.docks[name].raise_()
            lay_out_now()  # the layout pass that gives it room, then its drawing of the stage
            panel.exposed()
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

    def show_sources(self):
        from bpviz.engine.sources import sources_html
        box = QMessageBox(QMessageBox.Information, "Sources of the equations", sources_html(), QMessageBox.Ok, self)
        box.setTextFormat(Qt.RichText)
        box.exec()

    def show_stage_codes(self):
        from bpviz.engine.sources import STAGE_CODES
        text = "<table>" + "".join(f"<tr><td><b>{c}</b></td><td>&nbsp;&nbsp;{w}</td></tr>"
                                   for c, w in STAGE_CODES) + "</table>"
        QMessageBox.information(self, "Stage codes", text)

    def show_about(self):
        QMessageBox.about(self, "About bpviz",
                          f"bpviz {__version__}: step through backpropagation one equation at a time.")

    def closeEvent(self, event):
        gc.unfreeze()  # what this window kept out of the collector's reach may be collected again
        from PySide6.QtWidgets import QApplication
        QApplication.instance().removeEventFilter(self)
        self.save_layout()
        self.controller.shutdown()
        super().closeEvent(event)
