"""What the drawing panels share: colours that follow the palette, the diverging
colour map for signed values, and picking what to show of an array."""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPalette, QPen

from ..style import on_dark

pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")

DIVERGING = pg.colormap.get("CET-D1")  # blue - white - red, for signed numbers on a light background
DIVERGING_DARK = pg.colormap.get("CET-D4")  # blue - black - red, on a dark one


def palette_colors(widget) -> tuple[QColor, QColor]:
    """(background, foreground) for plots, from the widget's palette (light or dark)."""
    pal = widget.palette()
    return pal.color(QPalette.Base), pal.color(QPalette.Text)


def diverging(widget) -> pg.ColorMap:
    """The diverging map for `widget`'s palette: zero has the background's lightness, so what
    is near zero fades into it in either theme (white zeros were the brightest things on
    the dark canvas, and read as the most active)."""
    return DIVERGING_DARK if on_dark(widget) else DIVERGING


def style_plot(widget, plot_item_or_widget) -> None:
    """Background and axis colours from the palette, so light and dark both read."""
    bg, fg = palette_colors(widget)
    if hasattr(plot_item_or_widget, "setBackground"):
        plot_item_or_widget.setBackground(bg)
    item = plot_item_or_widget.getPlotItem() if hasattr(plot_item_or_widget, "getPlotItem") else plot_item_or_widget
    for name in ("left", "bottom", "right", "top"):
        ax = item.getAxis(name) if hasattr(item, "getAxis") else None
        if ax is not None:
            ax.setPen(fg)
            ax.setTextPen(fg)


def plain_axes(widget) -> None:
    """Every axis inside `widget` labels the values themselves. pyqtgraph's automatic SI
    prefix drew a loss of 0.66 at 660 under "loss (x0.001)"; it also typeset each axis's
    label again at every range change (0.2 ms), shown or not."""
    for view in widget.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem) and item.autoSIPrefix:
                # no range of values takes a prefix: switched off alone, pyqtgraph works one out
                # from the range of the moment and keeps it (an index axis read 0-800000)
                item.setSIPrefixEnableRanges(())
                item.enableAutoSIPrefix(False)


def blend(color: QColor, over: QColor, alpha: float) -> QColor:
    """`color` at `alpha` over `over`, as one opaque colour: Qt's raster engine draws a
    translucent line 20-40x slower than an opaque one."""
    return QColor.fromRgbF(alpha * color.redF() + (1 - alpha) * over.redF(),
                           alpha * color.greenF() + (1 - alpha) * over.greenF(),
                           alpha * color.blueF() + (1 - alpha) * over.blueF())


KEY_MARKS = {"line": "━━", "dots": "━●━", "squares": "━■━"}  # a sample of each kind of curve


def series_key(entries) -> str:
    """Rich text naming each of `entries` ((name, (r, g, b), mark), mark a KEY_MARKS key)
    after a sample of its curve in its colour. It goes in the plot's title, outside its
    view: a legend card inside covered the newest points of a long run (the last test
    accuracy, the right end of each history curve)."""
    return "&nbsp;&nbsp;".join(
        f"<span style='color: #{r:02x}{g:02x}{b:02x}'>{KEY_MARKS[mark]}</span>&nbsp;{html.escape(name)}"
        for name, (r, g, b), mark in entries)


LEFT_AXIS_PX = 44  # room for "1e+06", "0.0001" and the like


def fix_left_axes(plots, factor: float = 1.0) -> None:
    """A set width for each plot's left axis. Sized by its labels, an axis changes width
    when they do (another power of ten, a minus sign): its plot is laid out and painted
    again in the same frame, and the next range change starts it over."""
    for plot in plots:
        plot.getAxis("left").setWidth(int(LEFT_AXIS_PX * factor))


def settle(plots, playing: bool = True) -> None:
    """Work out the plots' automatic ranges now, at the end of a redraw. pyqtgraph does it
    when the paint starts; a range that changes then (new data) has the whole view painted
    a second and third time in the same frame, as the axes and the layout follow. A plot
    given a SteadyRange has it follow the data first."""
    for plot in plots:
        box = plot if isinstance(plot, pg.ViewBox) else plot.getViewBox()
        steady = getattr(box, "steady_range", None)
        if steady is not None:
            steady.follow(playing)
        box.prepareForPaint()


