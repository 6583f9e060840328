"""What the equations panel shows for a stage, Qt-free: the equation typeset for the
network at hand, its operands and result as displayed in either notation, the same
equation with its numbers as LaTeX, and any single result cell expanded into its terms.

Notation: "row" is the engine's (a sample per row, Z = A W + b); "column" shows every
array transposed (a sample per column, Z = W A + b), so the numbers stay the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .config import NetConfig
from .equations import ACTIVATION_SYMBOLS, CATALOGUE
from .losses import get_output_loss
from .snapshot import StageSpec

MATRIX_LIMIT = 8  # arrays up to this many rows and columns are shown in full
# "adds to": ziamath drops \mathrel{...} and everything in it, which showed one sample's
# term as the whole gradient; {+}{=} keeps the two signs together
PLUS_EQ = r"\;{+}{=}\;"


# -- symbols ------------------------------------------------------------------------
def _act(cfg: NetConfig, layer: int) -> str:
    """LaTeX name of layer `layer`'s activation."""
    return ACTIVATION_SYMBOLS[cfg.activation(layer)][1]


def sym(name: str) -> str:
    """LaTeX symbol of an array name: W2 -> W^{(2)}, Delta1 -> \\Delta^{(1)}, dW1 -> ∂L/∂W^{(1)}.
    The same in both notations: the column form's W^{(l)} *is* the transposed array."""
    if name == "loss":
        return "L"
    if name in ("X", "Y"):
        return name
    if name.endswith("_after"):
        return sym(name[: -len("_after")]) + r"_{\mathrm{new}}"
    for prefix, tex in (("Delta", r"\Delta"), ("dW", "W"), ("db", "b"), ("dA", "A"),
                        ("W", "W"), ("b", "b"), ("Z", "Z"), ("A", "A")):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            core = f"{tex}^{{({name[len(prefix):]})}}"
            if prefix in ("dW", "db", "dA"):
                return rf"\frac{{\partial L}}{{\partial {core}}}"
            return core
    return name


def _r(cfg: NetConfig) -> str:
    return r"\frac{1}{m}" if cfg.reduction == "mean" else ""


def _t(x: str) -> str:
    """x transposed, braced so a superscript on x stays valid LaTeX."""
    return f"{{{x}}}^{{\\top}}"


