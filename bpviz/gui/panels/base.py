"""The contract every panel keeps: draw a Snapshot, do no math, never call the worker."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QTimer, Signal
from PySide6.QtWidgets import QWidget

from bpviz.engine.snapshot import Snapshot


def in_view(widget) -> bool:
    """Whether a redraw of `widget` would reach the screen. Qt keeps a dock that is a tab
    behind another "visible" and only moves it out of the window, so isVisible() alone
    would have every hidden tab redraw each frame; a window not shown yet (a screenshot, a
    test) draws everything. (Not visibleRegion(): it leaves out opaque children, and is
    empty for a widget that one opaque child fills, such as the debugger's content.)"""
    window = widget.window()
    if not window.isVisible():
        return True
    if not widget.isVisible():
        return False
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()).intersects(window.rect())


def catch_up_when_shown(dock, receiver, exposed) -> None:
    """Call `exposed` (tied to `receiver`) after the layout pass that shows `dock`: a tab
    raised, a dock shown again, or a dock floated out of the tabs it was behind (Qt thinks
    it visible all along, so only the float says it now reaches the screen)."""
    later = lambda: QTimer.singleShot(0, receiver, exposed)  # noqa: E731
    dock.visibilityChanged.connect(lambda on: on and later())
    dock.topLevelChanged.connect(lambda _floating: later())


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
        if self.snapshot is None:
            from ..widgets.plots import plain_axes
            plain_axes(self)  # before any range: the subclass has made its plots by now
        elif snap.run_id != self.snapshot.run_id:
            self.reset_view()
        self.snapshot = snap
        if self.seen():
            self._stale = False
            self.redraw()
        else:
            self._stale = True

    def seen(self) -> bool:
        return in_view(self)

    def exposed(self) -> None:
        """The panel came into view (its tab raised, its dock shown or given room): draw
        the snapshot it kept while hidden."""
        if getattr(self, "_stale", False) and self.snapshot is not None and self.seen():
            self._stale = False
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.exposed()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if getattr(self, "_stale", False):
            QTimer.singleShot(0, self, self.exposed)  # after the layout pass that gave it room

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
