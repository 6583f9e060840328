"""Typeset LaTeX in Qt: ziamath turns LaTeX into SVG (pure Python), QtSvg draws it.

Typesetting costs 20-35 ms an equation (25 of them were 1.4 s of the window's start), so
each (LaTeX, colour, size) is typeset once: the equations of every preset and of the
reference ship pre-typeset in the package (resources/typeset.zip, made by
`scripts/pretypeset`), and anything else is kept in memory and on disk in the user's cache
folder keyed by the LaTeX and ziamath's version. Numbers that change every frame are drawn
by the number tables (widgets/tables.py) instead."""
from __future__ import annotations

import hashlib
import itertools
import zipfile
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget

import numpy as np


_CACHE: OrderedDict[tuple, QByteArray] = OrderedDict()
_CACHE_SIZE = 512
_SERIAL = itertools.count(1)  # one number per QSvgRenderer made, naming its drawn pixmaps
# bump when the SVG we ask ziamath for changes (options, post-processing): old files are then ignored
_FORMAT = 1
_zm_version: str | None = None
SHIPPED = "typeset.zip"  # in bpviz.resources
SHIPPED_COLOR = "#000000"  # shipped forms are black; ziamath writes the colour only as fill="…"
_shipped: zipfile.ZipFile | None = None  # read into memory on the first miss


def cache_dir() -> Path:
    """Where typeset equations are kept: `typeset/` in the user's cache folder
    (~/.cache/bpviz/typeset on Linux)."""
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("bpviz")) / "typeset"


def _typesetter_version() -> str:
    global _zm_version
    if _zm_version is None:
        from importlib.metadata import PackageNotFoundError, version
        try:
            _zm_version = version("ziamath")
        except PackageNotFoundError:  # a vendored copy: its module says what it is
            import ziamath
            _zm_version = getattr(ziamath, "__version__", "unknown")
    return _zm_version


def _disk_path(tex: str, color: str, size: float) -> Path:
    key = f"{_FORMAT}\n{_typesetter_version()}\n{color}\n{size!r}\n{tex}".encode()
    return cache_dir() / f"{hashlib.sha256(key).hexdigest()}.svg"


def _read_disk(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:  # absent, unreadable: typeset again
        return None
    return data if data.lstrip().startswith((b"<svg", b"<?xml")) and data.rstrip().endswith(b">") else None


def _write_disk(path: Path, data: bytes) -> None:
    from bpviz.files import atomic_write
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            f.write(data)
    except OSError:  # a read-only or full cache folder costs the next start time, nothing else
        pass


def shipped_name(tex: str, size: float) -> str:
    """The entry of resources/typeset.zip holding `tex` at `size` (any colour)."""
    return hashlib.sha256(f"{_FORMAT}\n{float(size)!r}\n{tex}".encode()).hexdigest() + ".svg"


def recolor(svg: bytes, color: str) -> bytes:
    """A shipped (black) form in `color`: byte for byte what ziamath gives for that colour."""
    return svg if color == SHIPPED_COLOR else svg.replace(
        f'fill="{SHIPPED_COLOR}"'.encode(), f'fill="{color}"'.encode())


def shipped_svg(tex: str, size: float) -> bytes | None:
    """The shipped (black) SVG of `tex` at `size`, or None when it is not shipped."""
    global _shipped
    if _shipped is None:
        import io

        from bpviz.resources import resource
        try:  # 0.6 MB held compressed; an entry inflates in ~0.1 ms when asked for
            _shipped = zipfile.ZipFile(io.BytesIO(resource(SHIPPED).read_bytes()))
        except (OSError, zipfile.BadZipFile):  # not shipped (a trimmed install): typeset instead
            _shipped = zipfile.ZipFile(io.BytesIO(), "w")
    try:
        return _shipped.read(shipped_name(tex, size))
    except (KeyError, ValueError, zipfile.BadZipFile, OSError):  # absent or damaged: typeset instead
        return None


def write_shipped(forms, path: Path) -> int:
    """Typeset every (tex, size) of `forms` in black into the zip `path` (deterministic: the
    same forms and ziamath give the same bytes). Returns how many forms it holds."""
    import io

    from bpviz.files import atomic_write
    names: dict[str, bytes] = {}
    for tex, size in forms:
        names.setdefault(shipped_name(tex, size), typeset(tex, SHIPPED_COLOR, size))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.comment = f"bpviz typeset forms, ziamath {_typesetter_version()}".encode()
        for name in sorted(names):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), names[name],
                       compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    with atomic_write(path) as f:
        f.write(buf.getvalue())
    return len(names)