def symbolic(spec: StageSpec, cfg: NetConfig, column: bool = False, stacked: bool = False) -> str:
    """The equation of `spec` in LaTeX, for this network (its activations, reduction,
    biases) and notation. Symbols are the notation's own: in column form W^{(l)} is
    n_l x n_{l-1}, so no transposes appear on W in the forward pass. `stacked` writes U1's
    two updates one above the other."""
    l, p, L = spec.layer, spec.layer - 1, cfg.n_layers
    W, A, Ap, Z, D = f"W^{{({l})}}", f"A^{{({l})}}", f"A^{{({p})}}", f"Z^{{({l})}}", f"\\Delta^{{({l})}}"
    b = f" + b^{{({l})}}" if cfg.bias else ""
    r = _r(cfg)
    g = _act(cfg, l)
    e = spec.eq
    if e == "F1":
        return f"{Z} = {W} {Ap}{b}" if column else f"{Z} = {Ap} {W}{b}"
    if e == "F2":
        return f"{A} = {g}\\left({Z}\\right)"
    if e == "L-CE":
        idx = "k i" if column else "i k"
        return rf"L = -{r}\sum_{{i}}\sum_{{k}} Y_{{{idx}}} \log A^{{({L})}}_{{{idx}}}"
    if e == "L-MSE":
        half = r"\frac{1}{2m}" if cfg.reduction == "mean" else r"\frac{1}{2}"
        return rf"L = {half}\sum_{{i}} \left\| A^{{({L})}}_{{{':,i' if column else 'i,:'}}} - Y_{{{':,i' if column else 'i,:'}}} \right\|^2"
    if e == "B1-CE":
        return f"{D} = {A} - Y"
    if e == "B1-MSE":
        return f"{D} = \\left({A} - Y\\right) \\odot {g}'\\left({Z}\\right)"
    if e == "B1-SMSE":
        if column:
            return rf"{D}_{{:,i}} = {A}_{{:,i}} \odot \left(E_{{:,i}} - {A}_{{:,i}} \cdot E_{{:,i}}\right),\; E = {A} - Y"
        return rf"{D}_{{i,:}} = {A}_{{i,:}} \odot \left(E_{{i,:}} - {A}_{{i,:}} \cdot E_{{i,:}}\right),\; E = {A} - Y"
    if e == "B1-APX":
        return f"{D} \\approx {A} - Y"
    dW, db = rf"\frac{{\partial L}}{{\partial {W}}}", rf"\frac{{\partial L}}{{\partial b^{{({l})}}}}"
    if e == "B2":
        if spec.sample is not None:
            s = spec.sample + 1
            term = (f"{D}_{{:,{s}}} {_t(Ap + '_{:,' + str(s) + '}')}" if column else
                    f"{_t(Ap + '_{' + str(s) + ',:}')} {D}_{{{s},:}}")
            return f"{dW} {PLUS_EQ} {r} {term}"
        return f"{dW} = {r} {D} {_t(Ap)}" if column else f"{dW} = {r} {_t(Ap)} {D}"
    if e == "B3":
        if spec.sample is not None:
            s = spec.sample + 1
            return f"{db} {PLUS_EQ} {r} {D}_{{{':,' + str(s) if column else str(s) + ',:'}}}"
        return (f"{db} = {r} \\sum_{{i}} {D}_{{:,i}}" if column else f"{db} = {r} \\sum_{{i}} {D}_{{i,:}}")
    if e == "B4":
        dAp = rf"\frac{{\partial L}}{{\partial {Ap}}}"
        return f"{dAp} = {_t(W)} {D}" if column else f"{dAp} = {D} {_t(W)}"
    if e == "B5":
        gp = _act(cfg, p)
        dAp = rf"\frac{{\partial L}}{{\partial {Ap}}}"
        return f"\\Delta^{{({p})}} = {dAp} \\odot {gp}'\\left(Z^{{({p})}}\\right)"
    if e == "U1":
        upd = f"{W} \\leftarrow {W} - \\alpha {dW}"
        if cfg.bias and stacked:  # one above the other: side by side, a plan row drew them 5 px tall
            return (f"\\begin{{aligned}} {W} &\\leftarrow {W} - \\alpha {dW} \\\\ "
                    f"b^{{({l})}} &\\leftarrow b^{{({l})}} - \\alpha {db} \\end{{aligned}}")
        if cfg.bias:
            upd += f",\\quad b^{{({l})}} \\leftarrow b^{{({l})}} - \\alpha {db}"
        return upd
    raise KeyError(e)


def _activation_fn(cfg: NetConfig, layer: int):
    """The element-wise activation of a layer (not softmax), with its derivative."""
    from .activations import get_activation
    return get_activation(cfg.activation(layer), cfg.leaky_slope)


# -- operands ------------------------------------------------------------------------
def display(a: np.ndarray, column: bool) -> np.ndarray:
    """The array as a notation shows it: transposed in column form (a bias vector
    becomes a column), untouched otherwise."""
    a = np.asarray(a)
    if not column:
        return a if a.ndim != 1 else a[None, :]  # (1, n): b is a row in row form
    return a.T if a.ndim == 2 else a[:, None]  # (n, 1): and a column in column form


@dataclass(frozen=True)
class Operand:
    name: str  # array name in StageResult.arrays ("A0", "W1", "loss", ...)
    symbol: str  # LaTeX symbol in the chosen notation
    array: np.ndarray | None  # as displayed (transposed in column form); None before it exists


@dataclass(frozen=True)
class EquationView:
    spec: StageSpec
    title: str
    latex: str  # the symbolic equation
    results: tuple[Operand, ...]  # what the stage computes (U1 with biases: the new W and b)
    operands: tuple[Operand, ...]
    sources: str
    note: str  # a slip in the sources, or the warning that this is an approximation
    approximate: bool
    column: bool

    @property
    def result(self) -> Operand:
        return self.results[0]


