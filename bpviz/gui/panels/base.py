"""The contract every panel keeps: draw a Snapshot, do no math, never call the worker."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from bpviz.engine.snapshot import Snapshot


class Panel(QWidget):
    """A dockable view of the latest Snapshot.

    object_name   stable name used for the dock (and for saving the layout)
    title         dock title
    area          preferred dock area: "left", "right", "bottom" or "top"
    focus_requested   emitted when the user picks a sample in this panel (batch row index)
    """

    object_name = "panel"
    title = "Panel"
    area = "right"
    focus_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.snapshot: Snapshot | None = None
        self.focus_sample = 0

    def show_snapshot(self, snap: Snapshot) -> None:
        """Redraw from `snap`; called on the GUI thread at most once per frame. A panel
        nobody can see (a closed or hidden dock, a tab behind another) only remembers
        the snapshot, and draws it when it is shown."""
        if self.snapshot is not None and snap.run_id != self.snapshot.run_id:
            self.reset_view()
        self.snapshot = snap
        if self.isVisible() or not self.window().isVisible():
            self._stale = False
            self.redraw()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_stale", False) and self.snapshot is not None:
            self._stale = False
            self.redraw()

    def set_focus_sample(self, row: int) -> None:
        """Which sample (row of the current batch) the user focuses; redraws."""
        self.focus_sample = row
        if self.snapshot is not None:
            self.redraw()

    def reset_view(self) -> None:
        """The run was replaced: forget whatever was kept from the previous one (cached
        items, axes ranges, the explained cell). The next redraw starts afresh."""

    def redraw(self) -> None:  # pragma: no cover - every panel overrides it
        raise NotImplementedError
