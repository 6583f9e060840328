"""Bounded reading and downloading: a gzip bomb is refused within a fixed memory bound, a
drip server is stopped by the deadline, an endless one by the published size, and what
killed runs left behind is removed when the next download starts."""
import http.server
import os
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib

import pytest

from bpviz.data.download import RemoteFile, download_dataset
from bpviz.data.errors import DataError
from bpviz.data.idx import read_bytes, read_hashed, read_images

MIB = 1 << 20
BOMB_BYTES = 256 * MIB  # what the bomb unpacks to; the reader may hold a small fraction of it
MEMORY_BOUND = 24 * MIB  # peak of traced allocations allowed while refusing it


def _bomb(path, header: bytes, zeros: int = BOMB_BYTES) -> None:
    """A gzip file of `header` followed by `zeros` zero bytes, written without holding them."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    block = bytes(MIB)
    with open(path, "wb") as f:
        f.write(comp.compress(header))
        for _ in range(zeros // MIB):
            f.write(comp.compress(block))
        f.write(comp.flush())


def _images_header(n: int) -> bytes:
    return struct.pack(">I3I", 2051, n, 28, 28)


def _peak_while_refused(fn) -> tuple[int, DataError]:
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as e:
            fn()
        return tracemalloc.get_traced_memory()[1], e.value
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def small_claim_bomb(tmp_path_factory):
    p = tmp_path_factory.mktemp("bomb") / "train-images-idx3-ubyte.gz"
    _bomb(p, _images_header(10))  # declares 10 images, unpacks to 256 MiB
    return p


def test_bomb_past_its_header_is_refused_within_a_memory_bound(small_claim_bomb):
    assert small_claim_bomb.stat().st_size < 2 * MIB
    peak, err = _peak_while_refused(lambda: read_images(small_claim_bomb))
    assert peak < MEMORY_BOUND
    assert str(small_claim_bomb) in str(err) and "more data after the 7840 data bytes" in str(err)
    assert "\n" not in str(err)


def test_bomb_whose_header_claims_gigabytes_is_refused_by_the_published_size(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte.gz"
    _bomb(p, _images_header(4_000_000), zeros=16 * MIB)  # declares 3.1 GB
    peak, err = _peak_while_refused(lambda: read_hashed(p, max_size=47_040_016))
    assert peak < MEMORY_BOUND
    assert "4000000x28x28" in str(err) and "more than the 47040016 bytes allowed" in str(err)
    peak, err = _peak_while_refused(lambda: read_bytes(p))  # no published size: the general bound
    assert peak < MEMORY_BOUND and "bytes allowed" in str(err)


def test_bomb_refused_through_the_data_set_reader(tmp_path, synthetic):
    from bpviz.data.datasets import read_dataset
    d = tmp_path / "mnist"
    d.mkdir()
    for stem, gz in synthetic.gz.items():
        (d / f"{stem}.gz").write_bytes(gz)
    bomb = d / "train-images-idx3-ubyte.gz"
    _bomb(bomb, _images_header(1_000_000), zeros=64 * MIB)  # declares 784 MB, under the 2 GiB general bound
    specs = tuple(RemoteFile(s.name, s.sha256, s.raw_sha256, None, len(synthetic.raw[s.stem]))
                  for s in synthetic.specs)
    peak, err = _peak_while_refused(lambda: read_dataset("mnist", d, specs))
    assert peak < MEMORY_BOUND and str(bomb) in str(err)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "t10k-labels-idx1-ubyte"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            read_bytes(fifo)
        except DataError as e:
            outcome.append(str(e))

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(60)  # a guard against hanging the suite, not a measurement
    assert outcome == [f"{fifo}: cannot read the file (it is a pipe, not a regular file)"]


def test_raw_file_longer_than_its_header_is_refused_before_reading(tmp_path):
    p = tmp_path / "labels-idx1-ubyte"
    with open(p, "wb") as f:
        f.write(struct.pack(">II", 2049, 3) + bytes(3))
        f.truncate(8 + 3 + 64 * MIB)  # sparse: the size is known without reading
    peak, err = _peak_while_refused(lambda: read_bytes(p))
    assert peak < MEMORY_BOUND and f"{64 * MIB} trailing bytes after the 3 data bytes" in str(err)


# -- downloads --------------------------------------------------------------------------------

class _Serve:
    """A local HTTP server whose one route behaves as `mode` says."""

    def __init__(self, mode: str, body: bytes = b""):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                try:
                    if mode == "drip":  # a byte every 0.2 s of an announced kilobyte
                        self.send_header("Content-Length", "1000")
                        self.end_headers()
                        for _ in range(1000):
                            self.wfile.write(b"\0")
                            self.wfile.flush()
                            time.sleep(0.2)
                    elif mode == "endless":  # no length, no end
                        self.end_headers()
                        while True:
                            self.wfile.write(bytes(65536))
                    elif mode == "huge-length":
                        self.send_header("Content-Length", str(10**12))
                        self.end_headers()
                        self.wfile.write(bytes(1000))
                    else:
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                except OSError:  # the client gave up: that is the point
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def make(mode, body=b""):
        servers.append(_Serve(mode, body))
        return servers[-1].url

    yield make
    for s in servers:
        s.close()


ONE = RemoteFile("one.gz", "0" * 64, "0" * 64, 100_000, None)


def test_drip_server_is_stopped_by_the_deadline(tmp_path, serve):
    url = serve("drip")
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path, mirrors=[url], files=[ONE], deadline=1.0)
    assert "did not finish within its deadline of 1 s" in str(e.value)
    assert os.listdir(tmp_path) == []


def test_deadline_from_the_environment(tmp_path, serve, monkeypatch):
    monkeypatch.setenv("BPVIZ_DOWNLOAD_DEADLINE", "0.5")
    with pytest.raises(DataError, match="deadline of 0.5 s"):
        download_dataset("mnist", tmp_path, mirrors=[serve("drip")], files=[ONE])
    monkeypatch.setenv("BPVIZ_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(DataError, match="BPVIZ_DOWNLOAD_DEADLINE='soon' is not a number"):
        download_dataset("mnist", tmp_path, mirrors=[serve("drip")], files=[ONE])


def test_endless_server_is_stopped_at_the_published_size(tmp_path, serve):
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path, mirrors=[serve("endless")], files=[ONE])
    assert "sent more than the 100000 bytes of the published file" in str(e.value)
    assert os.listdir(tmp_path) == []


def test_announced_length_past_the_published_size_is_refused_then_next_mirror(tmp_path, serve):
    body = b"the published bytes"
    spec = RemoteFile("one.gz", __import__("hashlib").sha256(body).hexdigest(), "0" * 64, len(body), None)
    download_dataset("mnist", tmp_path, mirrors=[serve("huge-length"), serve("ok", body)], files=[spec])
    assert (tmp_path / "one.gz").read_bytes() == body
    assert os.listdir(tmp_path) == ["one.gz"]


def test_stale_temporaries_of_killed_downloads_are_removed(tmp_path, serve):
    body = b"x" * 5000
    spec = RemoteFile("one.gz", __import__("hashlib").sha256(body).hexdigest(), "0" * 64, len(body), None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = tmp_path / f".one.gz.bpviz-{dead.pid}-0a0b0c0d.tmp"
    killed.write_bytes(b"half")
    legacy = tmp_path / ".one.gz.k2j3h4g5.part"  # the name older versions gave their temporaries
    legacy.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    download_dataset("mnist", tmp_path, mirrors=[serve("ok", body)], files=[spec])
    assert os.listdir(tmp_path) == ["one.gz"]


def test_a_large_file_that_is_not_idx_is_read_no_further_than_its_first_bytes(tmp_path):
    p = tmp_path / "holiday.mp4-idx3-ubyte"
    with open(p, "wb") as f:
        f.write(b"\x00\x00\x00\x18ftypmp42")
        f.truncate(256 * MIB)
    peak, err = _peak_while_refused(lambda: read_images(p))
    assert peak < MEMORY_BOUND and "unsupported IDX dtype byte 0x00" in str(err)