def typeset(tex: str, color: str, size: float) -> bytes:
    """SVG 1.1 bytes from ziamath, without any cache. Raises ValueError on bad LaTeX."""
    import ziamath as zm
    zm.config.svg2 = False  # QtSvg draws ziamath's default SVG 2 output as nothing
    try:
        return zm.Math.fromlatex(tex, size=size, color=color).svg().encode()
    except Exception as e:  # ziamath raises assorted errors on malformed input
        raise ValueError(f"cannot typeset {tex!r}: {e}") from e


def known_svg(tex: str, color: str = "#000000", size: float = 18) -> QByteArray | None:
    """latex_svg without typesetting: from memory, else shipped in the package, else from
    the disk cache; None when `tex` would have to be typeset."""
    key = (tex, color, size)
    svg = _CACHE.get(key)
    if svg is not None:
        _CACHE.move_to_end(key)
        return svg
    data = shipped_svg(tex, size)
    data = recolor(data, color) if data is not None else _read_disk(_disk_path(tex, color, size))
    return None if data is None else _keep(key, data)


def _keep(key: tuple, data: bytes) -> QByteArray:
    """`data` kept in memory under `key` (the least recently used go past _CACHE_SIZE)."""
    svg = QByteArray(data)
    _CACHE[key] = svg
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return svg


def latex_svg(tex: str, color: str = "#000000", size: float = 18) -> QByteArray:
    """SVG bytes for the LaTeX math `tex`: known (known_svg), else typeset now and kept in
    memory and on disk. Raises ValueError on bad LaTeX."""
    svg = known_svg(tex, color, size)
    if svg is not None:
        return svg
    data = typeset(tex, color, size)
    _write_disk(_disk_path(tex, color, size), data)
    return _keep((tex, color, size), data)


