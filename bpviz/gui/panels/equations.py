"""The equations panel: every equation of the training step, typeset, with the numbers
the current one is computing, and any result cell expanded into its terms.

All content comes from bpviz.engine.explain (Qt-free, tested there); this file only
lays it out. `self.model` records what is shown, so tests read the panel's numbers
without reading pixels."""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QHBoxLayout, QLabel, QPushButton, QRadioButton,
                               QScrollArea, QSizePolicy, QSpinBox, QTextBrowser, QVBoxLayout, QWidget)

from bpviz.engine import explain as ex
from bpviz.engine import sources as src
from bpviz.engine.explain import EquationView
from bpviz.engine.snapshot import Snapshot, StageSpec
from bpviz.engine.trainer import step_plan

from ..widgets.mathview import MathView
from ..widgets.tables import NumberGrid
from ..widgets.steady import SteadyLabel, SteadyText
from .base import Panel

ROW_MATH_SIZE = 14  # a plan row's equation, at zoom 1
CURRENT_MATH_SIZE = 22  # the equation being computed, at zoom 1
ELIDE = 4  # a long vector shows its first and last 4 entries
SAMPLE_MAJOR = ("X", "Y", "A", "Z", "Delta", "dA")  # one row per sample in the engine's form
AHEAD_EVERY_MS = 20  # a view made ahead every 20 ms (each takes 5-10 ms): a third of the GUI thread
PARKED_X = -(1 << 20)  # where a view out of use waits: left of any width it may be given there


def _kind(name: str) -> str:
    base = name.rstrip("0123456789")
    if name == "loss":
        return "scalar"
    if base in ("b", "db") or name.startswith("b") and name.endswith("_after"):
        return "vector"
    if base in SAMPLE_MAJOR:
        return "sample"
    return "param"  # W, dW, W_after: (inputs x units)


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def pretty(name: str) -> str:
    """Plain-text symbol of an array name: dA1 -> ∂L/∂A⁽¹⁾, W2_after -> W⁽²⁾ new."""
    if name == "loss":
        return "L"
    after = name.endswith("_after")
    base = name[: -len("_after")] if after else name
    core = base.rstrip("0123456789")
    layer = base[len(core):]
    sup = f"⁽{layer.translate(_SUP)}⁾" if layer else ""
    text = {"Delta": "Δ", "dW": "∂L/∂W", "db": "∂L/∂b", "dA": "∂L/∂A"}.get(core, core) + sup
    return text + (" new" if after else "")


BRIEF_VALUES = 4  # a result of up to this many entries is listed whole in the plan


