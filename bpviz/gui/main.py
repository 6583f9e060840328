"""Starting the window (`bpviz`), and rendering it to a PNG (`bpviz screenshot`)."""
from __future__ import annotations

import os
import sys
import tempfile
import time

from bpviz.engine.config import ConfigError
from bpviz.engine.presets import PRESETS, get_preset
from bpviz.runs import DATASETS


def _window_dataset(text: str) -> str:
    """A built-in set's name or a path that exists: checked before the window opens."""
    import argparse
    if text in DATASETS:
        return text
    if not text.strip() or not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file or folder: {text!r} (the built-in sets are "
                                         f"{', '.join(DATASETS)})")
    return text


def add_gui_arguments(p, dest_prefix: str = "") -> None:
    """The window's options; `dest_prefix` keeps them apart from a command's own --preset."""
    from bpviz.cli import existing_dir, memory_size
    p.add_argument("--preset", dest=f"{dest_prefix}preset", choices=list(PRESETS),
                   help="what to load at start (default toy)")
    p.add_argument("--dataset", dest=f"{dest_prefix}dataset", type=_window_dataset, metavar="NAME|PATH",
                   help=f"{', '.join(DATASETS)}, a folder of IDX files or a .csv file (default: the preset's)")
    p.add_argument("--data-dir", dest=f"{dest_prefix}data_dir", type=existing_dir, metavar="DIR",
                   help="a folder holding the data set's files (else $BPVIZ_DATA_DIR, the cache)")
    p.add_argument("--max-memory", dest=f"{dest_prefix}max_memory", type=memory_size, metavar="SIZE",
                   help="refuse a network needing more than this, e.g. 4G (else $BPVIZ_MAX_MEMORY, "
                        "else half of the memory)")
    p.add_argument("--layout", dest=f"{dest_prefix}layout", choices=["learn", "train", "debug"],
                   help="open in this layout of the views")
    from bpviz.cli import _threads
    p.add_argument("--threads", dest=f"{dest_prefix}threads", type=_threads, metavar="N",
                   help="BLAS threads for training (default: chosen from the free cores)")


def _apply_memory_limit(args) -> None:
    """--max-memory reaches every budget check of this process (the run model's too)."""
    from bpviz.engine.budget import ENV
    if getattr(args, "max_memory", None) is not None:
        os.environ[ENV] = str(args.max_memory)


def _application():
    from PySide6.QtWidgets import QApplication
    # PySide6 releases the GIL around Qt calls; taking it back waits up to this interval
    # while the worker runs Python, so the default 5 ms starves the GUI during Play
    sys.setswitchinterval(0.0005)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    from .reference import app_icon
    app.setWindowIcon(app_icon())  # every window and dialog, and the desktop entry's name
    app.setDesktopFileName("org.bpviz.bpviz")
    apply_theme(app)
    return app


_style = None


