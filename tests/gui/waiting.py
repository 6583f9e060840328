"""Waiting for the window's run, and counting its events, shared by the window tests."""
import numpy as np
from PySide6.QtCore import QObject


def do(qtbot, target, fn, *args, timeout=20000):
    """Call `fn(*args)` and wait for the snapshot it causes; `target` is a window or its
    controller. Returns that snapshot."""
    c = getattr(target, "controller", target)
    before = c.latest.serial
    with qtbot.waitSignal(c.snapshot_changed, timeout=timeout, check_params_cb=lambda s: s.serial > before):
        fn(*args)
    return c.latest


def same_arrays(a, b):
    """Two snapshots hold the same stage with identical arrays."""
    assert set(a.stage.arrays) == set(b.stage.arrays)
    for k in a.stage.arrays:
        np.testing.assert_array_equal(a.stage.arrays[k], b.stage.arrays[k])


class EventCount(QObject):
    """Counts the events of one type (a QEvent.Type) that reach the objects it filters."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.n = 0

    def eventFilter(self, obj, event):
        if event.type() == self.kind:
            self.n += 1
        return False
