"""Fixtures for the data layer: isolated cache and Debian paths, tiny synthetic IDX data
sets with their own digests, and a local HTTP server that can misbehave on purpose."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bpviz.data import datasets
from bpviz.data.download import RemoteFile
from bpviz.data.idx import encode_idx

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the real cache, the real Debian package, or the user's env vars."""
    monkeypatch.delenv("BPVIZ_DATA_DIR", raising=False)
    monkeypatch.delenv("BPVIZ_MIRRORS", raising=False)
    monkeypatch.setattr(datasets, "user_cache_dir", lambda app: str(tmp_path / "usercache" / app))
    monkeypatch.setitem(datasets.DEBIAN_DIRS, "fashion-mnist", tmp_path / "debian" / "fashion-mnist")


@dataclass
class Synthetic:
    """A tiny data set: `raw[stem]` IDX bytes, `gz[stem]` their gzip, `specs` the digests."""
    raw: dict[str, bytes]
    gz: dict[str, bytes]
    specs: tuple[RemoteFile, ...]
    arrays: dict[str, np.ndarray]

    def write(self, directory: Path, compressed: bool = True) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for stem in STEMS:
            name = f"{stem}.gz" if compressed else stem
            (directory / name).write_bytes(self.gz[stem] if compressed else self.raw[stem])
        return directory


def make_synthetic(seed: int = 0, n_train: int = 20, n_test: int = 10) -> Synthetic:
    rng = np.random.default_rng(seed)
    arrays = {
        STEMS[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),  # (N, 28, 28)
        STEMS[1]: (np.arange(n_train) % 10).astype(np.uint8),  # (N,)
        STEMS[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        STEMS[3]: (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    raw = {s: encode_idx(a) for s, a in arrays.items()}
    gz = {s: gzip.compress(b, mtime=0) for s, b in raw.items()}
    specs = tuple(RemoteFile(f"{s}.gz", hashlib.sha256(gz[s]).hexdigest(), hashlib.sha256(raw[s]).hexdigest())
                  for s in STEMS)
    return Synthetic(raw, gz, specs, arrays)


@pytest.fixture
def synthetic() -> Synthetic:
    return make_synthetic()


class Server:
    """http://127.0.0.1:PORT/<prefix>/<name>: `routes[path] = (bytes, mode)`, mode "ok" or
    "half" (announce the full Content-Length, send half, close); anything else is a 404."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body, mode = outer.routes.get(self.path, (None, "404"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def serve(self, prefix: str, files: dict[str, bytes], mode: str = "ok") -> str:
        for name, body in files.items():
            self.routes[f"/{prefix}/{name}"] = (body, mode)
        return f"{self.url}/{prefix}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def closed_port_url() -> str:
    """A localhost URL nothing listens on: connection refused, like a machine offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def gz_files(syn: Synthetic) -> dict[str, bytes]:
    return {f"{s}.gz": syn.gz[s] for s in STEMS}