class MathView(QWidget):
    """Shows one typeset equation, scaled down to fit its width, never up."""

    def __init__(self, parent=None, size: float = 18, steady: bool = False):
        super().__init__(parent)
        # steady: the height only grows (reset by zoom), so that a view showing one equation
        # after another while playing does not move what is under it every frame
        self._steady = steady
        self._tallest = 0
        self._reserved = 0  # steady: the tallest equation prepared for it (a step's), so no stage moves it
        self._reserved_laid_out = 0  # the part of it the layout has been asked for
        self._base_size = size
        self._size = size
        self._tex = ""
        self._renderer: QSvgRenderer | None = None
        self._muted = False
        self._pixmaps: dict[int, tuple] = {}  # renderer version -> ((width, ratio), drawn pixmap)
        self._version = 0  # of the typeset equation, for the drawn pixmap's key
        self._renderers: dict[tuple, tuple] = {}  # (tex, colour, size) -> (renderer, version)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    @property
    def latex(self) -> str:
        return self._tex

    MUTED = "#9a9a9a"
    KEEP = 32  # typeset forms (and their drawings) kept: every equation of a step, plain and muted

    def color(self, muted: bool) -> str:
        return self.MUTED if muted else self.palette().windowText().color().name()

    def prepare(self, tex: str, muted: bool = False) -> None:
        """Typeset, parse and draw `tex` now (at an idle moment), so that showing it later
        costs a copy of pixels: the first frame of Play changes every plan row from muted to
        plain, 13 new renderers and drawings in one frame otherwise. A steady view keeps room
        for the tallest equation it was prepared for: what is under it stays in place from one
        stage to the next (a move is a second layout and paint of the window in that frame)."""
        if tex:
            renderer, version = self._renderer_for(tex, muted)
            self._drawn(renderer, version)
            self._reserve(renderer)

    def reserve_known(self, tex: str) -> None:
        """A steady view reserves room for `tex` now when its typeset form is known (shipped
        or cached), without drawing it: parsing it takes a fraction of a millisecond, where
        typesetting may take tens. A form still to be typeset gets its room from prepare."""
        got = self._renderer_for(tex, False, known_only=True) if tex else None
        if got is not None:
            self._reserve(got[0])

    def _reserve(self, renderer: QSvgRenderer | None) -> None:
        if self._steady and renderer is not None:
            # not laid out yet: one layout for all the forms (apply_reserved), not one for each
            self._reserved = max(self._reserved, renderer.defaultSize().height() + 4)

    def apply_reserved(self) -> None:
        """Take the room reserved by `prepare` in the layout (one pass for a whole plan's forms:
        a pass lays out and repaints the panel around the view)."""
        if self._reserved != self._reserved_laid_out:
            self._reserved_laid_out = self._reserved
            self.updateGeometry()

    def forget_reserved(self) -> None:
        """Another set of equations will be prepared (a new plan): reserve for those."""
        self._reserved = 0
        self.apply_reserved()

    def set_scale(self, factor: float) -> None:
        """Typeset at `factor` times the size given at construction (View → Zoom)."""
        size = round(self._base_size * factor, 1)
        if size != self._size:
            self._size = size
            self._tallest = self._reserved = self._reserved_laid_out = 0
            tex, self._tex = self._tex, ""
            self.set_latex(tex)

    def set_muted(self, muted: bool) -> None:
        """Grey for an equation still to come."""
        if muted != self._muted:
            self._muted = muted
            tex, self._tex = self._tex, ""
            self.set_latex(tex)

    def set_latex(self, tex: str) -> None:
        if tex == self._tex:
            return
        self._tex = tex
        before = self.sizeHint()
        self._reserved_laid_out = self._reserved  # a layout pass, if one is due, takes it too
        self._renderer, self._version = self._renderer_for(tex, self._muted)
        if self.sizeHint() != before:  # a layout pass only when the equation's size changed
            self.updateGeometry()
        self.update()

    def _renderer_for(self, tex: str, muted: bool, known_only: bool = False) -> tuple | None:
        """(renderer, version) of `tex` in this view's size and the colour for `muted`;
        `known_only`: None rather than typeset it (see known_svg)."""
        key = (tex, self.color(muted), self._size)
        if key not in self._renderers:  # a plan row flips between plain and muted every few frames
            svg = (known_svg(*key) if known_only else latex_svg(*key)) if tex else None
            if tex and svg is None:
                return None
            if len(self._renderers) >= self.KEEP:
                self._renderers.pop(next(iter(self._renderers)))
            self._renderers[key] = (QSvgRenderer(svg), next(_SERIAL)) if tex else (None, 0)
        return self._renderers[key]

    def release(self) -> None:
        """A steady view fits its equation again (paused: nothing will move it every frame)."""
        if self._steady and self._tallest:
            self._tallest = 0
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        hint = QSize(10, 10) if self._renderer is None else self._renderer.defaultSize() + QSize(4, 4)
        if self._steady:
            self._tallest = max(self._tallest, hint.height())
            hint.setHeight(max(self._tallest, self._reserved_laid_out))
        return hint

    def minimumSizeHint(self) -> QSize:
        return QSize(10, self.sizeHint().height())

    def _drawn(self, renderer: QSvgRenderer | None, version: int) -> QPixmap | None:
        """The equation drawn at this view's width (kept: the SVG costs ~0.2 ms a paint, and
        a list scrolls every frame)."""
        if renderer is None:
            return None
        size = renderer.defaultSize()
        scale = min(1.0, (self.width() - 4) / max(size.width(), 1))
        w, h = size.width() * scale, size.height() * scale
        dpr = self.devicePixelRatioF()
        key = (round(w, 2), dpr)
        if self._pixmaps.get(version, (None,))[0] != key:
            pm = QPixmap(max(1, int(np.ceil(w * dpr))), max(1, int(np.ceil(h * dpr))))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.transparent)
            q = QPainter(pm)
            q.setRenderHint(QPainter.Antialiasing)
            renderer.render(q, QRectF(0, 0, w, h))
            q.end()
            if len(self._pixmaps) >= self.KEEP:
                self._pixmaps.pop(next(iter(self._pixmaps)))
            self._pixmaps[version] = (key, pm)
        return self._pixmaps[version][1]

    def paintEvent(self, event) -> None:
        pm = self._drawn(self._renderer, self._version)
        if pm is None:
            return
        p = QPainter(self)
        p.drawPixmap(2, 2, pm)
        p.end()
