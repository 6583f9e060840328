"""`bpviz download`: run_download directly and `python -m bpviz.cli download` in a subprocess."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bpviz.data import download
from bpviz.data.commands import add_download_arguments, run_download

from .conftest import gz_files

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv):
    p = argparse.ArgumentParser()
    add_download_arguments(p)
    return p.parse_args(argv)


def test_arguments():
    a = parse("fashion-mnist", "--data-dir", "/x", "--mirror", "http://a/", "--mirror", "file:///b/")
    assert (a.dataset, a.data_dir, a.mirror) == ("fashion-mnist", "/x", ["http://a/", "file:///b/"])
    with pytest.raises(SystemExit):
        parse("cifar")


def test_download_into_data_dir(tmp_path, server, synthetic, monkeypatch, capsys):
    monkeypatch.setitem(download.FILES, "mnist", synthetic.specs)  # small files with their own digests
    url = server.serve("m", gz_files(synthetic))
    d = tmp_path / "d"
    assert run_download(parse("mnist", "--data-dir", str(d), "--mirror", url)) == 0
    out, err = capsys.readouterr()
    assert out == f"mnist: 20 training and 10 test images (28x28), verified, in {d}\n"
    assert err == ""  # capsys is not a terminal: no progress bar drawn
    assert len(list(d.iterdir())) == 4


def test_download_into_cache(tmp_path, server, synthetic, monkeypatch, capsys):
    monkeypatch.setitem(download.FILES, "mnist", synthetic.specs)
    monkeypatch.setenv("BPVIZ_MIRRORS", server.serve("m", gz_files(synthetic)))
    assert run_download(argparse.Namespace(dataset="mnist", data_dir=None)) == 0
    assert capsys.readouterr().out.endswith(f"in {tmp_path / 'usercache' / 'bpviz' / 'mnist'}\n")


def test_failure_is_one_line_and_status_1(tmp_path, closed_port_url, capsys):
    args = parse("mnist", "--data-dir", str(tmp_path / "d"), "--mirror", closed_port_url)
    assert run_download(args) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("bpviz: error: no network: ") and err.count("\n") == 1


def cli(*argv, env_extra=None, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPVIZ_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "bpviz.cli", "download", *argv], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)


def _has_download_command() -> bool:
    try:
        from bpviz.cli import build_parser
        build_parser().parse_args(["download", "mnist"])
        return True
    except (ImportError, SystemExit):
        return False


needs_cli = pytest.mark.skipif(not _has_download_command(), reason="bpviz.cli has no download subcommand yet")


@needs_cli
def test_cli_no_network(tmp_path, closed_port_url):
    r = cli("mnist", "--data-dir", str(tmp_path / "d"), env_extra={"BPVIZ_MIRRORS": closed_port_url},
            tmp_path=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("bpviz: error: no network: could not reach") and r.stderr.count("\n") == 1
    assert f"into {tmp_path / 'd'} and run again" in r.stderr


@needs_cli
@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="no dataset-fashion-mnist")
def test_cli_finds_debian_fashion(tmp_path):
    r = cli("fashion-mnist", env_extra={"BPVIZ_MIRRORS": "http://127.0.0.1:9/"}, tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("fashion-mnist: 60000 training and 10000 test images (28x28), verified, "
                        "in /usr/share/datasets/fashion-mnist\n")


@pytest.mark.parametrize("argv,words", [
    (("--mirror", "http://[::1"), "Invalid IPv6 URL"),
    (("--mirror", "ftp://example.org/"), "starts with https://"),
    (("--mirror", "http://:80/"), "names no host"),
    (("--deadline", "0"), "positive number of seconds"),
    (("--deadline", "inf"), "positive number of seconds"),
    (("--deadline", "soon"), "not a number of seconds"),
])
def test_bad_options_are_usage_errors(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        parse("mnist", *argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_malformed_mirror_in_the_environment_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BPVIZ_MIRRORS", "http://[::1")
    assert run_download(parse("mnist", "--data-dir", str(tmp_path))) == 1
    err = capsys.readouterr().err
    assert err.startswith("bpviz: error: BPVIZ_MIRRORS 'http://[::1': not a URL") and err.count("\n") == 1


@needs_cli
def test_cli_deadline_stops_a_silent_server(tmp_path):
    import socket
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        r = cli("mnist", "--data-dir", str(tmp_path / "d"), "--mirror", url, "--deadline", "1", tmp_path=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert "did not finish within its deadline of 1 s" in r.stderr and r.stderr.count("\n") == 1