def steady_bounds(old: tuple | None, lo: float, hi: float, margin: float = 0.25,
                  fill: float = 0.5) -> tuple[float, float]:
    """Bounds for data spanning [lo, hi] that hold still from frame to frame: `old` while
    the data stay inside it and fill at least `fill` of it. A side the data went past
    moves out by `margin` of their span (a growing step count, a falling loss), so the
    next frames fit inside again; data that shrank get their own bounds."""
    if old is None or hi - lo < fill * (old[1] - old[0]):
        return (lo, hi)
    if old[0] <= lo and hi <= old[1]:
        return old
    span = (hi - lo) or abs(hi) or 1.0
    return (lo - margin * span if lo < old[0] else old[0], hi + margin * span if hi > old[1] else old[1])


def round_bounds(lo: float, hi: float, cells: int = 8) -> tuple[float, float]:
    """[lo, hi] widened out to multiples of a round step (1, 2, 2.5 or 5 x 10^k, about a
    `cells`-th of the span): the data fill at least two thirds of it, an axis ends on round
    values, and data that move a little from one step to the next keep the same bounds
    (each new range redoes the plot's axes: 1.5-2 ms an axis)."""
    span = hi - lo
    raw = span / cells
    if not (raw > 0 and math.isfinite(span)):  # no span, or one too small or large to divide
        return (lo, hi)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    rounded = (math.floor(lo / step) * step, math.ceil(hi / step) * step)
    return rounded if all(map(math.isfinite, rounded)) else (lo, hi)


class Drawn:
    """What each item was last drawn from, so that it is drawn again only when that changes:
    a paused Step changes one or two of a panel's arrays, and giving an item the same data
    again redoes its path, bounds and dots and has its view painted anew (3-5 ms a Step in
    the inspector; the loss panel's epoch means change once an epoch)."""

    def __init__(self):
        self._from: dict = {}  # item -> the values it was last drawn from

    def changed(self, item, *values) -> bool:
        """Whether `values` differ from what `item` was last drawn from (arrays compared by
        value, NaN never equal: drawn again, unless the very same array); they are recorded
        as drawn."""
        old = self._from.get(item)
        if old is not None and len(old) == len(values) and all(
                a is b or (type(a) is type(b) and np.array_equal(a, b)) for a, b in zip(old, values)):
            return False
        self._from[item] = values
        return True

    def set_data(self, item, *data) -> None:
        """item.setData(*data) unless `item` already shows these points."""
        if self.changed(item, *data):
            item.setData(*data)

    def clear(self) -> None:
        self._from.clear()


FIRST_STEPS = 10  # a step-count axis spans at least this many steps (SteadyRange's min_x_span)

# pyqtgraph redoes a curve (and its dots) at each new y range, to clip values far outside
# it at extreme zooms; these curves' values stay within a few decades (0.3-0.5 ms a curve)
KEEP_ON_NEW_RANGE = {"dynamicRangeLimit": None}


class _Bounds(pg.GraphicsObject):
    """An invisible item in a plot that only adds its bounds (`_bounds`, per axis (lo, hi)
    in view coordinates or None) to what the plot's automatic range takes in. A change of
    them does not repaint the plot (_bounds_changed): a panel calls settle() after it, at
    the end of its redraw, for the range to follow before the paint."""

    def __init__(self, plot):
        super().__init__()
        self.setFlag(self.GraphicsItemFlag.ItemHasNoContents)
        self._box = plot if isinstance(plot, pg.ViewBox) else plot.getViewBox()
        self._bounds: list = [None, None]
        self._box.addItem(self)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, *args) -> None:
        pass

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        return self._bounds[ax]

    def _set_bounds(self, bounds: list) -> None:
        if bounds != self._bounds:
            self._bounds = bounds
            self._bounds_changed()

    def _bounds_changed(self) -> None:
        """ViewBox.itemBoundsChanged without its repaint of the whole plot area (2-4 ms a
        plot at a Step that draws nothing there): nothing of this item is drawn, and a range
        its new bounds change is painted as any new range is. The range is worked out at the
        next settle() or paint of the plot. A pyqtgraph without these private fields gets the
        public call (and its repaint)."""
        box = self._box
        cache, state = getattr(box, "_itemBoundsCache", None), getattr(box, "state", None)
        if not (hasattr(cache, "pop") and hasattr(box, "_autoRangeNeedsUpdate")
                and isinstance(state, dict) and "autoRange" in state):
            self.informViewBoundsChanged()
            return
        cache.pop(self, None)
        if any(auto is not False for auto in state["autoRange"]):
            box._autoRangeNeedsUpdate = True


