"""Downloads from a local HTTP server and file:// mirrors: fallback, checksum mismatch,
cut-off transfers, unwritable directories and no network, never leaving a partial file."""
from __future__ import annotations

import os

import pytest

from bpviz.data import download
from bpviz.data.download import RemoteFile, download_dataset, file_sha256, mirrors_for
from bpviz.data.errors import DataError

from .conftest import STEMS, gz_files


def listing(d):
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_downloads_and_verifies_every_file(tmp_path, server, synthetic):
    url = server.serve("m", gz_files(synthetic))
    seen = []
    paths = download_dataset("mnist", tmp_path / "d", mirrors=[url], files=synthetic.specs,
                             progress=lambda done, total, name: seen.append((done, total, name)))
    assert [p.name for p in paths] == [f"{s}.gz" for s in STEMS]
    for p, spec in zip(paths, synthetic.specs):
        assert file_sha256(p) == spec.sha256
    assert listing(tmp_path / "d") == sorted(f"{s}.gz" for s in STEMS)  # no temporary file left
    last = [s for s in seen if s[2] == "train-images-idx3-ubyte.gz"][-1]
    assert last[0] == last[1] == len(synthetic.gz[STEMS[0]])  # progress ends at the full size


def test_first_mirror_missing_file_then_second_works(tmp_path, server, synthetic):
    bad = server.serve("empty", {})  # answers 404 for everything
    good = server.serve("m", gz_files(synthetic))
    download_dataset("mnist", tmp_path, mirrors=[bad, good], files=synthetic.specs)
    assert len(listing(tmp_path)) == 4
    assert sum(r.startswith("/empty/") for r in server.requests) == 4


def test_first_mirror_unreachable_then_second_works(tmp_path, server, synthetic, closed_port_url):
    good = server.serve("m", gz_files(synthetic))
    download_dataset("mnist", tmp_path, mirrors=[closed_port_url, good], files=synthetic.specs)
    assert len(listing(tmp_path)) == 4


def test_checksum_mismatch_leaves_nothing(tmp_path, server, synthetic):
    wrong = {name: body + b"x" for name, body in gz_files(synthetic).items()}
    url = server.serve("m", wrong)
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path / "d", mirrors=[url], files=synthetic.specs)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"could not download train-images-idx3-ubyte.gz: {url}train-images-idx3-ubyte.gz: "
                          f"SHA-256 mismatch (got ")
    assert msg.endswith("; nothing was saved")
    assert listing(tmp_path / "d") == []


def test_checksum_mismatch_on_one_mirror_falls_back(tmp_path, server, synthetic):
    wrong = server.serve("w", {n: b"\x1f\x8bjunk" for n in gz_files(synthetic)})
    good = server.serve("m", gz_files(synthetic))
    download_dataset("mnist", tmp_path, mirrors=[wrong, good], files=synthetic.specs)
    assert all(file_sha256(tmp_path / s.name) == s.sha256 for s in synthetic.specs)


def test_transfer_cut_half_way_leaves_nothing(tmp_path, server, synthetic):
    url = server.serve("m", gz_files(synthetic), mode="half")
    size = len(synthetic.gz[STEMS[0]])
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path / "d", mirrors=[url], files=synthetic.specs)
    assert f"download stopped after {size // 2} of {size} bytes" in str(e.value)
    assert listing(tmp_path / "d") == []


def test_cancel_from_progress_callback_removes_partial(tmp_path, server, synthetic, monkeypatch):
    monkeypatch.setattr(download, "CHUNK", 1000)  # several chunks, so the cancel lands mid-file

    class Cancelled(Exception):
        pass

    def progress(done, total, name):
        if done >= 1000:
            raise Cancelled()

    url = server.serve("m", gz_files(synthetic))
    with pytest.raises(Cancelled):
        download_dataset("mnist", tmp_path / "d", mirrors=[url], files=synthetic.specs, progress=progress)
    assert listing(tmp_path / "d") == []


