#!/usr/bin/env python3
"""Does this PySide6 leak references to True on Signal.emit()? PySide6-Essentials 6.12.0 on
CPython 3.11 drops one per emit and the interpreter aborts (bool_dealloc) after a few
hundred. Emits N signals (default 1000) and prints sys.getrefcount(True) before and after.
Exit 0: the count did not fall; 1: it fell; a crash shows as the process dying by a signal.
On CPython 3.12+ True is immortal (PEP 683): its count is fixed and a leak cannot free it."""
from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    import PySide6
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    class Emitter(QObject):
        flag = Signal(bool)
        bare = Signal()
        anything = Signal(object)

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])  # noqa: F841
    e = Emitter()
    received = [0]

    def count(*_):  # keeps no reference to what it receives, so only a leak moves the count
        received[0] += 1
    e.flag.connect(count)
    e.bare.connect(count)
    e.anything.connect(count)
    before = sys.getrefcount(True)
    for _ in range(n):
        e.flag.emit(True)
        e.bare.emit()
        e.anything.emit(True)
    after = sys.getrefcount(True)
    # CPython 3.12+ makes True immortal (PEP 683): the leak cannot free it, and its count is
    # a fixed marker that abi3 extensions' increments and the core's resets move about
    immortal = sys.version_info >= (3, 12)
    fell = after < before and not immortal
    if received[0] != 3 * n:
        print(f"only {received[0]} of {3 * n} emits arrived", file=sys.stderr)
        return 1
    print(f"Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}: {3 * n} emits, "
          f"getrefcount(True) {before} -> {after}: "
          f"{'FELL' if fell else 'ok (True is immortal here; no crash)' if immortal else 'ok'}")
    return 1 if fell else 0


if __name__ == "__main__":
    sys.exit(main())