class MatrixFrame(_Bounds):
    """The frame of a matrix plot (rows x columns, as an ImageItem at (-0.5, -0.5) draws
    it), known before the matrix is: the plot is laid out, its axes drawn and painted
    ahead, behind its note, and not again when the first values come."""

    def expect(self, shape: tuple | None) -> None:
        self._set_bounds([None, None] if shape is None else
                         [(-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5)])


class NextPoint(_Bounds):
    """Where the point the step in progress adds at its end will be, once its figure is
    known in the middle of the step (the loss after the loss stage, a layer's gradient RMS
    after its B2): the plot's range takes it in then, so its axes are redone at a Step that
    does little else (or behind the plot's note), not again with everything the step's end
    draws."""

    _pad = 0.0

    def expect(self, x: float | None, ys=(), pad: float = 0.0) -> None:
        """The point(s) at `x`, drawn `pad` pixels beyond their values (drawn_padding)."""
        ys = [float(y) for y in ys if y is not None and math.isfinite(y)]
        bounds = [(x, x), (min(ys), max(ys))] if x is not None and ys else [None, None]
        if pad != self._pad and bounds == self._bounds:
            self._bounds_changed()  # the same point drawn wider (View → Zoom)
        self._pad = pad
        self._set_bounds(bounds)

    def pixelPadding(self) -> float:
        return self._pad  # the view box's automatic range adds it, as for the item drawn there


def drawn_padding(item: pg.PlotDataItem) -> float:
    """The pixels beyond its values that the view box's automatic range counts for `item`
    once it has data (PlotDataItem.pixelPadding): its line's; its dots are not counted."""
    return item.curve.pixelPadding() if item.opts["pen"] is not None else item.scatter.pixelPadding()


class SteadyRange(_Bounds):
    """An invisible item in a plot whose bounds are its data's steady_bounds, so the plot's
    automatic range (which takes in every item's bounds) moves in steps instead of every
    frame. A new range regenerates each axis's ticks and texts and lays the plot out again:
    about 5 ms a frame in the Debug layout's five plots, and a few ms of a Step. The first
    frame after Play stops fits the data; Steps then hold it again. With `fit_paused` (a
    histogram: its data jump about from step to step) every paused frame fits, to round
    bounds (round_bounds) that the next Step's data mostly keep. A user's
    own zoom or pan still turns the automatic range off, and the plot's "A" button back
    on. With `min_x_span` (a step count), the x range is [-0.5, min_x_span] until the data
    leave it, even before there are any, and at least that wide after: the first steps
    are drawn into a frame laid out ahead, not one rescaled at every step. Call follow()
    (settle() does) after new data and before the paint."""

    def __init__(self, plot, fill: float = 0.5, fit_paused: bool = False, min_x_span: float = 0.0):
        super().__init__(plot)
        self.fill = fill  # see steady_bounds
        self.fit_paused = fit_paused
        self.min_x_span = min_x_span
        # from half a step before step 0: a dot there, with its few pixels, stays inside the
        # frame, which would otherwise widen (and its axis be redone) when the first one comes
        self._first_steps = (-0.5, float(min_x_span))
        self._was_playing = False
        self._box.steady_range = self

    def forget(self) -> None:
        """Drop the kept bounds (a new run, another scale): the next follow() fits the data."""
        self._set_bounds([None, None])

    def follow(self, playing: bool = True) -> None:
        hold = playing or not (self.fit_paused or self._was_playing)
        self._was_playing = playing
        bounds = [None, None]
        for ax in (0, 1):
            # the items' own data bounds: the view box's childrenBounds adds a few pixels for
            # the pen, which change with the range and would move the bounds every frame
            ends = [item.dataBounds(ax) for item in self._box.addedItems
                    if item is not self and item.isVisible() and hasattr(item, "dataBounds")]
            ends = [e for e in ends if e is not None and all(v is not None and math.isfinite(v) for v in e)]
            if ends:
                lo, hi = min(e[0] for e in ends), max(e[1] for e in ends)
                kept = self._bounds[ax]
                lo, hi = steady_bounds(kept if hold else None, float(lo), float(hi), fill=self.fill)
                if self.fit_paused and (lo, hi) != kept:
                    lo, hi = round_bounds(lo, hi)
                if ax == 0 and self.min_x_span:
                    inside = 0 <= lo and hi <= self.min_x_span
                    lo, hi = self._first_steps if inside else (lo, max(hi, lo + self.min_x_span))
                bounds[ax] = (lo, hi)
            elif ax == 0 and self.min_x_span:
                bounds[ax] = self._first_steps  # before the first step: its frame, laid out ahead
        self._set_bounds(bounds)