def _brief(a, digits) -> str:
    """A one-line glimpse of a computed result for the plan list: its entries when few, else
    the span of its values (its first entries said little: a 784 x 128 dL/dW began with the
    zeros of an image's blank corner, and read as a gradient of zeros)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return ex.fmt(float(a), digits)
    shape = " × ".join(map(str, a.shape)) if a.ndim > 1 else f"{a.size} entries"
    if a.size <= BRIEF_VALUES:
        return f"{shape} [{', '.join(ex.fmt(v, 3) for v in a.reshape(-1))}]"
    # every frame of Play, for each row: two passes over the array, not summary's three
    return f"{shape} from {ex.fmt(float(a.min()), 3)} to {ex.fmt(float(a.max()), 3)}"


def _group(plan: tuple[StageSpec, ...]) -> list[tuple[StageSpec, list[int]]]:
    """The plan with per-sample stages folded into one entry per (equation, layer)."""
    out: list[tuple[StageSpec, list[int]]] = []
    for i, s in enumerate(plan):
        if out and s.sample is not None and out[-1][0].eq == s.eq and out[-1][0].layer == s.layer:
            out[-1][1].append(i)
        else:
            out.append((s, [i]))
    return out


def _row_latex(spec: StageSpec, cfg, column: bool) -> str:
    """A plan row's equation: the stage's, for no sample in particular, two equations (U1's)
    one above the other in the row's narrow room."""
    return ex.symbolic(spec.__class__(spec.eq, spec.layer, spec.phase), cfg, column, stacked=True)


def plan_forms(cfg, groups, column: bool) -> list[tuple[str, str]]:
    """Every equation a step of `cfg` can show, as ("row", LaTeX) for a plan row (typeset at
    ROW_MATH_SIZE) and ("current", LaTeX) for the equation being computed (CURRENT_MATH_SIZE)."""
    out = []
    for spec, _ in groups:
        out += [("row", _row_latex(spec, cfg, column)), ("current", ex.symbolic(spec, cfg, column))]
    return out


def step_forms(cfg, column: bool) -> list[tuple[str, str]]:
    """plan_forms of a step of `cfg` (the plan's per-sample stages fold into their first)."""
    return plan_forms(cfg, _group(step_plan(cfg, 1)), column)


READY = ("ready: press Step to compute the first equation",
         "Below: what it reads, for the first batch. Each Step computes an equation; its result comes "
         "first, then its operands.",
         "", "")


def stage_texts(v: EquationView, index: int, n_stages: int) -> tuple[str, str, str, str]:
    """The title, sources (rich text), the sources' tooltip and the note shown with stage
    `index` of `n_stages`."""
    note = ("⚠ " if v.approximate else "") + v.note
    return (f"{v.spec.eq} · {src.plain_words(v.title)} · stage {index + 1}/{n_stages}",
            "Sources: " + _linked_sources(v.sources),
            src.explain_references(v.sources) + "\n(Help → Sources lists the documents)",
            src.plain_words(note))


def _linked_sources(text: str) -> str:
    """The sources line as rich text, each "[000]" a link whose hover names its document."""
    parts = []
    for chunk in text.split("; "):
        refs = src.references(chunk)
        if refs:
            key, where = refs[0]
            tag = f"[{key}]"
            rest = chunk.split(tag, 1)[1] if tag in chunk else chunk
            parts.append(f'<a href="src:{key}:{html.escape(where)}" style="text-decoration: none">{tag}</a>'
                         f"{html.escape(rest)}")
        else:
            parts.append(html.escape(chunk))
    return "; ".join(parts)


class ArrayView(QWidget):
    """One operand or result: its name and shape, then every number when the array
    is small, else its summary and the focused sample's row (or unit's column)."""

    picked = Signal(str, tuple)  # array name, index into the array as displayed

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        # plain text beside a bold name: a rich-text label lays out a QTextDocument at every
        # change, and while playing it changes every frame
        head = QHBoxLayout()
        self.symbol = QLabel()
        bold = QFont()
        bold.setBold(True)  # the weight alone: its size comes from the panel, as View → Zoom sets it
        self.symbol.setFont(bold)
        self.caption = SteadyText()
        head.addWidget(self.symbol, 0, Qt.AlignTop)
        head.addWidget(self.caption, 1)
        self.grid = NumberGrid()
        self.grid.cell_picked.connect(self._on_pick)
        lay.addLayout(head)
        lay.addWidget(self.grid)
        self.in_use = True
        self.name = ""
        self.source_shape: tuple = ()  # of the array last shown, as displayed
        self._index_map: list[list[tuple]] = []  # grid cell -> index into the displayed array
        self.shown: np.ndarray | None = None  # exactly the numbers in the grid

    def show_array(self, name: str, symbol_text: str, disp: np.ndarray, column: bool, focus: int,
                   unit: int, digits: int | None) -> None:
        self.name = name
        a = np.asarray(disp)
        self.source_shape = a.shape
        self.symbol.setText(symbol_text)
        if a.ndim == 0:
            self.caption.setText(f"= {ex.fmt(float(a), digits)}")
            self.grid.hide()
            self.shown = a
            self._index_map = []
            return
        rows, cols = a.shape
        if self.grid.isHidden():
            self.grid.show()
        if rows <= ex.MATRIX_LIMIT and cols <= ex.MATRIX_LIMIT:
            self._index_map = [[(i, j) for j in range(cols)] for i in range(rows)]
            label = f"{rows} × {cols}"
        else:
            kind = _kind(name)
            s = ex.summary(a)
            # which line of the displayed array is in focus: a sample, or a unit
            if kind == "sample":
                along_rows, k, what = (not column), focus, f"sample {focus}"
            elif kind == "vector":
                along_rows, k, what = (rows == 1), 0, ""
            else:
                along_rows, k, what = column, unit, f"unit {unit}"
            n = cols if along_rows else rows
            k = min(k, (rows if along_rows else cols) - 1)
            # cut only what saves room: 10 entries shown as 8 hid two for nothing
            keep = list(range(n)) if n <= 3 * ELIDE else list(range(ELIDE)) + list(range(n - ELIDE, n))
            self._index_map = [[(k, j) if along_rows else (j, k) for j in keep]]
            entries = (f"entries {keep[0]}–{keep[ELIDE - 1]} and {keep[-ELIDE]}–{keep[-1]}" if len(keep) < n
                       else f"all {n} entries")
            label = (f"{rows} × {cols} · min {ex.fmt(s['min'], 3)} · max {ex.fmt(s['max'], 3)} · "
                     f"mean {ex.fmt(s['mean'], 3)} · showing {what + ', ' if what else ''}{entries}")
        self.shown = np.array([[a[ix] for ix in row] for row in self._index_map])
        self.caption.setText(label)
        self.grid.set_values(self.shown, digits, self._index_map)
        h = self.grid.horizontalHeader().height() + sum(self.grid.rowHeight(i) for i in range(self.grid.rowCount()))
        if self.grid.horizontalHeader().length() + self.grid.verticalHeader().width() + 4 > self.grid.width():
            h += self.grid.horizontalScrollBar().sizeHint().height()  # the scroll bar must not hide a row
        self.grid.setFixedHeight(h + 4)

    def set_in_use(self, on: bool) -> None:
        """In use, or parked: out of its parent's layout (the panel's part), moved out of sight
        with its size and cells kept. Not hidden: showing a hidden view again polishes and lays
        out its table and every child, 0.7 ms a view; nor folded to no height: every
        folded table was resized again whenever the area's width changed."""
        if on == self.in_use:
            return
        self.in_use = on
        self.grid.setFocusPolicy(Qt.StrongFocus if on else Qt.NoFocus)  # no Tab into a parked table
        if not on:
            if self.grid.hasFocus():
                self.grid.clearFocus()
            self.move(PARKED_X, 0)

    def highlight(self, cells) -> None:
        """Highlight the displayed-array cells `cells` that are visible in the grid."""
        pos = {ix: (i, j) for i, row in enumerate(self._index_map) for j, ix in enumerate(row)}
        self.grid.set_highlight([pos[c] for c in cells if c in pos])

    def _on_pick(self, i: int, j: int) -> None:
        if i < len(self._index_map) and j < len(self._index_map[i]):
            self.picked.emit(self.name, self._index_map[i][j])


class PlanRow(QWidget):
    """One equation of the step's plan: a line of text (its code, state and result) over
    its typeset form, on a background that says whether it is done, current or to come.

    The text is painted, not a QLabel: a label whose text changes asks its parents for a
    new layout, and while playing every row's text changes in every frame. The row asks
    for one only when its text needs more lines than it has."""

    BACKGROUND = {"current": QColor(255, 200, 0, 90)}

    def __init__(self, latex: str, zoom: float, parent=None):
        super().__init__(parent)
        self.text, self.state = "", ""
        self.math = MathView(self, size=ROW_MATH_SIZE)
        self.math.set_scale(zoom)
        self.math.set_latex(latex)
        self._text_h = 0
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.set_zoom(zoom, None)

    MARGIN = 4

    def set_zoom(self, factor: float, font: QFont | None) -> None:
        if font is not None:
            self.setFont(font)
        self.math.set_scale(factor)
        self._text_h = 0
        self._fit()

    def set_text(self, text: str, state: str) -> None:
        if state != self.state:
            self.state = state
            self.math.set_muted(state == "to come")
            self.update()
        if text != self.text:
            self.text = text
            self._fit()
            self.update(QRect(0, 0, self.width(), self._text_h + self.MARGIN))

    def _needed(self, width: int) -> int:
        w = max(1, width - 2 * self.MARGIN)
        return self.fontMetrics().boundingRect(QRect(0, 0, w, 10**6), Qt.TextWordWrap, self.text).height()

    def _fit(self) -> None:
        h = self._needed(self.width())
        if h > self._text_h:  # grows, never shrinks back while the width stays
            self._text_h = h
            self._place()
            self.updateGeometry()

    def _place(self) -> None:
        m = self.MARGIN
        self.math.setGeometry(m, m // 2 + self._text_h, max(1, self.width() - 2 * m), self.math.sizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(120, self._text_h + self.math.sizeHint().height() + self.MARGIN + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        if event.size().width() != event.oldSize().width():
            self._text_h = 0  # the text wraps anew at this width
            self._fit()
        self._place()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        r = self.rect().adjusted(0, 0, -1, -1)
        bg = self.BACKGROUND.get(self.state)
        if bg is not None:
            p.fillRect(r, bg)
        p.setPen(self.palette().mid().color())
        p.drawRect(r)
        p.setPen(QColor(MathView.MUTED) if self.state == "to come" else self.palette().windowText().color())
        m = self.MARGIN
        p.drawText(QRect(m, m // 2, self.width() - 2 * m, self._text_h), Qt.TextWordWrap, self.text)
        p.end()


class EquationsPanel(Panel):
    object_name = "equations"
    title = "Equations"
    area = "right"
    explain_requested = Signal(str, tuple)  # a result cell was clicked (name, displayed index)
    explanation_changed = Signal()  # an explanation was made or dropped: the marks elsewhere follow
    notice = Signal(str)  # information for the status bar ("copied")
    notation_changed = Signal(bool)  # columns (True) or rows: the status bar's equation follows

    def __init__(self, parent=None):
        super().__init__(parent)
        self.column = False
        self.digits: int | None = 4
        self.unit = 0
        self.model: dict = {}
        self._to_warm: list = []
        self._views: list[EquationView] = []
        self._plan_key = None

        root = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.row_btn = QRadioButton("rows")
        self.col_btn = QRadioButton("columns")
        self.row_btn.setToolTip(f"Z = A W + b: samples are rows, as in {src.cite('000')} and in bpviz's engine")
        self.col_btn.setToolTip(f"Z = W A + b: samples are columns, as in {src.cite('002')} and {src.cite('003')}; "
                                "every array is shown transposed")
        self.row_btn.setChecked(True)
        grp = QButtonGroup(self)
        grp.addButton(self.row_btn)
        grp.addButton(self.col_btn)
        self.col_btn.toggled.connect(self.set_column)
        self.digits_box = QSpinBox()
        self.digits_box.setRange(1, 12)
        self.digits_box.setValue(4)
        self.digits_box.setPrefix("digits ")
        self.digits_box.valueChanged.connect(lambda v: self.set_digits(v if not self.full.isChecked() else None))
        self.full = QCheckBox("full")
        self.full.setToolTip("Full precision: every digit of each number")
        self.full.toggled.connect(lambda on: self.set_digits(None if on else self.digits_box.value()))
        self.unit_box = QSpinBox()
        self.unit_box.setPrefix("unit ")
        self.unit_box.setToolTip("Which unit's column large weight arrays show")
        self.unit_box.valueChanged.connect(self.set_unit)
        self.copy_btn = QPushButton("LaTeX")
        self.copy_btn.setToolTip("Copy the current equation with its values as LaTeX (to paste in a document)")
        self.copy_btn.clicked.connect(self.copy_latex)
        for w in (self.row_btn, self.col_btn, self.digits_box, self.full, self.unit_box, self.copy_btn):
            bar.addWidget(w)
        bar.addStretch(1)
        root.addLayout(bar)

        body = QHBoxLayout()
        # the step's plan, one typeset line per equation
        self.list_area = QScrollArea()
        self.list_area.setWidgetResizable(True)
        self.list_host = QWidget()
        self.list_layout = QVBoxLayout(self.list_host)
        self.list_layout.setSpacing(2)
        self.list_area.setWidget(self.list_host)
        self.list_area.setMinimumWidth(150)
        self.list_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # equations shrink to fit instead
        body.addWidget(self.list_area, 2)

        right = QVBoxLayout()
        self.title_label = SteadyText("ready: press Step")
        self.title_label.setToolTip("Stage codes:\n" + src.stage_legend())
        self.current = MathView(size=CURRENT_MATH_SIZE, steady=True)
        self.source = SteadyLabel()
        self.source.setTextFormat(Qt.RichText)
        self.source.linkHovered.connect(self._source_hovered)
        self.note = SteadyText()
        # its colour by palette: a style sheet would hold its font at the size it had then,
        # not View → Zoom's
        amber = self.note.palette()
        amber.setColor(QPalette.WindowText, QColor(0xB4, 0x5F, 0x06))
        self.note.setPalette(amber)
        right.addWidget(self.title_label)
        right.addWidget(self.current)
        right.addWidget(self.source)
        right.addWidget(self.note)
        self.values_area = QScrollArea()
        self.values_area.setWidgetResizable(True)
        self.values_host = QWidget()
        self.values_layout = QVBoxLayout(self.values_host)
        self.values_layout.addStretch(1)  # the arrays stack at the top, whatever the height
        self.values_area.setWidget(self.values_host)
        right.addWidget(self.values_area, 4)
        self.explain_box = QTextBrowser()
        self.explain_box.setMinimumHeight(48)
        self.explain_box.setPlaceholderText("Click a number of the result to see where it came from.")
        self._explained: tuple | None = None  # (stage key, name, index) of the explanation shown
        self._dirty_explain = False  # the box or the highlights hold something to clear
        self._zoom = 1.0
        right.addWidget(self.explain_box, 1)
        body.addLayout(right, 5)
        root.addLayout(body)
        self._rows: list[PlanRow] = []
        self._array_views: list[ArrayView] = []  # in the order they are laid out: those in use first
        self._ahead: list[tuple[str, tuple]] = []  # (name, engine shape) of every array the step shows
        # views made ahead on a timer, spaced out: after the input and the training's replies
        # that came in (posted calls would go before them), and leaving the GUI thread time
        # for the first Step after a network is loaded (50-100 ms behind a queue of them)
        self._ahead_timer = QTimer(self)
        self._ahead_timer.setInterval(AHEAD_EVERY_MS)
        self._ahead_timer.timeout.connect(self._make_views_ahead)
        self._plan_texts: list[tuple] = []  # (title, sources, tip, note) of every stage of the plan
        # while playing, what is scrolled out of sight is drawn when scrolled to (see _seen_in)
        self._behind: dict[ArrayView, object] = {}  # view -> the operand it has not drawn yet
        self._rows_behind: tuple | None = None  # (groups, stage) the plan rows out of sight lag
        for area, catch_up in ((self.values_area, self._catch_up_values), (self.list_area, self._catch_up_rows)):
            area.verticalScrollBar().valueChanged.connect(catch_up)
            area.verticalScrollBar().rangeChanged.connect(catch_up)
        self.set_zoom(1.0)

    def reset_view(self) -> None:
        self._plan_key = None
        self.drop_explanation()

    def set_zoom(self, factor: float) -> None:
        """Typeset equations, numbers and titles at `factor` times their size."""
        self._zoom = factor
        base = self.font().pointSizeF() if self.font().pointSizeF() > 0 else 9.0
        title = QFont(self.font())
        title.setBold(True)
        title.setPointSizeF(base * 1.25)
        self.title_label.setFont(title)
        self.current.set_scale(factor)
        small = QFont(self.font())
        small.setPointSizeF(base * 0.9)
        for row in self._rows:
            row.set_zoom(factor, small)
        for av in self._array_views:
            av.grid.set_scale(factor)
        self._plan_key = None  # the plan's forms prepared again at the new size
        if self.snapshot is not None:
            self.redraw()

    def mousePressEvent(self, event) -> None:
        """A click outside the result's numbers drops the explanation and its marks."""
        self.drop_explanation()
        super().mousePressEvent(event)

    def drop_explanation(self) -> None:
        had = self._explained is not None or self.model.get("explanation") is not None
        self._explained = None
        self.model["explanation"] = None
        if had or self._dirty_explain:  # nothing to drop in most frames while playing
            self.explain_box.clear()
            for av in self._array_views:
                av.highlight([])
            self._dirty_explain = False
        if had:
            self.explanation_changed.emit()

    def _source_hovered(self, link: str) -> None:
        from PySide6.QtGui import QCursor
        from PySide6.QtWidgets import QToolTip
        if link.startswith("src:"):
            key, _, where = link[4:].partition(":")
            QToolTip.showText(QCursor.pos(), src.cite(key) + (f": {where}" if where else ""), self.source)
        else:
            QToolTip.hideText()

    # -- options --------------------------------------------------------------------
    def set_column(self, on: bool) -> None:
        self.column = bool(on)
        self._plan_key = None
        if self.snapshot is not None:
            self.redraw()
        self.notation_changed.emit(self.column)

    def set_digits(self, digits: int | None) -> None:
        self.digits = digits
        if self.snapshot is not None:
            self.redraw()

    def set_unit(self, unit: int) -> None:
        self.unit = unit
        if self.snapshot is not None:
            self.redraw()

    # -- drawing ----------------------------------------------------------------------
    def redraw(self) -> None:
        if self._ahead_timer.isActive():
            self._ahead_timer.start()  # not between this frame and its paint: the next comes a full interval later
        snap: Snapshot = self.snapshot
        cfg = snap.config
        stage = snap.stage
        m = len(snap.batch_indices) if snap.batch_indices is not None else None
        plan = step_plan(cfg, m) if m else step_plan(cfg, 1)
        if not snap.playing:  # held steady while playing: back to the room reserved for the step
            self.current.release()
        groups = _group(plan)
        self.model = {"plan": [g[0] for g in groups], "current": None, "shown": {}, "column": self.column}
        self._draw_plan(cfg, plan, groups, stage, m or 1)  # adds the rows' texts to the model
        self.unit_box.setMaximum(max(cfg.sizes) - 1)
        if stage is None:
            self.title_label.setText(READY[0])
            self.current.set_latex(ex.symbolic(plan[0], cfg, self.column))
            self.source.setText(READY[1])
            self.source.setToolTip("")
            self.note.setText(READY[3])
            # the first equation's operands, there to read before it runs; its result is to come
            self.model["view"] = first = ex.view(plan[0], cfg, snap.arrays, self.column)
            self._draw_values(list(first.operands))
            self.drop_explanation()
            self.list_area.verticalScrollBar().setValue(0)  # a new run starts at the top of the plan
            return
        v = ex.view(stage.spec, cfg, stage.arrays, self.column)
        self.model["current"] = stage.spec
        self.model["view"] = v
        title, sources, tip, note = stage_texts(v, stage.index, stage.n_stages)
        self.title_label.setText(title)
        self.current.set_latex(v.latex)
        self.source.setText(sources)
        self.source.setToolTip(tip)
        self.note.setText(note)
        # the result first, as the equation reads: it is what the learner looks for, and an
        # operand scrolled past it would be cut at the top of the area (1366x768)
        self._draw_values(list(v.results) + list(v.operands))
        key = (snap.run_id, stage.step, stage.index, self.column)
        if self._explained is not None and self._explained[0] == key:
            self.explain(*self._explained[1:])  # the same equation (new digits, focus): kept
        else:
            self.drop_explanation()

    def _draw_plan(self, cfg, plan, groups, stage, m: int) -> None:
        key = (cfg, len(groups), self.column)
        if key != self._plan_key:
            for row in self._rows:
                row.deleteLater()
            self._rows = []
            small = QFont(self.font())
            small.setPointSizeF(max(self.font().pointSizeF(), 1.0) * 0.9)
            for spec, _ in groups:
                row = PlanRow(_row_latex(spec, cfg, self.column), self._zoom)
                row.set_zoom(self._zoom, small)
                row.setToolTip(f"{src.stage_meaning(spec.eq)}\n{src.plain_words(spec.title)}")
                row.set_text(spec.eq + (" (per sample)" if spec.sample is not None else ""), "to come")
                self.list_layout.addWidget(row)
                self._rows.append(row)
            self.list_layout.addStretch(1)
            self._plan_key = key
            # typeset and draw every form this step can show now, one per idle moment, so
            # that a Step never waits for ziamath or QtSvg the first time an equation
            # appears, nor the first frame of Play, which turns every row from muted to plain
            forms = plan_forms(cfg, groups, self.column)  # a row's form, then its stage's, per group
            self.current.forget_reserved()
            # the room of the step's tallest equation, taken in this frame's layout when the forms
            # are known (shipped or cached): taken later, it moved what is under the equation
            # and repainted the panel in the middle of the first Steps (50-100 ms after a load)
            for _, stage_tex in forms[1::2]:
                self.current.reserve_known(stage_tex)
            self.current.apply_reserved()
            # the equation's forms first: they set its room, taken once they are all prepared
            self._to_warm = [(self.current, stage_tex, False) for _, stage_tex in forms[1::2]]
            for row, (_, row_tex) in zip(self._rows, forms[0::2]):
                self._to_warm += [(row.math, row_tex, True), (row.math, row_tex, False)]
            QTimer.singleShot(0, self, self._warm_one)  # tied to self: never runs after the panel is gone
            views = [ex.view(spec, cfg, None, self.column) for spec in plan]
            self._plan_texts = [stage_texts(v, k, len(plan)) for k, v in enumerate(views)] + [READY]
            # a table for each array the step shows, shaped ahead: the same array lands in the
            # same table at every step, which keeps its shape, cells and column widths
            names = dict.fromkeys(o.name for v in views for o in (*v.results, *v.operands))
            self._ahead = [(n, ex.shape(n, cfg, m)) for n in names]
            QTimer.singleShot(0, self, self._reserve_room)
            self._ahead_timer.start()
        self._update_rows(groups, stage, lazy=self.snapshot is not None and self.snapshot.playing)

    def _update_rows(self, groups, stage, lazy: bool) -> None:
        """Each plan row's state and result. `lazy` (playing): a row out of sight whose state
        stays keeps its text until it is scrolled to (each row's text changes every frame)."""
        current = stage.index if stage is not None else -1
        self._rows_behind = None
        for row, (spec, idxs) in zip(self._rows, groups):
            state = "current" if current in idxs else ("done" if idxs[-1] < current else "to come")
            if lazy and state == row.state and not self._seen_in(self.list_area, row):
                self._rows_behind = (groups, stage)
                continue
            text = f"{spec.eq} · {state}"
            if state == "current" and len(idxs) > 1:
                text += f" · sample {current - idxs[0] + 1}/{len(idxs)}"
            if state in ("done", "current") and stage is not None:
                res = stage.arrays.get(ex.result_name(spec))
                if res is not None:
                    if np.ndim(res) == 2:  # its shape in the notation shown (a view: no copy)
                        res = ex.display(res, self.column)
                    text += f" · {pretty(ex.result_name(spec))} = {_brief(res, self.digits)}"
            row.set_text(("✓ " if state == "done" else "") + text, state)
            if state == "current":
                self.list_area.ensureWidgetVisible(row, 0, 40)
        self.model["rows"] = [row.text for row in self._rows]

    def _seen_in(self, area: QScrollArea, widget: QWidget) -> bool:
        """Whether `widget`, inside `area`, shows in its viewport (in a window not shown yet,
        such as a test's or a screenshot's, everything counts as seen)."""
        if not self.window().isVisible():
            return True
        viewport = area.viewport()
        return QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()).intersects(viewport.rect())

    def _catch_up_rows(self) -> None:
        if self._rows_behind is not None:
            self._update_rows(*self._rows_behind, lazy=True)

    def _catch_up_values(self) -> None:
        """Draw the arrays scrolled into sight that playing left behind."""
        for av, o in list(self._behind.items()):
            if self._seen_in(self.values_area, av):
                del self._behind[av]
                self._fill(av, o)

    def _fill(self, av: ArrayView, o) -> None:
        """`av` shows operand `o` in the panel's notation, focus and digits."""
        av.show_array(o.name, pretty(o.name), o.array, self.column, self.focus_sample, self.unit, self.digits)
        self.model["shown"][o.name] = av.shown

    def _reserve_room(self) -> None:
        """The title, sources and note keep the height of their tallest text in the step, so
        that stepping never moves the equation and the numbers under them."""
        titles, sources, _, notes = zip(*self._plan_texts)
        for widget, texts in ((self.title_label, titles), (self.source, sources), (self.note, notes)):
            widget.reserve(texts)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width() and self._plan_texts:
            QTimer.singleShot(0, self, self._reserve_room)  # texts wrap anew at the new width

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._to_warm:  # preparing resumes where it stopped (see _warm_one)
            QTimer.singleShot(0, self, self._warm_one)
        if self._ahead:
            self._ahead_timer.start()

    def _warm_one(self) -> None:
        if not self.isVisible():
            return  # hidden or closed: nothing to prepare for; showEvent resumes
        if self._to_warm:
            view, tex, muted = self._to_warm.pop(0)
            view.prepare(tex, muted)
            if view is self.current and (not self._to_warm or self._to_warm[0][0] is not self.current):
                self.current.apply_reserved()  # the step's tallest equation, in one layout pass
        if self._to_warm:
            QTimer.singleShot(0, self, self._warm_one)  # one at a time: the event loop stays responsive

    def _add_array_view(self) -> ArrayView:
        av = ArrayView()
        av.grid.set_scale(self._zoom)
        av.picked.connect(self._on_pick)
        av.setParent(self.values_host)
        av.set_in_use(False)  # parked until an equation needs it
        av.show()
        self._array_views.append(av)
        return av

    def _make_views_ahead(self) -> None:
        """Make a view for each array the step shows and fill it with zeros of the array's
        shape, one every AHEAD_EVERY_MS until all are: each is a table of some 20 widgets,
        shaped and measured when it first shows numbers (Play's first frame took 36-48 ms,
        18 of them making six tables' cells)."""
        if not self.isVisible():
            self._ahead_timer.stop()  # hidden or closed: showEvent resumes
            return
        def shown(shape):  # as the notation displays an array of `shape`
            return shape if len(shape) == 0 else ex.display(np.empty(shape), self.column).shape
        wanted = {n for n, _ in self._ahead}
        owner = {av.name: av for av in self._array_views}
        todo = [(n, shape) for n, shape in self._ahead
                if n not in owner or (not owner[n].in_use and owner[n].source_shape != shown(shape))]
        if not todo:
            self._ahead_timer.stop()
            return
        name, shape = todo[0]
        av = owner.get(name) or next((v for v in reversed(self._array_views)
                                      if not v.in_use and v.name not in wanted), None) or self._add_array_view()
        zeros = np.zeros(shape)  # a placeholder of the array's shape, never shown
        av.show_array(name, pretty(name), zeros if zeros.ndim == 0 else ex.display(zeros, self.column),
                      self.column, self.focus_sample, self.unit, self.digits)
        width = self.values_layout.contentsRect().width()
        if width > 0:
            av.resize(width, av.sizeHint().height())  # the width the layout will give it

    def _views_for(self, names: list[str]) -> list[ArrayView]:
        """A view for each of `names`: the one that showed it last, else one out of use
        (the one unused longest), else a new one. A table given another shape rebuilds its
        cells and measures its columns, 1-1.5 ms in the window."""
        own = {av.name: av for av in self._array_views if av.name}
        chosen = {n: own[n] for n in names if n in own}
        spare = [av for av in self._array_views if av not in chosen.values()]  # the last: out of use longest
        out = []
        for n in names:
            if n not in chosen:
                chosen[n] = spare.pop() if spare else self._add_array_view()
            out.append(chosen[n])
        return out

    def _draw_values(self, operands) -> None:
        operands = [o for o in operands if o.array is not None]
        views = self._views_for([o.name for o in operands])
        rest = [av for av in self._array_views if av not in views]
        for av in rest:
            if av.in_use:
                self.values_layout.removeWidget(av)
                av.set_in_use(False)
        playing = self.snapshot is not None and self.snapshot.playing
        self._behind = {}
        for i, (av, o) in enumerate(zip(views, operands)):
            # while playing, a table out of sight that shows this array already (so keeps its
            # shape and place) is filled when scrolled to: 0.5 ms a table every frame
            if playing and av.in_use and av.name == o.name and not self._seen_in(self.values_area, av):
                self._behind[av] = o
            else:
                self._fill(av, o)
            if self.values_layout.indexOf(av) != i:  # laid out as the equation reads: the result first
                self.values_layout.removeWidget(av)
                self.values_layout.insertWidget(i, av)
            av.set_in_use(True)
            self.model["shown"][o.name] = av.shown
        self._array_views = views + rest
        results = {r.name for r in (self.model.get("view").results if self.model.get("view") else ())}
        first = next((av for av in views if av.name in results), None)
        # the result is what the learner looks for: in view at each Step; while playing, where
        # the user scrolled to (an operand to watch) stays put
        if first is not None and not (self.snapshot is not None and self.snapshot.playing):
            QTimer.singleShot(0, self, lambda: self._bring_into_view(first))  # once laid out

    def _bring_into_view(self, view: QWidget) -> None:
        """Scroll the values so that `view` shows whole, or from its top when it is taller than
        the area: Qt centres a widget taller than the area, which cut the result's name and
        first rows at the top."""
        bar = self.values_area.verticalScrollBar()
        top = view.mapTo(self.values_host, QPoint(0, 0)).y()
        if view.height() > self.values_area.viewport().height():
            bar.setValue(top)
        else:
            self.values_area.ensureWidgetVisible(view, 0, 0)

    # -- explain this number --------------------------------------------------------
    def _on_pick(self, name: str, index: tuple) -> None:
        v = self.model.get("view")
        if v is None or name not in {r.name for r in v.results}:
            self.drop_explanation()
            self.explain_box.setPlainText(f"{name}{list(index)}: an input of this equation; "
                                          "click a number of the result to expand it.")
            self._dirty_explain = True
            return
        self.explain(name, index)

    def explain(self, name: str, index: tuple) -> ex.Explanation:
        snap = self.snapshot
        e = ex.explain(snap.stage.spec, snap.config, snap.stage.arrays, index, self.column, name=name)
        self.model["explanation"] = e
        d = self.digits
        lines = [f"<b>{e.formula}</b>", ""]
        shown_terms = e.terms if len(e.terms) <= 40 else e.terms[:20] + e.terms[-20:]
        for t in shown_terms:
            factors = " · ".join(f"{n}{list(ix)} ({ex.fmt(v, d)})" for n, ix, v in t.factors)
            lines.append(f"{factors} → {ex.fmt(t.value, d)}")
        if len(e.terms) > 40:
            lines.insert(22, f"… {len(e.terms) - 40} more terms …")
        if e.scale != 1.0:
            lines.append(f"× r = {e.scale:g}")
        if e.constant:
            lines.append(f"+ {ex.fmt(e.constant, d)}")
        lines.append(f"= {ex.fmt(e.total, d)}   (the cell holds {ex.fmt(e.value, d)})")
        self.explain_box.setHtml("<br>".join(lines))
        by_name: dict[str, list] = {}
        for n, ix in e.highlights:
            by_name.setdefault(n, []).append(ix)
        for av in self._array_views:
            if av.in_use:  # a parked one was cleared with the last explanation
                av.highlight(by_name.get(av.name, []))
        self._dirty_explain = True
        stage = snap.stage
        self._explained = ((snap.run_id, stage.step, stage.index, self.column), name, index)
        self.explain_requested.emit(name, index)
        self.explanation_changed.emit()
        return e

    def copy_latex(self) -> str:
        v = self.model.get("view")
        if v is None:
            return ""
        tex = ex.latex_with_values(v, self.digits)
        QGuiApplication.clipboard().setText(tex)
        self.notice.emit(f"copied {v.title} as LaTeX ({len(tex)} characters)")
        return tex

