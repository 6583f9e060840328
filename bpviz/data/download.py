"""Download the MNIST and Fashion-MNIST IDX files from public mirrors, verified by SHA-256.

A file is written to a hidden temporary name in the target directory (bpviz.files.atomic_write),
its SHA-256 is checked, and only then is it moved into place, so a file under its real
name has always been verified; a failed or interrupted download removes its temporary
file, and temporaries left by a killed run are removed when the next download starts.
Mirrors are tried in turn. Each file is cut off at its published size, and the whole
download has a deadline (`deadline`, else $BPVIZ_DOWNLOAD_DEADLINE seconds, else DEADLINE):
a server that drips a byte every few seconds, or sends without end, is given up on.

BPVIZ_MIRRORS (environment): comma-separated base URLs tried instead of the built-in
mirrors, e.g. `file:///srv/mnist/` or `http://127.0.0.1:8000/` (used by the tests).

urllib only: no third-party HTTP client.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from bpviz.data.errors import DataError
from bpviz.files import atomic_write, remove_stale_temporaries

Progress = Callable[[int, "int | None", str], None]
CHUNK = 1 << 16
TIMEOUT = 30.0  # seconds per connect and per read; a stalled mirror is given up on
DEADLINE = 900.0  # seconds for a whole data set: 40 MB at 50 kB/s still fits
ENV_DEADLINE = "BPVIZ_DOWNLOAD_DEADLINE"
UNKNOWN_SIZE_CAP = 256 << 20  # bytes, for a file whose published size is not known


@dataclass(frozen=True)
class RemoteFile:
    name: str  # the published file name, e.g. "train-images-idx3-ubyte.gz"
    sha256: str  # of the file as published (the .gz)
    raw_sha256: str  # of the decompressed IDX bytes: identifies a copy compressed differently
    size: int | None = None  # bytes of the published file: a download is cut off past it
    raw_size: int | None = None  # bytes of the decompressed IDX file: reading stops past it

    @property
    def stem(self) -> str:
        return self.name[:-3] if self.name.endswith(".gz") else self.name


# MNIST: SHA-256 of the published .gz files as listed by several independent projects
# (e.g. the `mnists` downloader of C. Olding, nnctl); the brief's t10k-labels value
# (...defaaee77fcfe4b1d2e8) matched none of them and was replaced by ...defaefb259924204aec6.
# raw_sha256: of the gunzipped files, as recorded by the same projects. size: the byte counts
# LeCun's page lists; raw_size: the IDX header (16 or 8 bytes) plus one byte per pixel or label.
MNIST_FILES = (
    RemoteFile("train-images-idx3-ubyte.gz",
               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
               "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9912422, 47040016),
    RemoteFile("train-labels-idx1-ubyte.gz",
               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
               "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28881, 60008),
    RemoteFile("t10k-images-idx3-ubyte.gz",
               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
               "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1648877, 7840016),
    RemoteFile("t10k-labels-idx1-ubyte.gz",
               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
               "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4542, 10008),
)

# Fashion-MNIST: Zalando publishes only MD5 of the .gz files (8d4fb7e6c68d591d4c3dfef9ec88bf0d,
# 25c81989df183df01b3e8a0aad5dffbe, bef4ecab320f06d8554ea6380940ec79, bb300cfdad3c16e7a12a480ee83cd310).
# sha256: of those same .gz files, as listed by two independent downloaders (`mnists`, batchup).
# Debian's dataset-fashion-mnist recompresses the files (its .gz MD5s differ), but the
# gunzipped bytes have the MD5s torchvision publishes for the raw files
# (f4a8712d..., 9018921c..., 8181f547..., 15d48437...), so raw_sha256 below was computed
# from Debian's gunzipped files and identifies Zalando's data in either compression.
# size: of Zalando's .gz files, as the Keras downloader reports them.
FASHION_FILES = (
    RemoteFile("train-images-idx3-ubyte.gz",
               "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
               "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 26421880, 47040016),
    RemoteFile("train-labels-idx1-ubyte.gz",
               "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
               "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 29515, 60008),
    RemoteFile("t10k-images-idx3-ubyte.gz",
               "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
               "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 4422102, 7840016),
    RemoteFile("t10k-labels-idx1-ubyte.gz",
               "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
               "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 5148, 10008),
)

FILES: dict[str, tuple[RemoteFile, ...]] = {"mnist": MNIST_FILES, "fashion-mnist": FASHION_FILES}

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    # https first; Zalando's own S3 website serves plain http only, and is kept as a fallback
    # because every byte is checked against the published SHA-256 before it gets its real name
    "fashion-mnist": ("https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}


def mirror_problem(url: str) -> str | None:
    """Why `url` cannot be a mirror's base URL, or None when it can."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # a port that is not a number raises here
    except ValueError as e:
        return f"not a URL ({e})"
    if parts.scheme not in ("http", "https", "file"):
        return "a mirror URL starts with https://, http:// or file://"
    if parts.scheme != "file" and not parts.hostname:
        return "the URL names no host"
    return None


