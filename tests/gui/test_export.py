"""Panel export: a real SVG for .svg, a PNG otherwise, atomically; a full disk keeps the old file."""
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtWidgets import QLabel

from bpviz.gui.export import export_widget


@pytest.fixture
def widget(qtbot):
    w = QLabel("bpviz export test " * 4)
    w.resize(320, 120)
    qtbot.addWidget(w)
    return w


def test_svg_export_writes_an_svg(widget, tmp_path):
    path = tmp_path / "panel.SVG"
    export_widget(widget, path, "a title")
    head = path.read_bytes()[:200].lstrip()
    assert head.startswith(b"<?xml") or head.startswith(b"<svg")
    assert b"<svg" in path.read_bytes()
    assert os.listdir(tmp_path) == ["panel.SVG"]


def test_png_export_writes_a_png(widget, tmp_path):
    path = tmp_path / "panel.png"
    export_widget(widget, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["panel.png"]


def test_export_into_a_missing_folder_names_the_path(widget, tmp_path):
    path = tmp_path / "nowhere" / "panel.png"
    with pytest.raises(OSError) as e:
        export_widget(widget, path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_full_disk_export_keeps_the_old_file(tmp_path, suffix):
    """RLIMIT_FSIZE stands in for a full disk: a write past it fails with EFBIG (SIGXFSZ ignored)."""
    path = tmp_path / f"panel{suffix}"
    old = b"the good old export\n" * 3
    path.write_bytes(old)
    script = f"""
        import os, resource, signal, sys
        from PySide6.QtWidgets import QApplication, QLabel
        from bpviz.gui.export import export_widget
        app = QApplication([])
        w = QLabel("a panel that needs more bytes than the disk has " * 20)
        w.resize(800, 400)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
        try:
            export_widget(w, {str(path)!r})
        except OSError as e:
            print("refused:", e)
            sys.exit(1)
        print("written")
    """
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert str(path) in r.stdout and ".tmp" not in r.stdout
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


def test_save_image_writes_a_png_atomically(widget, tmp_path):
    from bpviz.gui.export import save_image
    path = tmp_path / "shot.png"
    path.write_bytes(b"old")
    save_image(widget.grab().toImage(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["shot.png"]


def test_the_save_dialogs_suffix_follows_what_the_user_typed_or_chose():
    from bpviz.gui.window import with_suffix
    pattern = "PNG (*.png);;SVG (*.svg)"
    assert with_suffix("/t/x.svg", pattern, "PNG (*.png)", ".png") == "/t/x.svg"  # never x.svg.png
    assert with_suffix("/t/x", pattern, "SVG (*.svg)", ".png") == "/t/x.svg"
    assert with_suffix("/t/x", pattern, "", ".png") == "/t/x.png"
    assert with_suffix("/t/x.PNG", pattern, "SVG (*.svg)", ".png") == "/t/x.PNG"
