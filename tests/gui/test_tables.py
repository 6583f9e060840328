"""The number tables: a frame is one model update, not a signal per cell."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import Qt

from bpviz.gui.widgets.tables import ArrayModel, NumberGrid


def test_a_new_frame_is_one_data_change_and_no_reset(qtbot):
    g = NumberGrid()
    qtbot.addWidget(g)
    g.show()
    g.set_values(np.array([[0.5, -0.25], [1.0, 0.0]]))
    model = g.model()
    changes, resets = [], []
    model.dataChanged.connect(lambda a, b, roles=(): changes.append((a.row(), a.column(), b.row(), b.column())))
    model.modelReset.connect(lambda: resets.append(1))
    g.set_values(np.array([[0.75, -0.5], [2.0, 1e-9]]))
    assert changes == [(0, 0, 1, 1)] and resets == []
    assert [g.text_at(i, j) for i in range(2) for j in range(2)] == ["+0.7500", "-0.5000", "+2.0000", "+1.000e-09"]
    g.set_values(np.array([[1.0, 2.0, 3.0]]))  # another shape: the view starts afresh
    assert resets == [1] and g.rowCount() == 1 and g.columnCount() == 3


def test_tooltips_tints_and_highlight_come_from_the_numbers(qtbot):
    g = NumberGrid()
    qtbot.addWidget(g)
    g.set_values(np.array([[0.5, -1.0, 0.0]]))
    m = g.model()

    def at(j, role):
        return m.data(m.index(0, j), role)

    assert at(0, Qt.ToolTipRole) == "[0, 0] = 0.5"
    assert at(0, Qt.BackgroundRole).color().red() > at(0, Qt.BackgroundRole).color().blue()  # positive: red
    assert at(1, Qt.BackgroundRole).color().blue() > at(1, Qt.BackgroundRole).color().red()  # negative: blue
    assert at(1, Qt.BackgroundRole).color().alpha() > at(0, Qt.BackgroundRole).color().alpha()  # larger: stronger
    assert at(2, Qt.BackgroundRole).color().alpha() == 0
    g.set_highlight([(0, 2)])
    assert at(2, Qt.BackgroundRole).color().rgb() == 0xFFFFC800


def test_an_edit_is_reported_and_the_shown_number_stays_the_snapshots(qtbot):
    m = ArrayModel()
    m.set_cells(np.array([[0.1234567, 1.0, 0.0]]), [["0.1235", "1", "0"]], ["x0", "x1", "y"], editable=2)
    assert m.flags(m.index(0, 1)) & Qt.ItemIsEditable and not m.flags(m.index(0, 2)) & Qt.ItemIsEditable
    assert m.headerData(2, Qt.Horizontal) == "y" and m.headerData(0, Qt.Vertical) == "0"
    with qtbot.waitSignal(m.edited) as sig:
        m.setData(m.index(0, 1), "0.5")
    assert sig.args == [0, 1, "0.5"]
    assert m.data(m.index(0, 1)) == "1"
    with qtbot.assertNotEmitted(m.edited):
        m.setData(m.index(0, 2), "3")  # a target cannot be edited


def test_editing_one_input_keeps_the_others_exact(qtbot):
    """The other inputs come from the numbers, not from their 4-digit texts."""
    from bpviz.gui.panels.sample import SampleView
    s = SampleView()
    qtbot.addWidget(s)
    x = np.array([[0.123456789, 2.0], [1.0, 1.0]])  # (2, 2)
    y = np.array([[1.0], [0.0]])  # (2, 1)
    s._fill_table(x, y, None, 0)
    with qtbot.waitSignal(s.input_edited) as sig:
        s.table.model().setData(s.table.model().index(0, 1), "3")
    assert sig.args[0] == 0 and sig.args[1] == [0.123456789, 3.0]
    with qtbot.assertNotEmitted(s.input_edited):
        s.table.model().setData(s.table.model().index(0, 0), "abc")
    assert "'abc' is not a number" in s.caption.text()
