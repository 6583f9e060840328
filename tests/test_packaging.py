"""bpviz as an installed tool: the files it ships (resources/), the desktop entry and
metainfo, `bpviz install-desktop`, the wheel in a fresh virtual environment, and a
project that refers to nothing outside itself."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from bpviz.engine.equations import CATALOGUE
from bpviz.resources import APP_ID, ICON_SIZES, icon_png, icon_svg, read_text, resource

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])  # IHDR's width and height


# -- what the package holds --------------------------------------------------------------
def test_every_package_folder_is_listed_in_pyproject():
    """The package list is explicit (resources/ is mapped into bpviz), so a new folder of
    code must be added to it, or the wheel would silently lack it."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bpviz").rglob("__init__.py")}
    found |= {"bpviz.resources." + ".".join(p.relative_to(ROOT / "resources").parts)
              for p in (ROOT / "resources").iterdir() if p.is_dir() and p.name != "__pycache__"}
    found.add("bpviz.resources")
    assert listed == found


def test_resources_load_through_importlib():
    assert resource("__init__.py").is_file()
    for size in ICON_SIZES:
        assert _png_size(icon_png(size).read_bytes()) == (size, size), f"bpviz-{size}.png"
    svg = icon_svg().read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert read_text(f"{APP_ID}.desktop").startswith("[Desktop Entry]")
    assert f"<id>{APP_ID}</id>" in read_text(f"{APP_ID}.metainfo.xml")
    assert read_text("equations.md").startswith("# ")


def test_the_reference_has_a_section_for_every_equation_of_the_catalogue():
    text = read_text("equations.md")
    sections = re.findall(r"^### (\S+) — ", text, re.M)
    assert sorted(sections) == sorted(CATALOGUE), "one '### ID — title' section per catalogue id"
    for eq_id in CATALOGUE:  # each with its forms typeset
        body = text.split(f"### {eq_id} — ", 1)[1].split("\n### ", 1)[0]
        assert "$$" in body and "*Sources:*" in body, eq_id


def test_the_reference_names_the_sources_by_title_and_author():
    text = read_text("equations.md")
    for title, author in (("Mathematics of Neural Network", "Rifqi Anshari Rasyid"),
                          ("The Maths of Deep Learning", "Alex Punnen"),
                          ("Neural Network with Hidden Layers", "no author named"),
                          ("Backpropagation Calculus", "Nick Rui")):
        assert title in text and author in text
    assert not re.search(r"seed 0\d\d|seeds/", text, re.I)


def test_the_reference_quotes_the_numbers_the_tests_check():
    text = read_text("equations.md")
    for numbers in ("0.758, 0.771, 0.791, 0.801", "0.028, 0.925, 0.925, 0.090"):
        assert numbers in text
    reference_test = (ROOT / "tests" / "engine" / "test_reference.py").read_text()
    assert "[0.758, 0.771, 0.791, 0.801]" in reference_test
    assert "[0.028, 0.925, 0.925, 0.090]" in reference_test


def _project_text_files():
    for top in ("bpviz", "resources"):
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and p.suffix in (".py", ".md", ".desktop", ".xml", ".svg", ".toml", ".txt"):
                yield p
    yield ROOT / "README.md"


def test_nothing_in_the_project_points_outside_it():
    """`grep -rn "shared/" bpviz README.md resources` finds nothing."""
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in _project_text_files()
            for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if "shared/" in line or "EQUATIONS.md" in line or "../shared" in line]
    assert not hits


# -- desktop entry and metainfo ---------------------------------------------------------
def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package "
                    f"{'desktop-file-utils' if name == 'desktop-file-validate' else 'appstream'}; "
                    "`make test` installs it)")
    return path


def _validate_desktop(path: Path) -> None:
    r = subprocess.run([_tool("desktop-file-validate"), str(path)], capture_output=True, text=True)
    # hints are advice; errors and warnings fail validation
    problems = [l for l in (r.stdout + r.stderr).splitlines() if "error:" in l or "warning:" in l]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


def test_the_desktop_entry_validates():
    _validate_desktop(ROOT / "resources" / f"{APP_ID}.desktop")


