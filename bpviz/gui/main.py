"""Starting the window (`bpviz`), and rendering it to a PNG (`bpviz screenshot`)."""
from __future__ import annotations

import os
import sys
import tempfile
import time

from bpviz.engine.config import ConfigError
from bpviz.engine.presets import PRESETS, get_preset
from bpviz.runs import DATASETS


def add_gui_arguments(p) -> None:
    p.add_argument("--preset", default="toy", choices=list(PRESETS), help="what to load at start (default toy)")
    p.add_argument("--dataset", choices=DATASETS, help="data set (default: the preset's)")
    p.add_argument("--data-dir", help="where the data set's files are (else $BPVIZ_DATA_DIR, the cache)")
    p.add_argument("--layout", choices=["learn", "train", "debug"], help="open in this layout of the views")


def _application():
    from PySide6.QtWidgets import QApplication
    # PySide6 releases the GIL around Qt calls; taking it back waits up to this interval
    # while the worker runs Python, so the default 5 ms starves the GUI during Play
    sys.setswitchinterval(0.0005)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    apply_theme(app)
    return app


def apply_theme(app) -> None:
    """Fusion, light or dark as the system says (Qt 6.5+ knows the colour scheme)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette
    app.setStyle("Fusion")
    forced = os.environ.get("BPVIZ_THEME", "").lower()  # "dark" or "light" overrides the system
    try:
        dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:
        dark = False
    if forced in ("dark", "light"):
        dark = forced == "dark"
    if dark:
        pal = QPalette()
        for role, colour in ((QPalette.Window, "#2b2b2b"), (QPalette.WindowText, "#e6e6e6"),
                             (QPalette.Base, "#1e1e1e"), (QPalette.AlternateBase, "#2b2b2b"),
                             (QPalette.Text, "#e6e6e6"), (QPalette.Button, "#353535"),
                             (QPalette.ButtonText, "#e6e6e6"), (QPalette.Highlight, "#3d6fb4"),
                             (QPalette.HighlightedText, "#ffffff"), (QPalette.ToolTipBase, "#353535"),
                             (QPalette.ToolTipText, "#e6e6e6"), (QPalette.PlaceholderText, "#9a9a9a")):
            pal.setColor(role, QColor(colour))
        app.setPalette(pal)


def _start(args, settings=None):
    from .window import MainWindow
    preset = get_preset(args.preset or "toy")
    win = MainWindow(settings=settings)
    win.controller.rebuild(preset.config, args.dataset or preset.dataset, args.data_dir)
    if getattr(args, "layout", None):
        win.apply_layout(args.layout)
    return win


def run_gui(args) -> int:
    app = _application()
    try:
        win = _start(args)
    except ConfigError as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        return 2
    win.show()
    if os.environ.get("BPVIZ_EXIT_WHEN_SHOWN"):  # start-up benchmark: quit once the first frame is drawn
        from PySide6.QtCore import QTimer
        win.controller.snapshot_changed.connect(lambda _: QTimer.singleShot(0, win.close))
    code = app.exec()
    if not win.controller.shutdown():
        # a worker stuck in I/O (a stalled download): leave without destroying its running thread
        print("bpviz: the training thread did not stop in time; exiting", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


# -- screenshots ----------------------------------------------------------------------
def add_screenshot_arguments(p) -> None:
    add_gui_arguments(p)
    p.add_argument("--stages", type=int, default=0, help="equations to step through before the picture")
    p.add_argument("--play-seconds", type=float, default=0.0, help="then play at full speed this long")
    p.add_argument("--panel", help="save only this panel's dock (e.g. equations, diagram, inspector)")
    p.add_argument("--size", default="1600x1000", help="window size, WIDTHxHEIGHT")
    p.add_argument("--column", action="store_true", help="show the column notation")
    p.add_argument("--focus", type=int, default=0, help="focused sample (row of the batch)")
    p.add_argument("--debugger-tab", choices=["history", "breakpoints", "gradient-check", "per-sample"],
                   help="which tab the debugger dock shows")
    p.add_argument("--out", required=True, help="the PNG to write")


def wait_until(until, timeout: float) -> bool:
    """Wait in a real Qt event loop until `until()` is true or `timeout` seconds pass. A busy
    processEvents() loop would hold the GIL and starve the training thread."""
    from PySide6.QtCore import QEventLoop, QTimer
    end = time.perf_counter() + timeout
    if until():
        return True
    loop = QEventLoop()
    done = [False]

    def check():
        if until():
            done[0] = True
            loop.quit()
        elif time.perf_counter() >= end:
            loop.quit()
    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return done[0]


def run_screenshot(args) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    app = _application()  # noqa: F841 (the QApplication must stay referenced while the window lives)
    w, h = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        # a throw-away settings file: a screenshot never depends on, or changes, the user's layout
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.IniFormat)
        win = _start(args, settings)
        if args.panel and args.panel not in win.docks:
            print(f"bpviz: error: no panel {args.panel!r} (choose from {', '.join(win.docks)})", file=sys.stderr)
            win.controller.shutdown()
            return 2
        try:
            win.resize(w, h)
            if args.layout:
                win.apply_layout(args.layout)  # sized for the requested window
            win.show()
            c = win.controller
            if not wait_until(lambda: c.latest is not None or win.last_error, 120):
                print("bpviz: error: the network did not load in time", file=sys.stderr)
                return 1
            if win.last_error:
                print(f"bpviz: error: {win.last_error}", file=sys.stderr)
                return 1
            if args.column:
                for p in win.panels:
                    if hasattr(p, "col_btn"):
                        p.col_btn.setChecked(True)
            c.set_focus(args.focus)
            if args.debugger_tab:
                tabs = ["history", "breakpoints", "gradient-check", "per-sample"]
                win.debugger.tabs.setCurrentIndex(tabs.index(args.debugger_tab))
            for _ in range(args.stages):
                before = c.latest.serial
                c.request_step()
                wait_until(lambda: c.latest.serial > before and not c._dirty, 30)
            if args.play_seconds > 0:
                c.request_play()
                wait_until(lambda: False, args.play_seconds)
                c.request_pause()
                wait_until(lambda: not c.playing, 5)
            wait_until(lambda: False, 0.3)  # a few frames for every panel to draw
            if args.panel:  # one panel alone, at the requested size
                dock = win.docks[args.panel]
                dock.setFloating(True)
                dock.resize(w, h)
                wait_until(lambda: False, 0.5)
                image = dock.grab()
            else:
                image = win.grab()
            out = os.path.abspath(args.out)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            tmp_png = out + ".tmp.png"
            if not image.save(tmp_png, "PNG"):
                print(f"bpviz: error: cannot write {out}", file=sys.stderr)
                return 1
            os.replace(tmp_png, out)
            print(f"wrote {out} ({image.width()}x{image.height()}): {c.latest.status}")
            win.close()
        finally:  # whatever happened, the training thread ends before the process does
            win.controller.shutdown()
    return 0