def mirrors_for(name: str, mirrors: Sequence[str] | None = None) -> list[str]:
    """The base URLs to try: the argument, else $BPVIZ_MIRRORS, else the built-in ones.
    A malformed one is a DataError naming it."""
    source = "--mirror"
    if mirrors is None:
        env = os.environ.get("BPVIZ_MIRRORS", "").strip()
        mirrors = [m.strip() for m in env.split(",") if m.strip()] if env else MIRRORS[name]
        source = "BPVIZ_MIRRORS" if env else "built-in mirror"
    for m in mirrors:
        problem = mirror_problem(m)
        if problem:
            raise DataError(f"{source} {m!r}: {problem}")
    # a base without a trailing slash would make urljoin drop its last path segment
    return [m if m.endswith("/") else m + "/" for m in mirrors]


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ensure_writable(directory: Path) -> None:
    """Create `directory` and prove a file can be made in it; DataError otherwise."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        raise DataError(f"cannot write to the data directory {directory} ({e.strerror or e}); "
                        f"choose another with --data-dir or BPVIZ_DATA_DIR") from None


class _Failure(Exception):
    """One mirror failing for one file; `offline` when the mirror could not be reached at all."""

    def __init__(self, reason: str, offline: bool = False):
        super().__init__(reason)
        self.offline = offline


class _DeadlinePassed(Exception):
    """The whole download's time is up: no other mirror is tried."""


def deadline_seconds(deadline: float | None = None) -> float:
    """The deadline for a whole download: the argument, else $BPVIZ_DOWNLOAD_DEADLINE, else DEADLINE."""
    if deadline is None:
        text = os.environ.get(ENV_DEADLINE, "").strip()
        if not text:
            return DEADLINE
        try:
            deadline = float(text)
        except ValueError:
            raise DataError(f"{ENV_DEADLINE}={text!r} is not a number of seconds") from None
    if not 0 < deadline < float("inf"):
        raise DataError(f"the download deadline must be a positive number of seconds, not {deadline}")
    return float(deadline)


def remove_stale_parts(directory: Path, specs: Iterable[RemoteFile], max_age: float = 60.0) -> list[str]:
    """Remove what killed downloads left in `directory`: temporaries of `specs` whose writer is
    gone, and `.NAME.XXXX.part` files of older bpviz versions not written to for `max_age` s."""
    removed = []
    for spec in specs:
        removed += remove_stale_temporaries(directory, spec.name)
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.startswith(f".{spec.name}.") and name.endswith(".part"):
                full = directory / name
                try:
                    if time.time() - full.lstat().st_mtime > max_age:  # a live download writes every moment
                        full.unlink()
                        removed.append(name)
                except OSError:
                    pass
    return removed


