"""Equations are typeset once per machine: the disk cache is keyed by the LaTeX and the
typesetter's version, survives a new process (memory cleared), and never breaks drawing."""

import pytest

from bpviz.gui.widgets import mathview

TEX = r"Z^{(1)} = A^{(0)} W^{(1)} + b^{(1)}"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(mathview, "cache_dir", lambda: tmp_path / "typeset")
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