def result_name(spec: StageSpec) -> str:
    l, p = spec.layer, spec.layer - 1
    return {"F1": f"Z{l}", "F2": f"A{l}", "B2": f"dW{l}", "B3": f"db{l}", "B4": f"dA{p}",
            "B5": f"Delta{p}", "U1": f"W{l}_after"}.get(spec.eq) or (
        "loss" if spec.phase == "loss" else f"Delta{l}")


def _operand_names(spec: StageSpec, cfg: NetConfig) -> list[str]:
    l, p, L = spec.layer, spec.layer - 1, cfg.n_layers
    e = spec.eq
    bias = [f"b{l}"] if cfg.bias else []
    if e == "F1":
        return [f"A{p}", f"W{l}"] + bias
    if e == "F2":
        return [f"Z{l}"]
    if spec.phase == "loss":
        return [f"A{L}", "Y"]
    if e.startswith("B1"):
        return [f"A{L}", "Y"] + ([f"Z{L}"] if e == "B1-MSE" else [])
    if e == "B2":
        return [f"A{p}", f"Delta{l}"]
    if e == "B3":
        return [f"Delta{l}"]
    if e == "B4":
        return [f"Delta{l}", f"W{l}"]
    if e == "B5":
        return [f"dA{p}", f"Z{p}"]
    if e == "U1":
        return [f"W{l}", f"dW{l}"] + ([f"b{l}", f"db{l}"] if cfg.bias else [])
    raise KeyError(e)


def shape(name: str, cfg: NetConfig, m: int) -> tuple[int, ...]:
    """The engine's shape of array `name` (an operand or result of a view) in a step of `m`
    samples: one row per sample (X, Y, A, Z, Delta, dA), inputs x units (W, dW), units (b, db)."""
    if name == "loss":
        return ()
    base = name[: -len("_after")] if name.endswith("_after") else name
    core = base.rstrip("0123456789")
    n = cfg.sizes
    if core in ("X", "Y"):
        return (m, n[0] if core == "X" else n[-1])
    layer = int(base[len(core):])
    if core in ("A", "Z", "Delta", "dA"):
        return (m, n[layer])
    if core in ("W", "dW"):
        return (n[layer - 1], n[layer])
    if core in ("b", "db"):
        return (n[layer],)
    raise KeyError(name)


def view(spec: StageSpec, cfg: NetConfig, arrays: Mapping[str, np.ndarray] | None,
         column: bool = False) -> EquationView:
    """The equation of `spec` with whatever of its arrays `arrays` holds (none for a
    stage still to come)."""
    arrays = arrays or {}
    eq = CATALOGUE[spec.eq]

    def op(name):
        a = arrays.get(name)
        return Operand(name, sym(name),
                       None if a is None else (a if np.ndim(a) == 0 else display(a, column)))

    res_names = [result_name(spec)]
    if spec.eq == "U1" and cfg.bias:
        res_names.append(f"b{spec.layer}_after")
    title = spec.title
    note = eq.note
    approx = get_output_loss(cfg.output_loss).approximate and spec.eq == "B1-APX"
    return EquationView(spec, title, symbolic(spec, cfg, column), tuple(op(n) for n in res_names),
                        tuple(op(n) for n in _operand_names(spec, cfg)), eq.sources, note, approx, column)


def update_of(arrays: Mapping[str, np.ndarray], cfg: NetConfig, layer: int) -> np.ndarray | None:
    """The change U1 will make (or made) to W(layer): −α dL/dW, once dL/dW exists."""
    dw = arrays.get(f"dW{layer}")
    return None if dw is None else -cfg.lr * np.asarray(dw, dtype=np.float64)