def elastic(label):
    """A one-line label that may be cut rather than widen its dock."""
    from PySide6.QtWidgets import QSizePolicy
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    label.setMinimumWidth(1)
    return label


class ImageItem(pg.ImageItem):
    """pyqtgraph's ImageItem, handing Qt 32-bit pixels. pyqtgraph makes a colour-mapped image
    an 8-bit indexed QImage, which Qt converts at every paint, on two threads for an image
    of 784 x 128: 0.47 ms (0.72 ms of CPU) against 0.08 ms for the same pixels in RGB32.
    While playing, that conversion took CPU from the training process next door. A grey
    image (a sample) is 8-bit grey: 0.18 ms a paint at 200 x 200 pixels against 0.03 ms."""

    def render(self):
        super().render()
        q = self.qimage
        if q is None or self._unrenderable:
            return
        if q.format() == QImage.Format.Format_Grayscale8:  # a grey level is an index into a grey ramp
            table = 0xFF000000 | np.arange(256, dtype=np.uint32) * 0x010101  # (256,) 0xFFgggggg
        elif q.format() == QImage.Format.Format_Indexed8:
            table = np.array(q.colorTable(), dtype=np.uint32)  # (<= 256,) 0xAARRGGBB
            if len(table) < 256:  # indices beyond the table are black in Qt too
                table = np.concatenate([table, np.full(256 - len(table), 0xFF000000, np.uint32)])
        else:
            return
        w, h = q.width(), q.height()
        index = np.frombuffer(q.constBits(), np.uint8).reshape(h, q.bytesPerLine())[:, :w]  # (h, w)
        rgb = table[index]  # (h, w) uint32: the table applied once, here
        self.qimage = pg.functions.ndarray_to_qimage(
            rgb, QImage.Format.Format_ARGB32 if (table >> 24 != 255).any() else QImage.Format.Format_RGB32)


def signed_image_plot(layout, ylabel: str, xlabel: str, title: str | None = None, row=None, col=None,
                      bar_width: int = 14):
    """A plot in `layout` showing a matrix of signed numbers: rows downward, the
    diverging colour map, a colour bar. Returns (plot, image item, colour bar)."""
    plot = layout.addPlot(row=row, col=col, title=title)
    plot.invertY(True)
    plot.setLabel("left", ylabel)
    plot.setLabel("bottom", xlabel)
    image = ImageItem()
    plot.addItem(image)
    bar = pg.ColorBarItem(colorMap=diverging(layout), interactive=False, width=bar_width)
    bar.setImageItem(image, insert_in=plot)
    return plot, image, bar


def index_ticks(plot, shape: tuple | None) -> None:
    """Whole-number row and column indices on a matrix plot of `shape` when it is small
    (automatic ticks otherwise, or with no matrix). Only touches the axes when the shape
    changes: setting ticks re-lays out the plot, which cost several ms a frame."""
    if getattr(plot, "_ticks_for", "unset") == shape:
        return
    plot._ticks_for = shape
    for axis, n in (("left", shape[0] if shape else None), ("bottom", shape[1] if shape else None)):
        plot.getAxis(axis).setTicks([[(k, str(k)) for k in range(n)]] if n is not None and n <= 16 else None)


