"""The equations panel's model: what it shows equals the engine's arrays, in both
notations; every explained cell sums back to its value; the LaTeX parses."""
import numpy as np
import pytest
from latex2mathml.converter import convert

from bpviz.engine import explain as ex
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.losses import OUTPUT_LOSSES
from bpviz.engine.trainer import Trainer

SIZES = {1: (3, 2), 2: (3, 4, 2), 3: (3, 4, 3, 2)}


def all_stages(depth, pair, per_sample=False, bias=True, hidden="tanh"):
    rng = np.random.default_rng(depth)
    x = rng.normal(size=(4, 3))
    y = np.eye(2)[[0, 1, 1, 0]] if pair.startswith("softmax") else rng.uniform(0.1, 0.9, (4, 2))
    cfg = NetConfig(SIZES[depth], hidden=hidden, output_loss=pair, init="xavier", seed=depth, lr=0.3,
                    per_sample=per_sample, bias=bias)
    t = Trainer(cfg, ArraySet(x, y))
    out = []
    while not out or not out[-1].step_end:
        out.append(t.next_stage())
    return cfg, out


CASES = [(d, p) for d in SIZES for p in OUTPUT_LOSSES]


@pytest.mark.parametrize("depth, pair", CASES)
@pytest.mark.parametrize("per_sample, bias", [(False, True), (True, True), (False, False)])
def test_the_shape_of_every_array_a_step_shows_is_known_before_it_is_computed(depth, pair, per_sample, bias):
    """What the equations panel prepares its tables with, ahead of the numbers."""
    cfg, stages = all_stages(depth, pair, per_sample=per_sample, bias=bias)
    m = 4
    for r in stages:
        v = ex.view(r.spec, cfg, r.arrays, False)
        for o in v.results + v.operands:
            assert ex.shape(o.name, cfg, m) == np.shape(r.arrays[o.name]), (r.spec, o.name)
    with pytest.raises(KeyError):
        ex.shape("Q1", cfg, m)


@pytest.mark.parametrize("depth, pair", CASES)
@pytest.mark.parametrize("column", [False, True])
def test_shown_numbers_are_the_engines_arrays(depth, pair, column):
    cfg, stages = all_stages(depth, pair)
    for r in stages:
        v = ex.view(r.spec, cfg, r.arrays, column)
        for o in v.results + v.operands:
            a = np.asarray(r.arrays[o.name])
            if a.ndim == 2:
                np.testing.assert_array_equal(o.array, a.T if column else a)
            elif a.ndim == 1:
                np.testing.assert_array_equal(o.array.ravel(), a)
                assert o.array.shape == ((len(a), 1) if column else (1, len(a)))
            else:
                assert float(o.array) == float(a)


@pytest.mark.parametrize("depth, pair", CASES)
@pytest.mark.parametrize("column", [False, True])
def test_every_explained_cell_sums_back_to_its_value(depth, pair, column):
    cfg, stages = all_stages(depth, pair)
    for r in stages:
        v = ex.view(r.spec, cfg, r.arrays, column)
        for res in v.results:
            shown = res.array
            cells = [()] if np.ndim(shown) == 0 else list(np.ndindex(*shown.shape))
            for cell in cells:
                e = ex.explain(r.spec, cfg, r.arrays, cell, column, name=res.name)
                assert e.total == pytest.approx(e.value, rel=1e-9, abs=1e-12), (r.spec, cell, e.formula)
                if cell:  # the displayed cell is the explained one
                    assert float(shown[cell]) == e.value
                for n, idx in e.highlights:  # highlighted cells exist in the operands as displayed
                    disp = ex.display(r.arrays[n], column)
                    assert disp[idx] is not None


def test_explain_in_per_sample_mode_shows_the_running_sum():
    cfg, stages = all_stages(2, "softmax-ce", per_sample=True)
    b2 = [r for r in stages if r.eq == "B2" and r.layer == 1]
    for k, r in enumerate(b2):
        e = ex.explain(r.spec, cfg, r.arrays, (1, 2))
        assert len(e.terms) == k + 1
        assert e.total == pytest.approx(float(r.arrays["dW1"][1, 2]), rel=1e-12)
        assert f"samples 1..{k + 1} of 4" in e.formula


def test_explain_names_the_operand_cells():
    cfg, stages = all_stages(2, "softmax-ce")
    f1 = stages[0]
    e = ex.explain(f1.spec, cfg, f1.arrays, (2, 1))
    assert ("A0", (2, 0)) in e.highlights and ("W1", (0, 1)) in e.highlights
    assert e.constant == float(f1.arrays["b1"][1])
    ec = ex.explain(f1.spec, cfg, f1.arrays, (1, 2), column=True)  # the same cell, transposed
    assert ec.value == e.value and ("W1", (1, 0)) in ec.highlights


@pytest.mark.parametrize("depth, pair", CASES)
@pytest.mark.parametrize("column", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_latex_parses_for_every_stage(depth, pair, column, bias):
    cfg, stages = all_stages(depth, pair, bias=bias)
    for r in stages:
        v = ex.view(r.spec, cfg, r.arrays, column)
        convert(v.latex)
        convert(ex.latex_with_values(v))
        convert(ex.latex_with_values(v, digits=None))


def test_symbolic_forms_follow_the_pairing_and_notation():
    cfg, stages = all_stages(2, "softmax-ce")
    b1 = next(r for r in stages if r.eq == "B1-CE")
    assert ex.view(b1.spec, cfg, b1.arrays).latex == r"\Delta^{(2)} = A^{(2)} - Y"
    f1 = stages[0]
    assert "A^{(0)} W^{(1)}" in ex.view(f1.spec, cfg, None).latex
    assert "W^{(1)} A^{(0)}" in ex.view(f1.spec, cfg, None, column=True).latex
    cfg2, stages2 = all_stages(2, "sigmoid-mse")
    b1m = next(r for r in stages2 if r.eq == "B1-MSE")
    assert r"\odot \sigma'" in ex.view(b1m.spec, cfg2, None).latex
    cfg3, stages3 = all_stages(2, "softmax-mse-approx")
    apx = next(r for r in stages3 if r.eq == "B1-APX")
    v = ex.view(apx.spec, cfg3, apx.arrays)
    assert v.approximate and r"\approx" in v.latex and "approximation" in v.note.lower()
    cfg4, stages4 = all_stages(2, "softmax-ce", bias=False)
    assert "b^{(1)}" not in ex.view(stages4[0].spec, cfg4, None).latex


def test_future_stages_show_no_numbers():
    cfg, stages = all_stages(2, "softmax-ce")
    v = ex.view(stages[-1].spec, cfg, stages[0].arrays)
    assert v.result.array is None
    assert ex.latex_with_values(v) == v.latex


def test_large_arrays_are_elided_not_walls_of_digits():
    a = np.arange(100 * 128, dtype=float).reshape(100, 128)
    tex = ex.latex_array(a)
    assert r"\cdots" in tex and r"\vdots" in tex and "100\\times128" in tex
    assert tex.count("&") < 100
    convert(tex)


def test_number_format_shows_signs_and_full_precision_on_demand():
    assert ex.fmt(0.5) == "+0.5000" and ex.fmt(-0.5) == "-0.5000"
    assert ex.fmt(1 / 3, None) == "+0.3333333333333333"
    assert ex.fmt(1e-7).startswith("+1.000e-07")
    assert ex.fmt(float("nan")) == "NaN"
    assert ex.fmt(-0.0) == ex.fmt(0.0) == "+0.0000" and ex.fmt(-0.0, None) == "+0.0"