def test_no_network_names_files_and_directory(tmp_path, closed_port_url, synthetic):
    d = tmp_path / "d"
    with pytest.raises(DataError) as e:
        download_dataset("mnist", d, mirrors=[closed_port_url, closed_port_url + "x/"], files=synthetic.specs)
    assert str(e.value) == (
        f"no network: could not reach {closed_port_url}, {closed_port_url}x/ for mnist; put "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        f"t10k-labels-idx1-ubyte.gz (gzipped or not) into {d} and run again")
    assert listing(d) == []


def test_unreachable_and_404_is_not_called_no_network(tmp_path, server, closed_port_url, synthetic):
    url = server.serve("empty", {})
    with pytest.raises(DataError) as e:
        download_dataset("mnist", tmp_path, mirrors=[closed_port_url, url], files=synthetic.specs)
    assert "unreachable" in str(e.value) and "HTTP 404" in str(e.value)
    assert not str(e.value).startswith("no network")


def test_directory_under_a_regular_file_is_not_writable(tmp_path, synthetic, server):
    """Works as root too: no permission bit stops root, but a file cannot hold a directory."""
    (tmp_path / "plain").write_text("x")
    url = server.serve("m", gz_files(synthetic))
    d = tmp_path / "plain" / "data"
    with pytest.raises(DataError) as e:
        download_dataset("mnist", d, mirrors=[url], files=synthetic.specs)
    assert str(e.value) == (f"cannot write to the data directory {d} (Not a directory); "
                            "choose another with --data-dir or BPVIZ_DATA_DIR")
    assert server.requests == []  # refused before any download


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory anyway")
def test_read_only_directory(tmp_path, synthetic, server):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(DataError, match=r"cannot write to the data directory .*Permission denied"):
            download_dataset("mnist", d, mirrors=[server.serve("m", gz_files(synthetic))], files=synthetic.specs)
    finally:
        d.chmod(0o700)


def test_file_url_mirror(tmp_path, synthetic):
    src = tmp_path / "mirror"
    src.mkdir()
    for name, body in gz_files(synthetic).items():
        (src / name).write_bytes(body)
    missing = (tmp_path / "nowhere").as_uri()
    download_dataset("mnist", tmp_path / "d", mirrors=[missing, src.as_uri()], files=synthetic.specs)
    assert len(listing(tmp_path / "d")) == 4


def test_file_url_missing_everywhere_is_not_no_network(tmp_path, synthetic):
    with pytest.raises(DataError, match=r"could not download train-images-idx3-ubyte.gz: file:.*No such file"):
        download_dataset("mnist", tmp_path / "d", mirrors=[(tmp_path / "nowhere").as_uri()], files=synthetic.specs)


def test_mirrors_from_environment(tmp_path, server, synthetic, monkeypatch):
    url = server.serve("env", gz_files(synthetic))
    monkeypatch.setenv("BPVIZ_MIRRORS", f" {url.rstrip('/')} , ")
    assert mirrors_for("mnist") == [url]
    download_dataset("mnist", tmp_path, files=synthetic.specs)
    assert len(listing(tmp_path)) == 4 and server.requests[0].startswith("/env/")


def test_built_in_mirrors_without_env():
    assert mirrors_for("mnist")[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert len(mirrors_for("fashion-mnist")) == 2


def test_verified_files_are_not_fetched_again_and_bad_ones_are_replaced(tmp_path, server, synthetic):
    url = server.serve("m", gz_files(synthetic))
    download_dataset("mnist", tmp_path, mirrors=[url], files=synthetic.specs)
    assert len(server.requests) == 4
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    download_dataset("mnist", tmp_path, mirrors=[url], files=synthetic.specs)
    assert server.requests[4:] == ["/m/t10k-labels-idx1-ubyte.gz"]
    assert file_sha256(tmp_path / "t10k-labels-idx1-ubyte.gz") == synthetic.specs[3].sha256


def test_unknown_data_set(tmp_path):
    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        download_dataset("cifar", tmp_path)


def test_published_digests_are_well_formed():
    for specs in download.FILES.values():
        assert [s.stem for s in specs] == list(STEMS)
        for s in specs:
            assert isinstance(s, RemoteFile)
            assert len(s.sha256) == len(s.raw_sha256) == 64
            int(s.sha256, 16), int(s.raw_sha256, 16)
    # the brief's t10k-labels digest was wrong; this one is what every listing we found publishes
    assert download.MNIST_FILES[3].sha256 == "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
