"""A widget saved as PNG (pixels) or SVG (vector, from Qt's painter).

Qt renders into memory and the bytes go through bpviz.files.atomic_write, so a full
disk or a killed process keeps the previous file whole and leaves no `X.png.part.png`.
"""
from __future__ import annotations

import errno
import os

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsView, QWidget

from bpviz.files import write_bytes


def png_bytes(widget: QWidget) -> bytes:
    return image_png_bytes(widget.grab())


def image_png_bytes(image) -> bytes:
    """A QImage or QPixmap encoded as PNG, in memory."""
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    ok = image.save(buf, "PNG")
    buf.close()
    if not ok or data.isEmpty():
        raise ValueError("Qt could not encode the image as PNG")
    return bytes(data.data())


def svg_bytes(widget: QWidget, title: str = "") -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(widget.width(), widget.height()))
    gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    if title:
        gen.setTitle(title)
    painter = QPainter()
    if not painter.begin(gen):
        raise ValueError("Qt could not start an SVG drawing")
    # pyqtgraph's items draw for an export as its own exporters tell them to: scatter dots
    # as shapes (on screen they are pieces of one shared image, which the SVG file took whole)
    items = [i for view in widget.findChildren(QGraphicsView) if view.scene() is not None
             for i in view.scene().items() if hasattr(i, "setExportMode")]
    try:
        for item in items:
            item.setExportMode(True, {"antialias": True, "painter": painter})
        widget.render(painter, QPoint(0, 0))
    finally:
        for item in items:
            item.setExportMode(False)
        painter.end()
    buf.close()
    if data.isEmpty():
        raise ValueError("Qt produced no SVG")
    return bytes(data.data())


def export_widget(widget: QWidget, path: str | os.PathLike, title: str = "") -> str:
    """`widget` into `path`: SVG when the name ends in .svg (any case), PNG otherwise.
    Raises OSError naming `path`; on failure the previous file at `path` is untouched."""
    user_path = os.fspath(path)
    try:
        data = svg_bytes(widget, title) if user_path.lower().endswith(".svg") else png_bytes(widget)
    except ValueError as e:
        raise OSError(errno.EIO, str(e), user_path) from None
    write_bytes(user_path, data)
    return user_path


def save_image(image, path: str | os.PathLike) -> str:
    """A QImage or QPixmap saved as PNG into `path`, atomically; OSError naming `path`."""
    user_path = os.fspath(path)
    try:
        data = image_png_bytes(image)
    except ValueError as e:
        raise OSError(errno.EIO, str(e), user_path) from None
    write_bytes(user_path, data)
    return user_path