def apply_theme(app) -> None:
    """Fusion (with flat scroll bars), light or dark as the system says (Qt 6.5+ knows the
    colour scheme)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette

    from .style import FlatScrollBars
    forced = os.environ.get("BPVIZ_THEME", "").lower()  # "dark" or "light" overrides the system
    try:
        dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:
        dark = False
    if forced in ("dark", "light"):
        dark = forced == "dark"
    global _style
    _style = FlatScrollBars("dark" if dark else "light")  # a Python reference, so its overrides outlive this call
    app.setStyle(_style)
    if dark:
        pal = QPalette()
        for role, colour in ((QPalette.Window, "#2b2b2b"), (QPalette.WindowText, "#e6e6e6"),
                             (QPalette.Base, "#1e1e1e"), (QPalette.AlternateBase, "#2b2b2b"),
                             (QPalette.Text, "#e6e6e6"), (QPalette.Button, "#353535"),
                             (QPalette.ButtonText, "#e6e6e6"), (QPalette.Highlight, "#3d6fb4"),
                             (QPalette.HighlightedText, "#ffffff"), (QPalette.ToolTipBase, "#353535"),
                             (QPalette.ToolTipText, "#e6e6e6"), (QPalette.PlaceholderText, "#9a9a9a"),
                             # the sources' links: Qt's default blue is unreadable on a dark base
                             (QPalette.Link, "#8ab4f8"), (QPalette.LinkVisited, "#c58af9")):
            pal.setColor(role, QColor(colour))
        app.setPalette(pal)
    else:
        pal = app.palette()
        # Fusion's selection blue gives white text 3.7:1; this one 6.3:1 (a selected table row)
        pal.setColor(QPalette.Highlight, QColor("#2761a8"))
        app.setPalette(pal)


def _start(args, app, settings=None):
    """The window with the preset's network loading; None (the window gone again) after
    printing the error when the start-up options are impossible."""
    from .window import MainWindow
    preset = get_preset(args.preset or "toy")
    win = MainWindow(settings=settings)
    try:
        win.controller.rebuild(preset.config, args.dataset or preset.dataset, args.data_dir)
    except ConfigError as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        _close_window(win, app)
        return None
    if getattr(args, "layout", None):
        win.apply_layout(args.layout)
    return win


def _close_on_interrupt(win, app) -> list:
    """Ctrl+C in the terminal closes the window as its close button does (the training
    process ends with it). Python runs a signal's handler between two of its own steps,
    and Qt's loop waits in C: a timer wakes the interpreter a few times a second. Returns
    a list that holds True once it happened."""
    import signal

    from PySide6.QtCore import QTimer
    happened: list = []

    def on_interrupt(*_):
        happened.append(True)
        win.close()
        app.quit()
    signal.signal(signal.SIGINT, on_interrupt)
    wake = QTimer(win)  # goes with the window
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return happened


def run_gui(args) -> int:
    _apply_memory_limit(args)
    from bpviz.engine import threads
    threads.request(getattr(args, "threads", None))  # the worker applies it when its thread starts
    app = _application()
    if app.platformName() == "offscreen":
        _quiet_offscreen_warnings()
    win = _start(args, app)
    if win is None:
        return 2
    win.show()
    if os.environ.get("BPVIZ_EXIT_WHEN_SHOWN"):  # start-up benchmark: quit once the first frame is painted
        from PySide6.QtCore import QTimer

        def first_frame(_snap):
            win.controller.snapshot_changed.disconnect(first_frame)
            win.repaint()  # returns when every widget has painted this frame
            print(f"bpviz: first frame painted at {time.time():.6f}", flush=True)
            QTimer.singleShot(0, win.close)
        win.controller.snapshot_changed.connect(first_frame)
    interrupted = _close_on_interrupt(win, app)
    code = app.exec()
    if interrupted:
        code = 130  # as a shell reports a program ended by Ctrl+C
    if not _close_window(win, app):
        # a worker stuck in I/O (a stalled download): leave without destroying its running thread
        print("bpviz: the training thread did not stop in time; exiting", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


# -- screenshots ----------------------------------------------------------------------
MAX_SIZE = (7680, 4320)  # 8K: a larger window is an out-of-memory picture, not a screenshot
MAX_PLAY_SECONDS = 3600.0
MAX_STAGES = 100_000
DEBUGGER_TABS = ("history", "breakpoints", "gradient-check", "per-sample")


def window_size(text: str) -> tuple[int, int]:
    """'1600x1000' -> (1600, 1000), each side from 1 to MAX_SIZE."""
    import argparse
    import re
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"WIDTHxHEIGHT expected, e.g. 1600x1000 (got {text!r})")
    w, h = int(m.group(1)), int(m.group(2))
    if not (1 <= w <= MAX_SIZE[0] and 1 <= h <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(f"{text} is outside 1x1 to {MAX_SIZE[0]}x{MAX_SIZE[1]}")
    return w, h


def play_seconds(text: str) -> float:
    import argparse
    import math
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds expected, got {text!r}")
    if not (math.isfinite(value) and 0 <= value <= MAX_PLAY_SECONDS):
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_PLAY_SECONDS:g} seconds (got {text})")
    return value


def png_file(text: str) -> str:
    import argparse
    from bpviz.cli import output_file
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"the picture is a PNG: give a name ending in .png (got {text!r})")
    return output_file(text)


def add_screenshot_arguments(p) -> None:
    from bpviz.cli import _int_at_least
    add_gui_arguments(p)
    p.add_argument("--stages", type=_int_at_least(0, MAX_STAGES), default=0,
                   help=f"equations to step through before the picture (0 to {MAX_STAGES})")
    p.add_argument("--play-seconds", type=play_seconds, default=0.0,
                   help=f"then play at full speed this long (0 to {MAX_PLAY_SECONDS:g})")
    p.add_argument("--panel", help="save only this panel's dock (e.g. equations, diagram, inspector)")
    p.add_argument("--size", type=window_size, default=(1600, 1000),
                   help=f"window size, WIDTHxHEIGHT, at most {MAX_SIZE[0]}x{MAX_SIZE[1]} (default 1600x1000)")
    p.add_argument("--column", action="store_true", help="show the column notation")
    p.add_argument("--focus", type=_int_at_least(0), default=0, help="focused sample (row of the batch)")
    p.add_argument("--debugger-tab", choices=DEBUGGER_TABS, help="which tab the debugger dock shows")
    p.add_argument("--out", required=True, type=png_file, help="the PNG to write")


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


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns on every window that it cannot propagate size hints:
    noise that would break the one-line contract of the command's stderr."""
    from PySide6.QtCore import qInstallMessageHandler
    previous = []

    def handler(mode, context, message):
        if "propagateSizeHints" in message:
            return
        if previous and previous[0] is not None:
            previous[0](mode, context, message)
        else:
            sys.stderr.write(message + "\n")
    previous.append(qInstallMessageHandler(handler))