def test_the_metainfo_validates():
    r = subprocess.run([_tool("appstreamcli"), "validate", "--no-net",
                        str(ROOT / "resources" / f"{APP_ID}.metainfo.xml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# -- bpviz install-desktop ---------------------------------------------------------------
def _bpviz(*args, env=None, cwd=None, bpviz=None, timeout=300):
    cmd = [bpviz] if bpviz else [sys.executable, "-c", "import sys; from bpviz.cli import main; sys.exit(main())"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def _installed_files(home: Path) -> set[str]:
    return {str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and p.name != "mimeinfo.cache"}


def test_install_desktop_writes_and_uninstall_removes(tmp_path):
    home = tmp_path / "data home"  # a space: the Exec line must still be valid
    env = {**os.environ, "XDG_DATA_HOME": str(home)}
    r = _bpviz("install-desktop", env=env)
    assert r.returncode == 0, r.stderr
    expected = {f"applications/{APP_ID}.desktop", f"metainfo/{APP_ID}.metainfo.xml",
                f"icons/hicolor/scalable/apps/{APP_ID}.svg"}
    expected |= {f"icons/hicolor/{s}x{s}/apps/{APP_ID}.png" for s in ICON_SIZES}
    assert _installed_files(home) == expected
    for s in ICON_SIZES:
        assert _png_size((home / f"icons/hicolor/{s}x{s}/apps/{APP_ID}.png").read_bytes()) == (s, s)
    entry = (home / "applications" / f"{APP_ID}.desktop").read_text()
    exec_line = next(l for l in entry.splitlines() if l.startswith("Exec="))
    assert exec_line.startswith("Exec=/"), exec_line  # an absolute path: a venv's bin is rarely on PATH
    assert f"Icon={APP_ID}" in entry
    if shutil.which("desktop-file-validate"):
        _validate_desktop(home / "applications" / f"{APP_ID}.desktop")

    again = _bpviz("install-desktop", env=env)  # installing twice replaces, never duplicates
    assert again.returncode == 0 and _installed_files(home) == expected

    r = _bpviz("install-desktop", "--uninstall", env=env)
    assert r.returncode == 0 and "removed 10 files" in r.stdout
    assert _installed_files(home) == set()
    r = _bpviz("install-desktop", "--uninstall", env=env)
    assert r.returncode == 0 and "was not installed" in r.stdout


def test_install_desktop_defaults_to_local_share(tmp_path, monkeypatch):
    from bpviz.desktop import data_home
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG spec ignores a relative value
    assert data_home() == tmp_path / ".local" / "share"


def test_exec_paths_with_special_characters_are_quoted(tmp_path):
    from bpviz.desktop import desktop_entry
    entry = desktop_entry('/opt/my apps/100% "bp"/bin/bpviz')
    assert 'Exec="/opt/my apps/100%% \\\\"bp\\\\"/bin/bpviz"' in entry
    path = tmp_path / f"{APP_ID}.desktop"
    path.write_text(entry)
    _validate_desktop(path)


def test_install_desktop_into_an_unwritable_place_is_one_line_and_exit_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = _bpviz("install-desktop", env={**os.environ, "XDG_DATA_HOME": str(blocker)})
    assert r.returncode == 1
    assert r.stderr.startswith("bpviz: error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert blocker.read_text() == "not a folder"


def test_version():
    from bpviz import __version__
    r = _bpviz("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"bpviz {__version__}"
    assert __version__ == PYPROJECT["project"]["version"]


# -- the wheel, installed where the checkout is not ------------------------------------------
@pytest.mark.slow
def test_the_wheel_installs_and_runs_in_a_fresh_virtual_environment(tmp_path):
    """python -m build, pip install the wheel into a new venv, run the three commands from
    a folder outside the checkout (so nothing can come from the source tree)."""
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder, not the project's
    (wheel,) = dist.glob("bpviz-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("equations.md", f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml", "icons/bpviz.svg",
              *(f"icons/bpviz-{s}.png" for s in ICON_SIZES)):
        assert f"bpviz/resources/{f}" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    bpviz = str(venv / "bin" / "bpviz")
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"

    r = _bpviz("--version", bpviz=bpviz, env=env, cwd=away)
    assert r.returncode == 0 and r.stdout.startswith("bpviz "), r.stderr

    r = _bpviz("train", "--preset", "toy", "--steps", "10", "--json", bpviz=bpviz, env=env, cwd=away)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 10 and len(summary["outputs"]) == 4

    shot = away / "shot.png"
    r = _bpviz("screenshot", "--preset", "toy", "--stages", "3", "--size", "1600x1000", "--out", str(shot),
               bpviz=bpviz, env=env, cwd=away)
    assert r.returncode == 0, r.stderr
    assert _png_size(shot.read_bytes()) == (1600, 1000)

    # the installed package reads its own resources, not the checkout's
    probe = ("import bpviz, bpviz.resources as r; print(bpviz.__file__); "
             "print(len(r.read_text('equations.md')) > 1000, r.icon_png(48).is_file())")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                       env=env, cwd=away, timeout=120)
    where, ok = r.stdout.split("\n")[:2]
    assert where.startswith(str(venv)) and ok == "True True", r.stdout + r.stderr