def fill_layer_choice(combo, n_layers: int, select_last: bool = False) -> None:
    """Offer layers 1..n_layers in `combo` when the network's depth changed."""
    if combo.count() == n_layers:
        return
    combo.blockSignals(True)
    combo.clear()
    combo.addItems([str(l) for l in range(1, n_layers + 1)])
    if select_last:
        combo.setCurrentIndex(n_layers - 1)
    combo.blockSignals(False)


def symmetric_limit(a: np.ndarray) -> float:
    """The colour range ±limit that shows every value of `a` with 0 at the centre."""
    a = np.asarray(a)
    m = float(np.max(np.abs(a))) if a.size else 0.0
    return m if np.isfinite(m) and m > 0 else 1.0


def steady_limit(held: dict, key, a: np.ndarray, hold: bool = True) -> float:
    """symmetric_limit(a) rounded up (round_bounds), held in `held[key]` while the values
    stay within it and reach at least half of it (steady_bounds): while playing (`hold`), a
    colour means the same value from one frame to the next, and the colour bar's axis is not
    regenerated every frame. Paused, the limit fits the values shown, to a round number (so
    the next Step's values, a little larger or smaller, mostly keep it)."""
    old = held.get(key) if hold else None
    lim = steady_bounds(None if old is None else (0.0, old), 0.0, symmetric_limit(a))[1]
    held[key] = lim if lim == old else round_bounds(0.0, lim)[1]
    return held[key]


def set_bar_levels(bar: pg.ColorBarItem, lim: float) -> None:
    """Colour bar and image at ±lim; the bar's axis is regenerated (about 1 ms) only when
    the levels change: pyqtgraph redoes it at every call."""
    if tuple(bar.levels()) != (-lim, lim):
        bar.setLevels((-lim, lim))


def color_level(values: np.ndarray, limit: float, levels: int) -> np.ndarray:
    """Which of `levels` steps of the diverging map over [-limit, limit] each value falls on."""
    t = (np.clip(np.asarray(values, dtype=np.float64) / limit, -1, 1) + 1) / 2  # (n,) in [0, 1]
    return np.rint(t * (levels - 1)).astype(int)