# -- numbers ------------------------------------------------------------------------
def counted(n: int, noun: str) -> str:
    """"1 step", "2 steps": a count and its noun, in the plural unless it is one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fmt(v: float, digits: int = 4) -> str:
    """Fixed digits with an explicit sign, so a sign never depends on colour alone;
    digits=None gives full precision (the shortest repr that round-trips)."""
    v = float(v) + 0.0  # -0.0 (a ReLU's zero times a negative) reads +0.0000, as every other zero
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("+inf" if v > 0 else "−inf")
    if digits is None:
        text = repr(v)
        return text if text.startswith("-") else "+" + text
    if v != 0 and (abs(v) >= 10 ** 5 or abs(v) < 10 ** -digits):
        return f"{v:+.{max(digits - 1, 1)}e}"
    return f"{v:+.{digits}f}"


def summary(a: np.ndarray) -> dict:
    """Shape and min / max / mean of an array too large to show in full."""
    a = np.asarray(a)
    return {"shape": a.shape, "min": float(a.min()), "max": float(a.max()), "mean": float(a.mean())}


def latex_array(a: np.ndarray, digits: int | None = 4, limit: int = MATRIX_LIMIT) -> str:
    """A bmatrix of the values when the array is small; else a row/column-elided
    bmatrix (corners and \\cdots) with its shape, never a wall of digits."""
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt(a, digits).replace("+", "", 1) if float(a) >= 0 else fmt(a, digits).replace("−", "-")
    if a.ndim == 1:
        a = a[None, :]
    rows, cols = a.shape

    def cell(v):
        return fmt(v, digits)

    def pick(n):
        return list(range(n)) if n <= limit else list(range(limit // 2)) + [None] + list(range(n - limit // 2, n))

    r_idx, c_idx = pick(rows), pick(cols)
    lines = []
    for i in r_idx:
        if i is None:
            lines.append(" & ".join(r"\vdots" if j is not None else r"\ddots" for j in c_idx))
            continue
        lines.append(" & ".join(r"\cdots" if j is None else cell(a[i, j]) for j in c_idx))
    body = r" \\ ".join(lines)
    tex = r"\begin{bmatrix} " + body + r" \end{bmatrix}"
    if rows > limit or cols > limit:
        tex += rf"_{{{rows}\times{cols}}}"
    return tex


def latex_with_values(v: EquationView, digits: int | None = 4) -> str:
    """The equation followed by its numbers: result = (operands' values) for small
    arrays; an elided matrix for large ones. Parses as LaTeX math."""
    parts = [v.latex]
    if v.result.array is not None:
        for o in v.operands + v.results:
            if o.array is not None:
                parts.append(f"{o.symbol} = {latex_array(o.array, digits)}")
    return r" \\ ".join(parts)


# -- explain this number ----------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    factors: tuple[tuple[str, tuple, float], ...]  # (array name, index in the engine's row form, value)
    value: float  # the product (times any constant) this term adds


@dataclass(frozen=True)
class Explanation:
    target: tuple[str, tuple]  # (array name, index in row form)
    value: float  # the cell's value
    formula: str  # plain text, with indices, in the chosen notation
    terms: tuple[Term, ...]
    constant: float  # added after the terms (a bias), 0 if none
    scale: float  # multiplies the sum of the terms (r, or 1)
    total: float  # scale * Σ terms + constant: equals `value` up to rounding
    highlights: tuple[tuple[str, tuple], ...] = field(default=())  # operand cells that made it, in display indices


def _disp_index(idx: tuple, column: bool, ndim: int) -> tuple:
    if ndim == 1:
        return (0, idx[0]) if not column else (idx[0], 0)
    return tuple(reversed(idx)) if column else idx


def explain(spec: StageSpec, cfg: NetConfig, arrays: Mapping[str, np.ndarray], cell: tuple,
            column: bool = False, name: str | None = None) -> Explanation:
    """Expand one cell of the stage's result into the terms that sum to it. `cell` is
    an index into the result *as displayed* in the chosen notation; `name` picks the
    result when a stage has two (U1 with biases: "b{l}_after")."""
    name = name or result_name(spec)
    res = np.asarray(arrays[name])
    if res.ndim == 2:
        i, j = (cell[1], cell[0]) if column else (cell[0], cell[1])
    elif res.ndim == 1:
        i, j = None, (cell[0] if column else cell[-1])
    else:
        i = j = None
    l, p, L = spec.layer, spec.layer - 1, cfg.n_layers
    m = len(arrays["X"])
    r = 1.0 / m if cfg.reduction == "mean" else 1.0
    g = arrays.get
    e = spec.eq
    terms: list[Term] = []
    const, scale = 0.0, 1.0

    def T(*factors, coef=1.0):
        vals = [float(np.asarray(arrays[n])[ix]) for n, ix in factors]
        terms.append(Term(tuple((n, ix, v) for (n, ix), v in zip(factors, vals)), coef * float(np.prod(vals))))

    def fi(a, b):  # a plain-text index pair in the notation's order
        return f"[{b},{a}]" if column else f"[{a},{b}]"

    if e == "F1":
        for k in range(g(f"A{p}").shape[1]):
            T((f"A{p}", (i, k)), (f"W{l}", (k, j)))
        if cfg.bias:
            const = float(g(f"b{l}")[j])
        plus_b = f" + b{l}[{j}]" if cfg.bias else ""
        formula = (f"Z{l}[{j},{i}] = Σ_k W{l}[{j},k] · A{p}[k,{i}]" if column else
                   f"Z{l}[{i},{j}] = Σ_k A{p}[{i},k] · W{l}[k,{j}]") + plus_b
    elif e == "F2":
        z = float(g(f"Z{l}")[i, j])
        if l == L and get_output_loss(cfg.output_loss).output == "softmax":
            zrow = np.asarray(g(f"Z{l}")[i], dtype=np.float64)  # (k,)
            ez = np.exp(zrow - zrow.max())
            terms.append(Term(((f"Z{l}", (i, j), z),), float(ez[j] / ez.sum())))
            formula = f"A{l}{fi(i, j)} = exp(Z{l}{fi(i, j)}) / Σ_k exp(Z{l}{fi(i, 'k')})"
        else:
            act = _activation_fn(cfg, l)
            terms.append(Term(((f"Z{l}", (i, j), z),), float(act.f(np.array([z]))[0])))
            formula = f"A{l}{fi(i, j)} = {act.name}(Z{l}{fi(i, j)})"
    elif spec.phase == "loss":
        a, y = np.asarray(g(f"A{L}"), np.float64), np.asarray(g("Y"), np.float64)
        for s in range(m):
            if e == "L-CE":
                ks = np.flatnonzero(y[s])
                val = float(-np.sum(y[s, ks] * np.log(a[s, ks])))
                terms.append(Term(tuple((f"A{L}", (s, int(k)), float(a[s, k])) for k in ks), val))
            else:
                val = float(0.5 * np.sum((a[s] - y[s]) ** 2))
                terms.append(Term(tuple((f"A{L}", (s, k), float(a[s, k])) for k in range(a.shape[1])), val))
        scale = r
        formula = "L = r · Σ_i loss_i" if e == "L-CE" else "L = r · Σ_i ½‖A_i − Y_i‖²"
    elif e in ("B1-CE", "B1-APX"):
        terms.append(Term(((f"A{L}", (i, j), float(g(f"A{L}")[i, j])),), float(g(f"A{L}")[i, j])))
        terms.append(Term((("Y", (i, j), float(g("Y")[i, j])),), -float(g("Y")[i, j])))
        formula = f"Δ{L}{fi(i, j)} = A{L}{fi(i, j)} − Y{fi(i, j)}"
    elif e == "B1-MSE":
        a, y, z = float(g(f"A{L}")[i, j]), float(g("Y")[i, j]), float(g(f"Z{L}")[i, j])
        gp = float(_activation_fn(cfg, L).grad(np.array([z]), np.array([a]))[0])
        terms.append(Term(((f"A{L}", (i, j), a), ("Y", (i, j), y), (f"Z{L}", (i, j), z)), (a - y) * gp))
        formula = f"Δ{L}{fi(i, j)} = (A{L}{fi(i, j)} − Y{fi(i, j)}) · g'(Z{L}{fi(i, j)}) = ({a - y:+.4g}) · {gp:.4g}"
    elif e == "B1-SMSE":
        a = np.asarray(g(f"A{L}")[i], np.float64)
        err = a - np.asarray(g("Y")[i], np.float64)
        dot = float(a @ err)
        terms.append(Term(((f"A{L}", (i, j), float(a[j])),), float(a[j] * err[j])))
        terms.append(Term(((f"A{L}", (i, j), float(a[j])),), float(-a[j] * dot)))
        formula = f"Δ{L}{fi(i, j)} = A·E − A · (A{fi(i, ':')}·E{fi(i, ':')}) with E = A − Y"
    elif e == "B2":
        upto = m if spec.sample is None else spec.sample + 1
        for s in range(upto):
            T((f"A{p}", (s, i)), (f"Delta{l}", (s, j)))
        scale = r
        done = "" if spec.sample is None else f" (samples 1..{upto} of {m} so far)"
        formula = (f"dW{l}[{j},{i}] = r · Σ_s Δ{l}[{j},s] · A{p}[{i},s]" if column else
                   f"dW{l}[{i},{j}] = r · Σ_s A{p}[s,{i}] · Δ{l}[s,{j}]") + done
    elif e == "B3":
        upto = m if spec.sample is None else spec.sample + 1
        for s in range(upto):
            T((f"Delta{l}", (s, j)))
        scale = r
        formula = (f"db{l}[{j}] = r · Σ_s Δ{l}[{j},s]" if column else f"db{l}[{j}] = r · Σ_s Δ{l}[s,{j}]")
    elif e == "B4":
        for k in range(g(f"Delta{l}").shape[1]):
            T((f"Delta{l}", (i, k)), (f"W{l}", (j, k)))
        formula = (f"dA{p}[{j},{i}] = Σ_k W{l}[k,{j}] · Δ{l}[k,{i}]" if column else
                   f"dA{p}[{i},{j}] = Σ_k Δ{l}[{i},k] · W{l}[{j},k]")
    elif e == "B5":
        da, z, a = float(g(f"dA{p}")[i, j]), float(g(f"Z{p}")[i, j]), float(g(f"A{p}")[i, j])
        gp = float(_activation_fn(cfg, p).grad(np.array([z]), np.array([a]))[0])
        terms.append(Term(((f"dA{p}", (i, j), da), (f"Z{p}", (i, j), z)), da * gp))
        formula = f"Δ{p}{fi(i, j)} = dA{p}{fi(i, j)} · g'(Z{p}{fi(i, j)}) = {da:+.4g} · {gp:.4g}"
    elif e == "U1" and name.startswith("b"):
        lr = float(cfg.lr)
        terms.append(Term(((f"b{l}", (j,), float(g(f"b{l}")[j])),), float(g(f"b{l}")[j])))
        terms.append(Term(((f"db{l}", (j,), float(g(f"db{l}")[j])),), -lr * float(g(f"db{l}")[j])))
        formula = f"b{l}_new[{j}] = b{l}[{j}] − α · db{l}[{j}], α = {lr:g}"
    elif e == "U1":
        lr = float(cfg.lr)
        terms.append(Term(((f"W{l}", (i, j), float(g(f"W{l}")[i, j])),), float(g(f"W{l}")[i, j])))
        terms.append(Term(((f"dW{l}", (i, j), float(g(f"dW{l}")[i, j])),), -lr * float(g(f"dW{l}")[i, j])))
        formula = (f"W{l}_new{fi(i, j)} = W{l}{fi(i, j)} − α · dW{l}{fi(i, j)}, α = {lr:g}")
    else:
        raise KeyError(e)

    total = scale * sum(t.value for t in terms) + const
    target_idx = () if res.ndim == 0 else ((j,) if res.ndim == 1 else (i, j))
    value = float(res[target_idx]) if res.ndim else float(res)
    highlights = tuple(dict.fromkeys(
        (n, _disp_index(ix, column, np.ndim(arrays[n]))) for t in terms for n, ix, _ in t.factors))
    return Explanation((name, target_idx), value, formula, tuple(terms), const, scale, float(total), highlights)
