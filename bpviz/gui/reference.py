"""Help → Equations: the equations reference (resources/equations.md) in a dialog. Prose
is Qt's own Markdown; every `$$ … $$` line is typeset by ziamath exactly as the equations
panel typesets its equations, and placed in the text as an image."""
from __future__ import annotations

import re

from PySide6.QtCore import QRectF, QSize, Qt, QUrl
from PySide6.QtGui import (QIcon, QImage, QPainter, QTextBlockFormat, QTextCursor, QTextDocument,
                           QTextImageFormat)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QDialog, QHBoxLayout, QListWidget, QSplitter, QTextBrowser

from bpviz.resources import ICON_SIZES, icon_png, read_text

from .widgets.mathview import latex_svg

REFERENCE = "equations.md"
MATH_SIZE = 20  # between the panel's current equation (22) and its list (14)
_MATH_LINE = re.compile(r"^\$\$(.+)\$\$\s*$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")


def app_icon() -> QIcon:
    """bpviz's icon at every size it ships, read from the installed package."""
    from PySide6.QtGui import QPixmap
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(icon_png(size).read_bytes(), "PNG"):
            icon.addPixmap(pixmap)
    return icon


def split_blocks(markdown: str) -> list[tuple[str, str]]:
    """The document as ("markdown", text) and ("math", latex) pieces, in order."""
    blocks: list[tuple[str, str]] = []
    prose: list[str] = []
    for line in markdown.splitlines():
        m = _MATH_LINE.match(line.strip())
        if m:
            if prose:
                blocks.append(("markdown", "\n".join(prose)))
                prose = []
            blocks.append(("math", m.group(1).strip()))
        else:
            prose.append(line)
    if prose:
        blocks.append(("markdown", "\n".join(prose)))
    return blocks


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading of levels 1 to 3, for the table of contents."""
    out = []
    for line in markdown.splitlines():
        m = _HEADING.match(line)
        if m:
            out.append((len(m.group(1)), m.group(2).strip()))
    return out


def math_image(tex: str, color: str, size: float, dpr: float) -> QImage:
    """`tex` typeset by ziamath and drawn at the screen's pixel density."""
    renderer = QSvgRenderer(latex_svg(tex, color, size))
    logical = renderer.defaultSize()
    image = QImage(QSize(max(1, round(logical.width() * dpr)), max(1, round(logical.height() * dpr))),
                   QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    renderer.render(p, QRectF(0, 0, image.width(), image.height()))
    p.end()
    image.setDevicePixelRatio(dpr)
    return image


class ReferenceDialog(QDialog):
    """The reference with a table of contents; built once, kept by the window."""

    def __init__(self, parent=None, icon: QIcon | None = None):
        super().__init__(parent)
        self.setWindowTitle("bpviz — the equations")
        if icon is not None:
            self.setWindowIcon(icon)
        self.markdown = read_text(REFERENCE)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.contents = QListWidget()
        self.contents.setMinimumWidth(240)
        self.contents.setWordWrap(True)  # long titles wrap instead of scrolling sideways
        self.contents.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        split = QSplitter()
        split.addWidget(self.contents)
        split.addWidget(self.browser)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 770])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.math_count = 0
        self._build()
        self.contents.currentRowChanged.connect(self._go_to)
        self.resize(1100, 800)

    def _build(self) -> None:
        doc = self.browser.document()
        doc.setDocumentMargin(16)
        color = self.browser.palette().text().color().name()
        dpr = max(1.0, self.devicePixelRatioF())
        cursor = QTextCursor(doc)
        centred = QTextBlockFormat()
        centred.setAlignment(Qt.AlignHCenter)
        centred.setTopMargin(4)
        centred.setBottomMargin(8)
        for kind, text in split_blocks(self.markdown):
            if kind == "markdown":
                # blank lines around a math line would become empty paragraphs
                cursor.insertMarkdown(text.strip("\n"), QTextDocument.MarkdownDialectGitHub)
                continue
            image = math_image(text, color, MATH_SIZE, dpr)
            name = f"math:{self.math_count}"
            doc.addResource(QTextDocument.ImageResource, QUrl(name), image)
            cursor.insertBlock(centred)
            fmt = QTextImageFormat()
            fmt.setName(name)
            fmt.setWidth(image.width() / dpr)
            fmt.setHeight(image.height() / dpr)
            fmt.setToolTip(text)  # the LaTeX, for copying
            cursor.insertImage(fmt)
            cursor.insertBlock(QTextBlockFormat())
            self.math_count += 1
        self.browser.moveCursor(QTextCursor.Start)
        self.heading_positions: list[int] = []
        block = doc.begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if 1 <= level <= 3:
                self.heading_positions.append(block.position())
                self.contents.addItem("    " * (level - 1) + block.text())
            block = block.next()

    def _go_to(self, row: int) -> None:
        """Scroll to the heading chosen in the table of contents, at the top of the view."""
        if not 0 <= row < len(self.heading_positions):
            return
        cursor = QTextCursor(self.browser.document())
        cursor.setPosition(self.heading_positions[row])
        bar = self.browser.verticalScrollBar()
        bar.setValue(bar.maximum())  # scrolling back up to the cursor leaves it at the top
        self.browser.setTextCursor(cursor)
        self.browser.ensureCursorVisible()
        if row == 0:  # the title: the top of the page, margin included
            bar.setValue(0)
