"""Small tables of numbers that change every frame.

They hold Qt's own items (C++), not a Python model: Qt's delegate asks a model about ten
roles a cell at every paint, and through PySide each answer is a Python call of 7-20 µs.
Measured on a 4 x 10 grid: a QAbstractTableModel painted in 5.2 ms and measured its
columns in 6.1 ms, the items in 0.4 ms and 1.0 ms. What made the items slow is avoided
instead: a cell's text and tint are set only when they change, its tooltip (the exact
value) is worked out when asked for, and columns are measured only when a text outgrows
them."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem, QToolTip

from bpviz.engine.explain import fmt

from ..style import on_dark

_RIGHT = Qt.AlignRight | Qt.AlignVCenter


class NumberTable(QTableWidget):
    """A matrix of numbers shown as given texts. The first `editable` columns can be edited:
    an edit is only reported (`edited`); the number shown stays the snapshot's until a new
    snapshot brings the edited value."""

    edited = Signal(int, int, str)  # row, column, the text typed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.values = np.zeros((0, 0))  # (rows, cols): the numbers behind the texts
        self._texts: list[list[str]] = []
        self._tints: list[list[int | None]] = []
        self._columns: list[str] | None = None
        self._row_heads: list[str] | None = None
        self._editable = 0
        self._sized_chars: list[int] = []
        self.itemChanged.connect(self._item_changed)

    def text_at(self, i: int, j: int) -> str:
        return self._texts[i][j]

    def show_cells(self, values: np.ndarray, texts: list[list[str]], columns: Sequence[str] | None = None,
                   editable: int = 0, tints: list[list[QColor | None]] | None = None,
                   measure_again: bool = False, row_heads: Sequence[str] | None = None) -> None:
        rows, cols = values.shape
        columns = None if columns is None else list(columns)
        row_heads = None if row_heads is None else list(row_heads)
        self.blockSignals(True)  # our own setText is not an edit
        reshaped = ((rows, cols) != (self.rowCount(), self.columnCount()) or columns != self._columns
                    or row_heads != self._row_heads)
        if reshaped or editable != self._editable:
            self.setRowCount(rows)
            self.setColumnCount(cols)
            # 0-based, like every [i, j] the panels print
            self.setVerticalHeaderLabels(row_heads if row_heads is not None else [str(i) for i in range(rows)])
            self.setHorizontalHeaderLabels(columns if columns is not None else [str(j) for j in range(cols)])
            for i in range(rows):
                for j in range(cols):
                    item = QTableWidgetItem()
                    item.setTextAlignment(_RIGHT)
                    flags = item.flags() | Qt.ItemIsEditable if j < editable else item.flags() & ~Qt.ItemIsEditable
                    item.setFlags(flags)
                    self.setItem(i, j, item)
            self._texts = [[None] * cols for _ in range(rows)]
            self._tints = [[None] * cols for _ in range(rows)]
            self._columns, self._row_heads, self._editable = columns, row_heads, editable
        for i in range(rows):
            old_row, new_row = self._texts[i], texts[i]
            for j in range(cols):
                if old_row[j] != new_row[j]:
                    self.item(i, j).setText(new_row[j])
                    old_row[j] = new_row[j]
            if tints is not None:
                old_tints = self._tints[i]
                for j, c in enumerate(tints[i]):
                    key = None if c is None else c.rgba()
                    if old_tints[j] != key:
                        self.item(i, j).setBackground(QBrush(c) if c is not None else QBrush())
                        old_tints[j] = key
        self.values = values
        self.blockSignals(False)
        longest = [max((len(row[j]) for row in texts), default=0) for j in range(cols)]
        if (reshaped or measure_again or len(self._sized_chars) != cols
                or any(n > m for n, m in zip(longest, self._sized_chars))):
            # a column sized for "+0.0000" cannot show "+7.584e-06": never a cell ending in "…"
            self.resizeColumnsToContents()
            self._sized_chars = longest

    def tip(self, i: int, j: int) -> str:
        return "double-click to edit this input" if j < self._editable else ""

    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.ToolTip:  # worked out on demand: the numbers change every frame
            index = self.indexAt(event.pos())
            text = self.tip(index.row(), index.column()) if index.isValid() else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport(), self.visualRect(index))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        i, j = item.row(), item.column()
        if j < self._editable and i < len(self._texts) and item.text() != self._texts[i][j]:
            text = item.text()
            self.blockSignals(True)
            item.setText(self._texts[i][j])  # the snapshot's number until the next snapshot
            self.blockSignals(False)
            self.edited.emit(i, j, text)


def index_heads(index: list[list[tuple]]) -> tuple[list[str], list[str]]:
    """Row and column headers for cells taken from a larger matrix (`index`: each cell's
    [i, j] in it, row by row): the indices that run along each, and a row that is one of the
    matrix's columns laid on its side is headed "[:,j]"."""
    rows = []
    for line in index:
        firsts, seconds = {ix[0] for ix in line}, {ix[1] for ix in line}
        rows.append(str(line[0][0]) if len(firsts) == 1 or len(seconds) > 1 else f"[:,{line[0][1]}]")
    first = index[0] if index else []
    sideways = len(first) > 1 and len({ix[1] for ix in first}) == 1
    along = [ix[0] if sideways else ix[1] for ix in first]
    # "…124" where entries were left out: the two halves of a long row read as one otherwise
    columns = [("…" if k and n > along[k - 1] + 1 else "") + str(n) for k, n in enumerate(along)]
    return rows, columns


