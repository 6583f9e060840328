"""Small tables of numbers that change every frame, drawn from a model.

A QTableWidget holds one item a cell, and each of an item's setters (text, tooltip,
colour) tells the view on its own: 3 signals a cell a frame while playing. Here a frame
hands the model its new texts and the model sends one dataChanged for the whole table;
tooltips and tints are worked out only for the cells a view asks about."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QTableView

from bpviz.engine.explain import fmt

_RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


class ArrayModel(QAbstractTableModel):
    """A matrix of numbers with their texts. The first `editable` columns can be edited:
    an edit is only reported (`edited`), the number shown stays the snapshot's until a new
    snapshot brings the edited value."""

    edited = Signal(int, int, str)  # row, column, the text typed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.values = np.zeros((0, 0))  # (rows, cols) read-only, the numbers behind the texts
        self.texts: list[list[str]] = []
        self.columns: list[str] | None = None  # header texts; None: 0-based indices
        self.editable = 0

    def set_cells(self, values: np.ndarray, texts: list[list[str]], columns: Sequence[str] | None = None,
                  editable: int = 0) -> bool:
        """Show `values` as `texts`; True when the table changed shape (the view then
        measures its columns again)."""
        columns = None if columns is None else list(columns)
        reshaped = (np.shape(values) != self.values.shape or columns != self.columns
                    or editable != self.editable)
        if reshaped:
            self.beginResetModel()
        self.values, self.texts, self.columns, self.editable = values, texts, columns, editable
        if reshaped:
            self.endResetModel()
        elif values.size:
            self.dataChanged.emit(self.index(0, 0), self.index(values.shape[0] - 1, values.shape[1] - 1))
        return reshaped

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values.shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values.shape[1]

    def tip(self, i: int, j: int) -> str:
        return "double-click to edit this input" if j < self.editable else ""

    def background(self, i: int, j: int) -> QBrush | None:
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        i, j = index.row(), index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            return self.texts[i][j]
        if role == Qt.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ToolTipRole:
            return self.tip(i, j) or None
        if role == Qt.BackgroundRole:
            return self.background(i, j)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal and self.columns is not None:
            return self.columns[section]
        return str(section)  # 0-based, like every [i, j] the panels print

    def flags(self, index: QModelIndex) -> Qt.ItemFlags:
        base = super().flags(index)
        return base | Qt.ItemIsEditable if index.column() < self.editable else base

    def setData(self, index: QModelIndex, value, role: int = Qt.EditRole) -> bool:
        if role != Qt.EditRole or index.column() >= self.editable:
            return False
        self.edited.emit(index.row(), index.column(), str(value))
        return False  # the table keeps the snapshot's number; the next snapshot has the edit


class TintedModel(ArrayModel):
    """Cells tinted faintly by magnitude (red positive, blue negative), highlighted ones
    amber, and each cell's exact value in its tooltip."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.highlight: set[tuple[int, int]] = set()
        self._top = 0.0

    def set_cells(self, values, texts, columns=None, editable=0) -> bool:
        self._top = float(np.max(np.abs(values))) if values.size else 0.0
        return super().set_cells(values, texts, columns, editable)

    def set_highlight(self, cells) -> None:
        self.highlight = set(cells)
        if self.values.size:
            self.dataChanged.emit(self.index(0, 0), self.index(self.values.shape[0] - 1, self.values.shape[1] - 1),
                                  [Qt.BackgroundRole])

    def tip(self, i: int, j: int) -> str:
        return f"[{i}, {j}] = {float(self.values[i, j])!r}"

    def background(self, i: int, j: int) -> QBrush:
        if (i, j) in self.highlight:
            return QBrush(QColor(255, 200, 0, 170))
        v, top = float(self.values[i, j]), self._top
        if top == 0 or not np.isfinite(v):
            return QBrush(Qt.transparent)
        a = int(70 * min(1.0, abs(v) / top))
        return QBrush(QColor(220, 60, 40, a) if v > 0 else QColor(40, 90, 220, a))


class ArrayTable(QTableView):
    """A view of an ArrayModel whose columns are measured only when the table changes
    shape or a text gets longer than its column was measured for (measuring is slow)."""

    def __init__(self, model: ArrayModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self._sized_chars: list[int] = []

    def rowCount(self) -> int:
        return self.model().rowCount()

    def columnCount(self) -> int:
        return self.model().columnCount()

    def text_at(self, i: int, j: int) -> str:
        return self.model().texts[i][j]

    def show_cells(self, values: np.ndarray, texts: list[list[str]], columns=None, editable: int = 0,
                   measure_again: bool = False) -> None:
        reshaped = self.model().set_cells(values, texts, columns, editable)
        longest = [max((len(row[j]) for row in texts), default=0) for j in range(values.shape[1])]
        if (reshaped or measure_again or len(self._sized_chars) != len(longest)
                or any(n > m for n, m in zip(longest, self._sized_chars))):
            # a column sized for "+0.0000" cannot show "+7.584e-06": never a cell ending in "…"
            self.resizeColumnsToContents()
            self._sized_chars = longest


class NumberGrid(ArrayTable):
    """A small matrix of numbers: fixed digits with explicit signs (readable without
    colour), a faint diverging background for magnitude, clickable cells and
    highlighted ones (the cells an explained number came from)."""

    cell_picked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(TintedModel(), parent)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self._fixed = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        self._fixed_pt = self._fixed.pointSizeF() if self._fixed.pointSizeF() > 0 else 9.0
        self.clicked.connect(lambda index: self.cell_picked.emit(index.row(), index.column()))
        self._digits: int | None = 4
        self._sized_for: int | None | str = "never"
        self.set_scale(1.0)

    def set_values(self, values: np.ndarray, digits: int | None = 4) -> None:
        values = np.atleast_2d(np.asarray(values))  # (rows, cols)
        self._digits = digits
        texts = [[fmt(v, digits) for v in row] for row in values.tolist()]
        self.show_cells(values, texts, measure_again=digits != self._sized_for)
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
        model = self.model()
        if model.values.size:
            self.set_values(model.values, self._digits)

    def set_highlight(self, cells) -> None:
        self.model().set_highlight(cells)
