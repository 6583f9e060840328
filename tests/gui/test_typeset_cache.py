"""Equations are typeset once: the presets' and the reference's ship pre-typeset in the
package (any colour), and the rest land in a disk cache keyed by the LaTeX and the
typesetter's version, which survives a new process (memory cleared) and never breaks
drawing."""

import pytest

from bpviz.gui.widgets import mathview

TEX = r"Z^{(1)} = A^{(0)} W^{(1)} + b^{(1)}"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(mathview, "cache_dir", lambda: tmp_path / "typeset")
    monkeypatch.setattr(mathview, "shipped_svg", lambda *_a: None)  # the disk cache alone
    mathview._CACHE.clear()
    yield tmp_path / "typeset"
    mathview._CACHE.clear()


def no_typesetting(*_a):
    raise AssertionError("typeset again although the disk cache has it")


def test_a_new_process_reads_the_disk_instead_of_typesetting(cache, monkeypatch):
    first = bytes(mathview.latex_svg(TEX, "#000000", 18))
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".svg" and files[0].read_bytes() == first
    mathview._CACHE.clear()  # what a new process starts with
    monkeypatch.setattr(mathview, "typeset", no_typesetting)
    assert bytes(mathview.latex_svg(TEX, "#000000", 18)) == first
    assert bytes(mathview.latex_svg(TEX, "#000000", 18)) == first  # and then memory


def test_the_key_holds_latex_colour_size_and_typesetter_version(cache, monkeypatch):
    mathview.latex_svg(TEX, "#000000", 18)
    mathview.latex_svg(TEX, "#9a9a9a", 18)
    mathview.latex_svg(TEX, "#000000", 14)
    mathview.latex_svg(TEX + "+1", "#000000", 18)
    assert len(list(cache.iterdir())) == 4
    mathview._CACHE.clear()
    monkeypatch.setattr(mathview, "_zm_version", "0.0-another")
    calls = []
    real = mathview.typeset
    monkeypatch.setattr(mathview, "typeset", lambda *a: calls.append(a) or real(*a))
    mathview.latex_svg(TEX, "#000000", 18)
    assert len(calls) == 1  # another ziamath version never reuses the old drawing
    assert len(list(cache.iterdir())) == 5


