"""Help → Equations: the reference rendered with the equations panel's typesetting."""
from __future__ import annotations

import re

import pytest

from bpviz.engine.equations import CATALOGUE
from bpviz.gui.widgets.mathview import latex_svg
from bpviz.gui.reference import ReferenceDialog, app_icon, headings, split_blocks
from bpviz.resources import ICON_SIZES, read_text

MARKDOWN = read_text("equations.md")
MATH = [tex for kind, tex in split_blocks(MARKDOWN) if kind == "math"]


def test_split_keeps_prose_and_math_in_order():
    blocks = split_blocks("intro\n\n$$a = b$$\n\nmore\n$$c$$")
    assert blocks == [("markdown", "intro\n"), ("math", "a = b"), ("markdown", "\nmore"), ("math", "c")]


@pytest.mark.parametrize("tex", MATH)
def test_every_equation_of_the_reference_typesets(tex):
    svg = bytes(latex_svg(tex)).decode()
    assert "<svg" in svg and "<path" in svg


@pytest.fixture(scope="module")
def dialog(qapp):
    d = ReferenceDialog(icon=app_icon())
    yield d
    d.close()


def test_the_dialog_shows_every_equation_typeset_and_the_prose(dialog, qtbot):
    assert len(MATH) >= 2 * len(CATALOGUE) - 4  # most equations come in both notations
    assert dialog.math_count == len(MATH)
    text = dialog.browser.toPlainText()
    for eq_id in CATALOGUE:
        assert f"{eq_id} — " in text, eq_id
    assert "$$" not in text and "**" not in text  # rendered, not shown as source
    doc = dialog.browser.document()
    images = [f for b in _blocks(doc) for f in _image_names(b)]
    assert len(images) == len(MATH)
    from PySide6.QtGui import QImage, QTextDocument
    for n in images:
        image = doc.resource(QTextDocument.ImageResource, _url(n))
        assert isinstance(image, QImage) and not image.isNull(), n


def _blocks(doc):
    b = doc.begin()
    while b.isValid():
        yield b
        b = b.next()


def _image_names(block):
    it = block.begin()
    while not it.atEnd():
        f = it.fragment().charFormat()
        if f.isImageFormat():
            yield f.toImageFormat().name()
        it += 1


def _url(name):
    from PySide6.QtCore import QUrl
    return QUrl(name)


def test_the_contents_list_every_heading_and_scroll_to_it(dialog, qtbot):
    dialog.resize(900, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    wanted = [t for _, t in headings(MARKDOWN)]
    shown = [dialog.contents.item(i).text().strip() for i in range(dialog.contents.count())]
    assert [re.sub(r"[*`]", "", t) for t in wanted] == shown
    bar = dialog.browser.verticalScrollBar()
    last = len(shown) - 1
    dialog.contents.setCurrentRow(last)
    assert bar.value() > 0, "the last section is below the first screen"
    cursor_rect = dialog.browser.cursorRect()
    assert 0 <= cursor_rect.top() < dialog.browser.viewport().height() // 2, "the heading is near the top"
    dialog.contents.setCurrentRow(0)
    assert bar.value() == 0


def test_the_icon_has_every_size(qapp):
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert sizes == set(ICON_SIZES)


def test_help_equations_opens_the_reference_from_the_window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    try:
        assert not win.windowIcon().isNull()
        help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
        action = next(a for a in help_menu.actions() if a.text() == "Equations")
        action.trigger()
        assert win.reference.isVisible() and win.reference.math_count == len(MATH)
        assert win.reference.windowIcon().cacheKey() == win.windowIcon().cacheKey()
        first = win.reference
        action.trigger()  # opened again: the same dialog, not typeset twice
        assert win.reference is first
    finally:
        win.controller.shutdown()
