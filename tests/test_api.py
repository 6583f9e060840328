"""The notebook API (`import bpviz`) and the README example that documents it."""
from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bpviz

README = Path(__file__).resolve().parents[1] / "README.md"


def _notebook_section() -> str:
    text = README.read_text()
    return text.split("## In a notebook", 1)[1].split("\n## ", 1)[0]


def test_the_readme_example_runs_and_prints_what_the_readme_says():
    section = _notebook_section()
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    printed = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    assert 8 <= len([l for l in code.splitlines() if l.strip()]) <= 12, "about ten lines"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    assert out.getvalue() == printed


def test_importing_bpviz_loads_neither_numpy_nor_qt():
    r = subprocess.run([sys.executable, "-c", "import sys, bpviz; "
                        "print(sorted(m for m in ('numpy', 'PySide6') if m in sys.modules))"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_options_override_the_preset():
    t = bpviz.trainer("toy", hidden="tanh", lr=0.5, sizes=(3, 8, 1), bias=True)
    assert (t.cfg.hidden, t.cfg.lr, t.cfg.sizes, t.cfg.bias) == ("tanh", 0.5, (3, 8, 1), True)
    assert t.params[0][0].shape == (3, 8)
    eqs = [s.eq for s in bpviz.step_plan(t)]
    assert eqs[:4] == ["F1", "F2", "F1", "F2"] and "B3" in eqs and eqs[-1] == "U1"


def test_every_array_of_a_stage_is_read_by_name_and_matches_its_equation():
    t = bpviz.trainer("toy")
    r = t.next_stage()  # F1 of layer 1
    a = r.arrays
    np.testing.assert_allclose(a["Z1"], a["X"] @ a["W1"])  # (4, 4) = (4, 3) @ (3, 4)
    r = t.finish_step()
    a = r.arrays
    np.testing.assert_allclose(a["dW1"], a["A0"].T @ a["Delta1"])  # toy: r = 1 (sum)
    np.testing.assert_allclose(a["W1_after"], a["W1"] - 1.0 * a["dW1"])
    assert not a["W1_after"].flags.writeable


def test_outputs_use_the_weights_after_the_last_update():
    t = bpviz.trainer("toy")
    before = bpviz.outputs(t)
    np.testing.assert_array_equal(before.ravel().round(3), [0.758, 0.771, 0.791, 0.801])
    t.finish_step()
    assert not np.allclose(bpviz.outputs(t), before)
    one = bpviz.outputs(t, np.array([[1.0, 0.0, 1.0]]))  # (1, 1): any inputs, not only the set's
    np.testing.assert_allclose(one, bpviz.outputs(t)[2:3])


def test_catalogue_and_classes_are_reachable_from_the_package():
    assert bpviz.equation("B4").id == "B4" and set(bpviz.CATALOGUE) >= {"F1", "U1"}
    assert "toy" in bpviz.PRESETS
    assert isinstance(bpviz.trainer("toy"), bpviz.Trainer)
    with pytest.raises(AttributeError):
        bpviz.no_such_name


@pytest.mark.parametrize("kwargs, named", [({"learning_rate": 1}, "learning_rate"),
                                           ({"hidden": "swish"}, "swish"),
                                           ({"sizes": (3, 0, 1)}, "at least 1")])
def test_bad_options_raise_one_config_error_naming_them(kwargs, named):
    with pytest.raises(bpviz.ConfigError, match=named):
        bpviz.trainer("toy", **kwargs)


def test_unknown_preset_is_a_config_error():
    with pytest.raises(bpviz.ConfigError, match="nope"):
        bpviz.trainer("nope")
