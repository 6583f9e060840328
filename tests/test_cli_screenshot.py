"""`bpviz screenshot` as a process: a picture and nothing else, or one line and a clean exit."""
from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import pytest


@pytest.fixture
def not_found_mirror():
    """A local mirror that answers 404 to everything: a download that starts and fails."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(404)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def screenshot(tmp_path, *argv, mirror="http://127.0.0.1:9/"):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BPVIZ_DATA_DIR=str(tmp_path / "data"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), BPVIZ_MIRRORS=mirror)
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "bpviz.cli", "screenshot", *argv], env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_failed_download_ends_in_one_line_without_a_crash(tmp_path, not_found_mirror):
    """The progress dialog the download opened used to outlive the QApplication: exit 139."""
    out = tmp_path / "shots"
    out.mkdir()
    p = screenshot(tmp_path, "--dataset", "mnist", "--out", str(out / "s.png"), mirror=not_found_mirror)
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("bpviz: error:") and p.stderr.count("\n") == 1, p.stderr
    assert list(out.iterdir()) == []


def test_a_picture_is_written_and_nothing_else(tmp_path):
    out = tmp_path / "shots"
    out.mkdir()
    p = screenshot(tmp_path, "--stages", "2", "--size", "900x700", "--out", str(out / "s.png"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert [f.name for f in out.iterdir()] == ["s.png"]
    assert (out / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_panel_is_refused_in_one_line(tmp_path):
    p = screenshot(tmp_path, "--panel", "nope", "--out", str(tmp_path / "s.png"))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--panel" in p.stderr
    assert not (tmp_path / "s.png").exists()