def test_a_damaged_file_is_typeset_again_and_replaced(cache):
    good = bytes(mathview.latex_svg(TEX))
    (path,) = cache.iterdir()
    path.write_bytes(good[: len(good) // 2])  # e.g. a disk that lost the end of the file
    mathview._CACHE.clear()
    assert bytes(mathview.latex_svg(TEX)) == good
    assert path.read_bytes() == good
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left behind


def test_an_unwritable_cache_costs_time_not_the_drawing(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(mathview, "cache_dir", lambda: blocker / "typeset")
    mathview._CACHE.clear()
    svg = bytes(mathview.latex_svg(TEX))
    assert svg.lstrip().startswith((b"<svg", b"<?xml"))
    mathview._CACHE.clear()


def test_bad_latex_is_still_a_value_error(cache):
    with pytest.raises(ValueError):
        mathview.latex_svg(r"\frac{")
    assert not cache.exists() or not any(cache.iterdir())  # nothing is kept for bad input


def test_the_cache_lives_in_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert str(mathview.cache_dir()).startswith(str(tmp_path))
    assert mathview.cache_dir().name == "typeset"


# -- the forms shipped in the package (resources/typeset.zip, from scripts/pretypeset) --------

def test_every_preset_and_the_reference_ship_pre_typeset():
    from bpviz.gui.pretypeset import forms_to_ship
    forms = forms_to_ship()
    assert len(forms) > 100
    missing = [(tex, size) for tex, size in forms if mathview.shipped_svg(tex, size) is None]
    assert not missing, f"run scripts/pretypeset: {len(missing)} not shipped, e.g. {missing[:2]}"


@pytest.mark.parametrize("color", ["#000000", "#9a9a9a", "#ffffff"])
def test_a_shipped_form_is_what_ziamath_draws_in_that_colour(color):
    from bpviz.gui.pretypeset import forms_to_ship
    forms = forms_to_ship()
    for tex, size in (forms[0], forms[len(forms) // 2], forms[-1]):
        shipped = mathview.recolor(mathview.shipped_svg(tex, size), color)
        assert shipped == mathview.typeset(tex, color, size)


def test_a_first_start_typesets_nothing(qtbot, tmp_path, monkeypatch):
    """An empty cache folder: the toy step, in both notations, comes from the package."""
    from PySide6.QtCore import QSettings

    from bpviz.engine.presets import get_preset
    from bpviz.gui.window import MainWindow
    monkeypatch.setattr(mathview, "cache_dir", lambda: tmp_path / "typeset")
    monkeypatch.setattr(mathview, "typeset", no_typesetting)
    mathview._CACHE.clear()
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()  # a hidden panel prepares no forms
    qtbot.waitExposed(win)
    c = win.controller
    try:
        c.rebuild(get_preset("toy").config, "toy")
        qtbot.waitUntil(lambda: c.latest is not None, timeout=10000)
        panel = next(p for p in win.panels if p.object_name == "equations")
        for column in (False, True):
            panel.set_column(column)
            for _ in range(3):
                before = c.latest.serial
                with qtbot.waitSignal(c.snapshot_changed, timeout=10000,
                                      check_params_cb=lambda s, b=before: s.serial > b):
                    c.request_step()
            qtbot.waitUntil(lambda: not panel._to_warm, timeout=10000)  # every form the step can show
        assert not (tmp_path / "typeset").exists()
    finally:
        c.shutdown()
        mathview._CACHE.clear()


def test_a_damaged_package_file_means_typesetting_not_a_failure(monkeypatch, cache):
    monkeypatch.undo()  # the real shipped_svg, reading a damaged zip
    monkeypatch.setattr(mathview, "cache_dir", lambda: cache)
    monkeypatch.setattr(mathview, "_shipped", None)

    class Damaged:
        def read_bytes(self):
            return b"PK\x03\x04 not a zip"
    monkeypatch.setattr("bpviz.resources.resource", lambda name: Damaged())
    mathview._CACHE.clear()
    assert mathview.shipped_svg(TEX, 14) is None
    assert bytes(mathview.latex_svg(TEX, "#000000", 14)) == mathview.typeset(TEX, "#000000", 14)
    mathview._CACHE.clear()


def test_a_known_form_is_read_and_an_unknown_one_is_left_to_typeset(cache, monkeypatch):
    """known_svg (what the equations panel sizes a new plan's equation with, in the frame
    that shows it) never typesets: None until the form is cached, then its bytes."""
    calls = []
    real = mathview.typeset
    monkeypatch.setattr(mathview, "typeset", lambda *a: calls.append(a) or real(*a))
    assert mathview.known_svg(TEX, "#000000", 18) is None
    assert not calls and not cache.exists()  # nothing typeset, nothing written
    typeset = bytes(mathview.latex_svg(TEX, "#000000", 18))
    mathview._CACHE.clear()  # a new process: from the disk
    assert bytes(mathview.known_svg(TEX, "#000000", 18)) == typeset
    assert len(calls) == 1


@pytest.mark.parametrize("column", [False, True])
def test_a_per_sample_gradient_is_typeset_with_its_plus_sign(column):
    """B2 and B3 built sample by sample read "dL/dW += r A_s^T Delta_s": each sample's
    term adds to the gradient. ziamath drops \\mathrel{+}, which read "dL/dW = r ...":
    one sample's term as the whole gradient. Each glyph is one path in its SVG."""
    from bpviz.engine import explain as ex
    from bpviz.engine.presets import get_preset
    from bpviz.engine.trainer import step_plan
    cfg = get_preset("toy").config.with_(per_sample=True, bias=True)
    specs = [s for s in step_plan(cfg, 4) if s.eq in ("B2", "B3") and s.sample is not None]
    assert {s.eq for s in specs} == {"B2", "B3"}
    for spec in specs:
        tex = ex.symbolic(spec, cfg, column)
        assert ex.PLUS_EQ in tex
        glyphs = mathview.typeset(tex, "#000000", 18).count(b"<path")
        assert glyphs == mathview.typeset(tex.replace(ex.PLUS_EQ, "="), "#000000", 18).count(b"<path") + 1