def strongest(values: np.ndarray, k: int) -> np.ndarray:
    """Flat indices of the k entries of largest magnitude (all of them when fewer; NaN
    counts as the largest)."""
    flat = np.abs(np.asarray(values)).ravel()  # (n,)
    n = flat.size
    if n <= k:
        return np.arange(n)
    if n > 16 * k:
        # Exact, and 1.4 -> 0.1 ms for 256 of 784x128 (the diagram, every frame of Play):
        # a threshold from a strided sample keeps a few hundred candidates; when at least k
        # are at or above it, every entry left out is smaller than all k picked
        sample = flat[::max(1, n // 4096)]  # (~4096,)
        j = max(0, sample.size - 1 - (2 * k * sample.size) // n - 8)
        t = np.partition(sample, j)[j]
        cand = np.flatnonzero(~(flat < t))  # NaN is not < t: kept, as argpartition ranks it
        if cand.size >= k:
            return cand[np.argpartition(flat[cand], cand.size - k)[cand.size - k:]]
    return np.argpartition(flat, n - k)[n - k:]


class Placeholder:
    """A plot, or in its place one sentence saying what will appear there and when (never
    empty axes). Wraps `content` in a QStackedWidget: add `.widget` to a layout.

    While the note is shown, the hidden plot is laid out and painted once off screen at
    an idle moment (again if its size changed): shown for the first time in the middle of
    a Step or of Play's first frame, it cost 10-20 ms more than a plot shown before. With
    `follow_ranges` (plots framed ahead: a step count's SteadyRange, a MatrixFrame), it is
    painted again when a range in them changed, or their axes are redone when it is shown;
    a plot whose ranges come with its data would only be painted again for nothing. True
    follows every plot of `content`, a sequence those plots only."""

    def __init__(self, content, text: str = "", follow_ranges=False):
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QLabel, QStackedWidget
        self.widget = QStackedWidget()
        self.note = QLabel(text)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignCenter)
        self.note.setMargin(12)
        self.note.setMinimumWidth(1)
        self.widget.addWidget(content)
        self.widget.addWidget(self.note)
        self.content = content
        self.follow_ranges = follow_ranges
        self._warm_size = None  # the size the hidden content was last laid out and painted at
        self._warm_ranges = None  # and the ranges of its plots then (with follow_ranges)
        self._warm_queued = False

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.widget.setCurrentWidget(self.note)
        if not self._warm_queued:
            from PySide6.QtCore import QTimer
            self._warm_queued = True
            # a timer, not a zero one: that is a posted call, run before the window's paint
            # (Qt posts it at low priority), which then waited 4-6 ms for the plot painted off screen
            QTimer.singleShot(1, self.widget, self._warm)

    def _ranges(self) -> tuple | None:
        if self.follow_ranges is False:
            return None
        if self.follow_ranges is True:
            scene = self.content.scene() if hasattr(self.content, "scene") else None
            boxes = [item for item in scene.items() if isinstance(item, pg.ViewBox)] if scene is not None else []
        else:
            boxes = [p if isinstance(p, pg.ViewBox) else p.getViewBox() for p in self.follow_ranges]
        return tuple(tuple(map(tuple, box.viewRange())) for box in boxes)

    def _warm(self) -> None:
        self._warm_queued = False
        if not (self.showing_note and self.widget.isVisible()):
            return
        ranges = self._ranges()
        if self.widget.size() != self._warm_size or ranges != self._warm_ranges:
            self._warm_size = self.widget.size()
            self.content.setGeometry(self.widget.rect())  # the stack sizes only the page it shows
            self.content.grab()  # sends its pending resize, lays it out, paints it into a pixmap
            self._warm_ranges = self._ranges()

    def show_content(self) -> None:
        self.widget.setCurrentWidget(self.content)

    @property
    def showing_note(self) -> bool:
        return self.widget.currentWidget() is self.note


TICK_PT = 8.0  # axis tick labels at zoom 1
PLOT_TITLE_PT = 9.0


def zoom_plots(widget, factor: float) -> None:
    """Scale every pyqtgraph axis (ticks, labels), plot title and curve width inside
    `widget` by `factor`, from the sizes they had at zoom 1 (remembered on first call)."""
    from PySide6.QtGui import QFont
    for view in widget.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                font = QFont()
                font.setPointSizeF(TICK_PT * factor)
                item.setStyle(tickFont=font, tickTextOffset=max(2, int(3 * factor)))
                item.label.setFont(font)
                item.picture = None
                item.update()
            elif isinstance(item, pg.LabelItem):
                base = getattr(item, "_zoom_base_pt", None)
                if base is None:
                    base = item._zoom_base_pt = PLOT_TITLE_PT
                item.setText(item.text, size=f"{base * factor:.1f}pt")
            elif isinstance(item, pg.PlotDataItem) or (isinstance(item, pg.PlotCurveItem)
                                                       and not isinstance(item.parentItem(), pg.PlotDataItem)):
                pen = item.opts.get("pen")
                if pen is None:
                    continue
                pen = pg.mkPen(pen)
                base = getattr(item, "_zoom_base_width", None)
                if base is None:
                    base = item._zoom_base_width = pen.widthF()
                pen.setWidthF((base if base > 0 else 1.0) * factor)
                item.setPen(pen)


class GridAxis(pg.AxisItem):
    """An axis whose grid lines are opaque and only at the labelled values: each line's faint
    colour is blended over the plot's background beforehand. Qt's raster engine draws a
    translucent line 20-40x slower than an opaque one (31 grid lines cost 6 ms a paint at
    1000x600). The minor levels are left out because opaque lines cannot add up where they
    cross: a faint minor line would cut through a major one."""

    def setGrid(self, grid) -> None:
        # the grid is the left and bottom axes' own: a right axis on another scale (the loss
        # plot's test accuracy) would add a second set of lines (and cost 7 ms a paint)
        super().setGrid(grid if self.orientation in ("left", "bottom") else False)

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        views = self.scene().views() if self.scene() is not None else []
        if specs is None or not views or self.grid is False:
            return specs
        bg = views[0].backgroundBrush().color()
        axis, ticks, texts = specs
        if not ticks:
            return specs
        major = max((pen for pen, _, _ in ticks), key=lambda pen: pen.color().alpha())  # finer levels are fainter
        solid = QPen(major)
        solid.setColor(blend(major.color(), bg, major.color().alphaF()))
        return axis, [(solid, p1, p2) for pen, p1, p2 in ticks if pen.color().alpha() == major.color().alpha()], texts


def grid_plot(alpha: float = 0.2) -> pg.PlotWidget:
    """A plot with a faint grid behind its curves, cheap to paint (GridAxis)."""
    plot = pg.PlotWidget(axisItems={side: GridAxis(side) for side in ("left", "bottom", "right", "top")})
    plot.showGrid(x=True, y=True, alpha=alpha)
    plot.hideAxis("right")  # given (a right axis is shown on demand: it must be a GridAxis too), not shown
    plot.hideAxis("top")
    for side in ("left", "bottom"):
        plot.getAxis(side).setZValue(-200)  # behind the view box (z -100): opaque lines must not cut a curve
    return plot


class CountAxis(pg.AxisItem):
    """An axis of counts: ticked at whole numbers only (a histogram of four weights read
    0, 0.1, ..., 1.0 up its side)."""

    def tickValues(self, minVal, maxVal, size):
        levels = [(spacing, values) for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        if levels:
            return levels
        lo, hi = sorted((minVal, maxVal))
        return [(1.0, [float(k) for k in range(math.ceil(lo), math.floor(hi) + 1)])]


class StepAxis(pg.AxisItem):
    """An axis of step numbers: whole steps, 1, 2 or 5 times a power of ten apart, and never
    closer than their labels need (in a plot a third of a narrow tab wide, pyqtgraph's ticks
    ran together: "0 200400600800")."""

    def tickValues(self, minVal, maxVal, size):
        lo, hi = sorted((minVal, maxVal))
        if not (size > 0 and hi > lo and math.isfinite(hi - lo)):
            return super().tickValues(minVal, maxVal, size)
        digits = max(len(str(int(abs(v)))) + (v < 0) for v in (lo, hi))
        font = self.style.get("tickFont") or self.font()
        label_px = QFontMetrics(font).horizontalAdvance("8" * digits) + 12  # a label and a gap
        raw = (hi - lo) / max(1, int(size / label_px))
        power = 10.0 ** math.floor(math.log10(raw))
        spacing = max(1.0, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
        first = math.ceil(lo / spacing) * spacing
        return [(spacing, [first + k * spacing for k in range(int((hi - first) / spacing) + 1)])]


POWER_MARKS = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5))  # round values in a power of ten, sparsest first
POWER_TICK_PX = 28  # the least room between two labelled ticks


def _short_e(x: float, digits: int) -> str:
    """x in e-notation with no padding: 3e-4, 2.5e-5."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"


class PowerAxis(pg.AxisItem):
    """An axis for log10 of the values, labelled with the values. Its ticks fall on round
    values (1, 2 and 5 times a power of ten, or fewer or more as room allows), never so
    many that they pile up the way log mode's 2..9 ticks do in a short plot (over many decades,
    every few powers of ten). An axis spanning less than two round values is ticked as a
    linear axis would tick the exponents."""

    def tickValues(self, minVal, maxVal, size):
        lo, hi = sorted((minVal, maxVal))
        most = max(2, int(size / POWER_TICK_PX))
        first, last = math.ceil(lo), math.floor(hi)  # the powers of ten in range
        every = max(1, math.ceil((last - first + 1) / most))
        best = [float(k) for k in range(first, last + 1) if k % every == 0]
        if every == 1:
            for marks in POWER_MARKS[1:]:
                values = [k + math.log10(m) for k in range(math.floor(lo), math.ceil(hi) + 1) for m in marks]
                values = [v for v in values if lo <= v <= hi]
                if len(values) > most:
                    break
                best = values
        if len(best) < 2:
            return super().tickValues(minVal, maxVal, size)[:1]  # the major ticks: a label each
        return [(1.0, best)]

    def tickStrings(self, values, scale, spacing):
        xs = [10.0 ** v for v in values]
        # one notation for the whole axis: "0.0001" beside "5e-05" read as two scales
        sci = any(not 1e-4 <= x < 1e5 for x in xs)
        for digits in range(2, 7):  # as few digits as tell the ticks apart
            texts = [_short_e(x, digits) if sci else f"{x:.{digits}g}" for x in xs]
            if len(set(texts)) == len(texts):
                break
        return texts