def _fetch(url: str, spec: RemoteFile, directory: Path, progress: Progress | None, timeout: float,
           end: float) -> Path:
    """Download `url` into `directory`/spec.name, verified; raises _Failure or _DeadlinePassed,
    leaves no partial file."""
    cap = spec.size if spec.size is not None else UNKNOWN_SIZE_CAP
    # the socket timeout bounds each wait, so a silent server cannot outlast the deadline
    wait = min(timeout, max(end - time.monotonic(), 0.001))

    def out_of_time(error) -> bool:  # a wait cut short by the deadline, not by the mirror's own timeout
        return time.monotonic() >= end or (wait < timeout and isinstance(error, (TimeoutError, socket.timeout)))

    try:
        resp = urllib.request.urlopen(url, timeout=wait)
    except urllib.error.HTTPError as e:  # the server answered: the mirror is up but has no such file
        raise _Failure(f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if urllib.parse.urlsplit(url).scheme == "file":  # a missing local file is not a network problem
            raise _Failure(f"{getattr(reason, 'strerror', None) or reason}") from None
        if out_of_time(reason):
            raise _DeadlinePassed() from None
        raise _Failure(f"unreachable ({getattr(reason, 'strerror', None) or reason})", offline=True) from None
    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as e:
        if out_of_time(e):
            raise _DeadlinePassed() from None
        raise _Failure(f"unreachable ({e.__class__.__name__}: {e})", offline=True) from None
    except ValueError as e:  # a malformed mirror URL
        raise _Failure(f"bad URL ({e})") from None
    target = directory / spec.name
    done = 0
    with resp, atomic_write(target) as out:  # the real name only ever holds a verified file
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > cap:
            raise _Failure(f"the server announces {total} bytes, more than the {cap} of the published file")
        read = getattr(resp, "read1", resp.read)  # read1: what has arrived, so the deadline is checked often
        h = hashlib.sha256()
        if progress:
            progress(0, total, spec.name)
        while True:
            if time.monotonic() >= end:
                raise _DeadlinePassed()
            try:
                chunk = read(CHUNK)
            except http.client.IncompleteRead as e:  # the server closed before Content-Length
                done += len(e.partial)
                chunk = b""
            except (OSError, http.client.HTTPException) as e:  # timeout, reset, TLS error mid-stream
                if out_of_time(e):
                    raise _DeadlinePassed() from None
                raise _Failure(f"download stopped after {done} of {total or '?'} bytes ({e.__class__.__name__})") from None
            if not chunk:
                break
            done += len(chunk)
            if done > cap:
                raise _Failure(f"the server sent more than the {cap} bytes of the published file")
            out.write(chunk)
            h.update(chunk)
            if progress:
                progress(done, total, spec.name)
        if total is not None and done < total:
            raise _Failure(f"download stopped after {done} of {total} bytes")
        digest = h.hexdigest()
        if digest != spec.sha256:
            raise _Failure(f"SHA-256 mismatch (got {digest[:16]}..., expected {spec.sha256[:16]}...)")
    return target


def download_file(spec: RemoteFile, directory: str | os.PathLike, mirrors: Sequence[str], *,
                  progress: Progress | None = None, timeout: float = TIMEOUT,
                  end: float | None = None, deadline: float | None = None) -> Path:
    """`spec` into `directory`, from the first mirror that gives verified bytes, before the
    time.monotonic() value `end` (else `deadline` seconds from now).

    Raises DataError naming every mirror's failure; `.offline` is set on it when no
    mirror could be reached at all."""
    directory = Path(directory)
    seconds = deadline_seconds(deadline)
    if end is None:
        end = time.monotonic() + seconds
    failures: list[_Failure] = []
    for base in mirrors:
        url = urllib.parse.urljoin(base, spec.name)
        try:
            return _fetch(url, spec, directory, progress, timeout, end)
        except _Failure as f:
            failures.append(f)
            f.url = url
        except _DeadlinePassed:
            raise DataError(f"could not download {spec.name}: the download did not finish within its deadline "
                            f"of {seconds:g} s (from {url}; set {ENV_DEADLINE} for a slow line); "
                            f"nothing was saved") from None
        except OSError as e:  # writing the file itself failed: another mirror will not help
            raise DataError(f"cannot write {directory / spec.name} ({e.strerror or e})") from None
    err = DataError(f"could not download {spec.name}: "
                    + "; ".join(f"{f.url}: {f}" for f in failures) + "; nothing was saved")
    err.offline = bool(failures) and all(f.offline for f in failures)
    raise err


def download_dataset(name: str, directory: str | os.PathLike, *, mirrors: Sequence[str] | None = None,
                     files: Iterable[RemoteFile] | None = None, progress: Progress | None = None,
                     timeout: float = TIMEOUT, deadline: float | None = None) -> list[Path]:
    """Every file of data set `name` in `directory`, downloading those not already there
    with the right SHA-256, all within `deadline` seconds (see deadline_seconds). Returns
    the paths; raises DataError with one line."""
    if name not in FILES:
        raise DataError(f"unknown data set {name!r} (choose from {', '.join(FILES)})")
    specs = tuple(files) if files is not None else FILES[name]
    seconds = deadline_seconds(deadline)
    end = time.monotonic() + seconds
    directory = Path(directory)
    ensure_writable(directory)
    remove_stale_parts(directory, specs)
    bases = mirrors_for(name, mirrors)
    paths = []
    for spec in specs:
        target = directory / spec.name
        if target.is_file() and file_sha256(target) == spec.sha256:
            paths.append(target)  # already here and verified: no network needed
            continue
        try:
            paths.append(download_file(spec, directory, bases, progress=progress, timeout=timeout,
                                       end=end, deadline=seconds))
        except DataError as e:
            if getattr(e, "offline", False):
                names = ", ".join(s.name for s in specs)
                raise DataError(f"no network: could not reach {', '.join(bases)} for {name}; "
                                f"put {names} (gzipped or not) into {directory} and run again") from None
            raise
    return paths