class NumberGrid(NumberTable):
    """A small matrix of numbers: fixed digits with explicit signs (readable without
    colour), a faint diverging background for magnitude, clickable cells and
    highlighted ones (the cells an explained number came from)."""

    cell_picked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self._fixed = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        self._fixed_pt = self._fixed.pointSizeF() if self._fixed.pointSizeF() > 0 else 9.0
        self.cellClicked.connect(lambda r, c: self.cell_picked.emit(r, c))
        self._digits: int | None = 4
        self._highlight: set[tuple[int, int]] = set()
        self._sized_for: int | None | str = "never"
        self._index: list[list[tuple]] | None = None  # each cell's index into the whole array
        self.set_scale(1.0)

    def set_values(self, values: np.ndarray, digits: int | None = 4, index: list[list[tuple]] | None = None) -> None:
        """`index` (a cell's index into the array it comes from, row by row) labels the rows,
        columns and tooltips when the cells are a part of a larger array: a row of entries
        0-3 and 124-127 is headed by those numbers, not by 0-7."""
        values = np.atleast_2d(np.asarray(values))  # (rows, cols)
        self._digits = digits
        if index is not None:
            self._index = index
        heads = index_heads(self._index) if self._index is not None else (None, None)
        flat = values.tolist()
        texts = [[fmt(v, digits) for v in row] for row in flat]
        top = float(np.max(np.abs(values))) if values.size else 0.0
        # on a dark base the same alpha barely shows (blue least): twice as strong there
        strength = 2 if on_dark(self) else 1
        tints = [[self._tint(v, top, (i, j) in self._highlight, strength) for j, v in enumerate(row)]
                 for i, row in enumerate(flat)]
        self.show_cells(values, texts, columns=heads[1], tints=tints, measure_again=digits != self._sized_for,
                        row_heads=heads[0])
        self._sized_for = digits

    def set_scale(self, factor: float) -> None:
        """Numbers, cells and headers at `factor` times their size (View → Zoom)."""
        font = QFont(self._fixed)
        font.setPointSizeF(self._fixed_pt * factor)
        self.setFont(font)
        self.horizontalHeader().setFont(font)
        self.verticalHeader().setFont(font)
        self.horizontalHeader().setDefaultSectionSize(int(78 * factor))
        self.verticalHeader().setDefaultSectionSize(int(22 * factor))
        self.verticalHeader().setMinimumSectionSize(int(18 * factor))
        for i in range(self.rowCount()):
            self.setRowHeight(i, int(22 * factor))
        self._sized_for = "never"  # columns measured again at the next set_values
        if self.values.size:
            self.set_values(self.values, self._digits)

    def set_highlight(self, cells) -> None:
        self._highlight = set(cells)
        if self.values.size:
            self.set_values(self.values, self._digits)

    def tip(self, i: int, j: int) -> str:
        where = self._index[i][j] if self._index is not None else (i, j)
        return f"[{', '.join(map(str, where))}] = {float(self.values[i, j])!r}"

    @staticmethod
    def _tint(v: float, top: float, highlighted: bool, strength: int = 1) -> QColor | None:
        if highlighted:
            return QColor(255, 200, 0, 170)
        if top == 0 or not np.isfinite(v):
            return None
        # 8 shades: a cell's tint is set again only when its shade changes
        a = strength * 10 * round(7 * min(1.0, abs(v) / top))
        return QColor(220, 60, 40, a) if v > 0 else QColor(40, 90, 220, a)
