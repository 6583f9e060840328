"""The number tables: a frame sets only what changed, and an edit is reported, not kept."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette
from PySide6.QtWidgets import QToolTip

from bpviz.gui.widgets.tables import NumberGrid, NumberTable


def test_a_frame_sets_only_the_cells_that_changed(qtbot):
    g = NumberGrid()
    qtbot.addWidget(g)
    g.show()
    g.set_values(np.array([[0.5, -0.25], [1.0, 0.0]]))
    changed = []
    g.model().dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), a.column())))
    g.set_values(np.array([[0.5, -0.25], [1.0, 1e-9]]))  # one number changed, and its tint
    assert set(changed) == {(1, 1)}
    assert [g.text_at(i, j) for i in range(2) for j in range(2)] == ["+0.5000", "-0.2500", "+1.0000", "+1.000e-09"]
    assert [g.item(i, j).text() for i in range(2) for j in range(2)] == ["+0.5000", "-0.2500", "+1.0000", "+1.000e-09"]
    g.set_values(np.array([[1.0, 2.0, 3.0]]))  # another shape
    assert g.rowCount() == 1 and g.columnCount() == 3 and g.item(0, 2).text() == "+3.0000"


def test_tints_follow_sign_and_size_and_the_highlight(qtbot):
    g = NumberGrid()
    qtbot.addWidget(g)
    g.set_values(np.array([[0.5, -1.0, 0.0]]))

    def tint(j):
        return g.item(0, j).background().color()

    assert tint(0).red() > tint(0).blue() and tint(1).blue() > tint(1).red()  # red +, blue −
    assert tint(1).alpha() > tint(0).alpha() > 0  # the larger, the stronger
    assert tint(2).alpha() == 0  # zero: no tint
    g.set_highlight([(0, 2)])
    assert tint(2).rgb() == 0xFFFFC800
    light = tint(1).alpha()
    dark = g.palette()
    dark.setColor(QPalette.Base, QColor(30, 30, 30))
    g.setPalette(dark)
    g.set_highlight([])
    assert tint(1).alpha() == 2 * light  # on a dark base the faint blue barely showed


def test_the_tooltip_gives_the_exact_value_when_asked(qtbot):
    g = NumberGrid()
    qtbot.addWidget(g)
    g.show()
    qtbot.waitExposed(g)
    g.set_values(np.array([[0.123456789, 2.0]]))
    at = g.visualItemRect(g.item(0, 0)).center()
    g.viewportEvent(QHelpEvent(QEvent.ToolTip, at, g.viewport().mapToGlobal(at)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2000)
    assert QToolTip.text() == "[0, 0] = 0.123456789"
    QToolTip.hideText()


def test_an_edit_is_reported_and_the_shown_number_stays_the_snapshots(qtbot):
    t = NumberTable()
    qtbot.addWidget(t)
    t.show_cells(np.array([[0.1234567, 1.0, 0.0]]), [["0.1235", "1", "0"]], ["x0", "x1", "y"], editable=2)
    assert t.item(0, 1).flags() & Qt.ItemIsEditable and not t.item(0, 2).flags() & Qt.ItemIsEditable
    assert t.horizontalHeaderItem(2).text() == "y" and t.verticalHeaderItem(0).text() == "0"
    with qtbot.waitSignal(t.edited) as sig:
        t.item(0, 1).setText("0.5")  # what the editor does when the user presses Enter
    assert sig.args == [0, 1, "0.5"]
    assert t.item(0, 1).text() == "1"
    with qtbot.assertNotEmitted(t.edited):
        t.show_cells(np.array([[0.2, 1.0, 0.0]]), [["0.2", "1", "0"]], ["x0", "x1", "y"], editable=2)  # a new frame


def test_editing_one_input_keeps_the_others_exact(qtbot):
    """The other inputs come from the numbers, not from their 4-digit texts."""
    from bpviz.gui.panels.sample import SampleView
    s = SampleView()
    qtbot.addWidget(s)
    x = np.array([[0.123456789, 2.0], [1.0, 1.0]])  # (2, 2)
    y = np.array([[1.0], [0.0]])  # (2, 1)
    s._fill_table(x, y, None, 0)
    with qtbot.waitSignal(s.input_edited) as sig:
        s.table.item(0, 1).setText("3")
    assert sig.args[0] == 0 and sig.args[1] == [0.123456789, 3.0]
    with qtbot.assertNotEmitted(s.input_edited):
        s.table.item(0, 0).setText("abc")
    assert "'abc' is not a number" in s.caption.text()
