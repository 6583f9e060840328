"""`bpviz download mnist|fashion-mnist [--data-dir DIR]`: fetch, verify and cache a data set."""
from __future__ import annotations

import argparse
import math
import os
import sys

from bpviz.data.datasets import DATASET_NAMES, download_dir, load_dataset, read_dataset
from bpviz.data.download import DEADLINE, ENV_DEADLINE, download_dataset, mirror_problem
from bpviz.data.errors import DataError

EXIT_OK = 0
EXIT_FAILED = 1


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=DATASET_NAMES, help="the data set to fetch")
    parser.add_argument("--data-dir", help="put the files here (else $BPVIZ_DATA_DIR/NAME, else the user cache)")
    parser.add_argument("--mirror", action="append", metavar="URL", type=_mirror_url,
                        help="base URL to download from instead of the built-in mirrors (repeatable)")
    parser.add_argument("--deadline", type=_seconds, metavar="SECONDS",
                        help=f"give up when the whole download takes longer (default ${ENV_DEADLINE}, "
                             f"else {DEADLINE:g})")


def _mirror_url(text: str) -> str:
    problem = mirror_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: the deadline must be a positive number of seconds")
    return value


def run_download(args: argparse.Namespace) -> int:
    """Exit status 0 with the files' place on stdout, or 1 with `bpviz: error: ...` on stderr."""
    from bpviz.progress import ProgressBar
    bars: dict[str, ProgressBar] = {}

    def progress(done: int, total: int | None, name: str) -> None:
        if name not in bars:
            for bar in bars.values():  # one file at a time: finish the previous line first
                bar.close()
            bars.clear()
            bars[name] = ProgressBar(name, total, unit="B")
        bars[name].update(done, total)

    data_dir = getattr(args, "data_dir", None)
    mirrors = getattr(args, "mirror", None)
    deadline = getattr(args, "deadline", None)
    saved_env = os.environ.get(ENV_DEADLINE)
    if deadline is not None:  # load_dataset reads it from the environment
        os.environ[ENV_DEADLINE] = repr(deadline)
    try:
        if data_dir is not None:
            # an explicit directory is where the user wants the files, even if a copy exists elsewhere
            download_dataset(args.dataset, data_dir, mirrors=mirrors, progress=progress)
            ds = read_dataset(args.dataset, download_dir(args.dataset, data_dir))
        else:
            ds = load_dataset(args.dataset, progress=progress, mirrors=mirrors)
    except DataError as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for bar in bars.values():
            bar.close()
        if deadline is not None:
            if saved_env is None:
                os.environ.pop(ENV_DEADLINE, None)
            else:
                os.environ[ENV_DEADLINE] = saved_env
    print(f"{ds.name}: {len(ds.train_x)} training and {len(ds.test_x)} test images "
          f"({ds.image_shape[0]}x{ds.image_shape[1]}), verified, in {ds.source}")
    return EXIT_OK