def _close_window(win, app) -> bool:
    """Stop the training thread, then destroy the window and its children (a progress
    dialog left from a failed download among them) while the QApplication still exists:
    leaving them to interpreter shutdown destroyed them after it, a segfault at exit.
    False when the thread did not stop."""
    import shiboken6
    stopped = win.controller.shutdown()
    if not stopped:
        return False
    win.hide()
    if shiboken6.isValid(win):
        shiboken6.delete(win)
    app.processEvents()
    return True


def _preset_batch(args) -> int:
    """Rows in the preset's batch, known before anything is loaded."""
    from bpviz.runs import KNOWN_SHAPES, fit_to_known
    preset = get_preset(args.preset or "toy")
    dataset = args.dataset or preset.dataset
    n_train = KNOWN_SHAPES[dataset][3] if dataset in KNOWN_SHAPES else 1
    return fit_to_known(preset.config, dataset)[0].batch_for(n_train)  # the window fits the net to the data


def run_screenshot(args) -> int:
    if args.focus >= _preset_batch(args):
        print(f"bpviz: error: argument --focus: the batch has {_preset_batch(args)} rows "
              f"(0 to {_preset_batch(args) - 1}), got {args.focus}", file=sys.stderr)
        return 2
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _apply_memory_limit(args)
    from PySide6.QtCore import QSettings
    app = _application()
    if app.platformName() == "offscreen":
        _quiet_offscreen_warnings()
    w, h = args.size
    with tempfile.TemporaryDirectory() as tmp:
        # a throw-away settings file: a screenshot never depends on, or changes, the user's layout
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.IniFormat)
        win = _start(args, app, settings)
        if win is None:
            return 2
        try:
            code = _shoot(win, args, w, h)
        finally:  # whatever happened, the training thread ends before the process does
            stopped = _close_window(win, app)
        if not stopped:
            # a worker stuck in I/O: leave without destroying its running thread
            print("bpviz: the training thread did not stop in time; exiting", file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code


def _shoot(win, args, w: int, h: int) -> int:
    from bpviz.files import atomic_write
    from PySide6.QtCore import QBuffer, QIODevice
    if args.panel and args.panel not in win.docks:
        print(f"bpviz: error: argument --panel: no panel {args.panel!r} (choose from {', '.join(win.docks)})",
              file=sys.stderr)
        return 2
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
        win.debugger.tabs.setCurrentIndex(DEBUGGER_TABS.index(args.debugger_tab))
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
    buffer = QBuffer()  # encoded in memory, then written through the one atomic path
    buffer.open(QIODevice.WriteOnly)
    if not image.save(buffer, "PNG"):
        print(f"bpviz: error: cannot encode the picture for {args.out}", file=sys.stderr)
        return 1
    with atomic_write(args.out) as f:
        f.write(bytes(buffer.data()))
    print(f"wrote {args.out} ({image.width()}x{image.height()}): {c.latest.status}")
    return 0
