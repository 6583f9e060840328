"""The `bpviz` command: the window by default, and headless train/gradcheck/trace/download."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from bpviz.engine.config import SEED_MAX

EXIT_USAGE = 2  # bad options or an impossible configuration
EXIT_FAILED = 1  # bad data, a failed gradient check, a divergence


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"bpviz: error: {message}\n")


# samples in the training and test sets, known before loading them, so an impossible
# setup is refused before a download
def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated whole numbers, e.g. 3,4,1 (got {text!r})")
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes need at least 2 layers of at least 1 unit each, e.g. 3,4,1 (got {text!r})")
    return sizes


def _int_at_least(low: int, high: int | None = None, what: str = "a whole number"):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} expected, got {text!r}")
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds} (got {text})")
        return value
    parse.__name__ = "int"  # argparse names the type in "invalid int value"
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number expected, got {text!r}")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0 (got {text})")
    return value


def memory_size(text: str) -> int:
    from bpviz.engine.budget import parse_size
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def existing_dir(text: str) -> str:
    """A folder that exists: a file or a typo is named here rather than silently skipped."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return text


def output_file(text: str) -> str:
    """A file that can be created: its folder exists and it is not itself a folder."""
    if not text:
        raise argparse.ArgumentTypeError("an empty file name")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text}: no folder {folder}")
    return text


seed = _int_at_least(0, SEED_MAX)
count = _int_at_least(1)
non_negative = _int_at_least(0)


def _threads(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1024 (got {text!r})")
    return n


def add_threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=_threads, metavar="N",
                   help="BLAS threads for training (default: chosen from the free cores; see bpviz.engine.threads)")


def _add_network_options(p: argparse.ArgumentParser) -> None:
    from bpviz.engine.activations import HIDDEN_ACTIVATIONS
    from bpviz.engine.config import DTYPES, INITS, REDUCTIONS
    from bpviz.engine.losses import OUTPUT_LOSSES
    from bpviz.engine.presets import PRESETS
    g = p.add_argument_group("network and data (override the preset)")
    g.add_argument("--preset", default=None, choices=list(PRESETS), help="a setup from the sources (default: toy)")
    _add_data_options(g)
    g.add_argument("--data-dir", type=existing_dir,
                   help="a folder holding the data set's IDX files, or where a download goes "
                        "(else $BPVIZ_DATA_DIR, the cache)")
    g.add_argument("--sizes", type=_sizes, help="layer sizes, inputs first, e.g. 784,128,10")
    g.add_argument("--hidden", metavar="ACT", help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)}")
    g.add_argument("--output-loss", metavar="PAIR", help=f"output/loss pairing: {', '.join(OUTPUT_LOSSES)}")
    g.add_argument("--lr", type=positive_float, help="learning rate (a finite number above 0)")
    g.add_argument("--batch", type=non_negative, help="batch size (0 = the whole set)")
    g.add_argument("--seed", type=seed, help=f"0 to {SEED_MAX}")
    g.add_argument("--init", metavar="NAME", help=f"initialisation: {', '.join(INITS)}")
    g.add_argument("--dtype", metavar="TYPE", help=f"{' or '.join(DTYPES)}")
    g.add_argument("--reduction", metavar="R", help=f"batch reduction: {' or '.join(REDUCTIONS)}")
    g.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None, help="biases on or off")
    g.add_argument("--per-sample", action="store_true", default=None,
                   help="build each batch gradient sample by sample")
    g.add_argument("--max-memory", type=memory_size, metavar="SIZE",
                   help="refuse a network needing more than this, e.g. 4G or 512M "
                        "(else $BPVIZ_MAX_MEMORY, else half of the memory)")
    add_threads_option(p)


def _hidden_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be comma-separated whole numbers of at least 1, "
                                         f"e.g. 32,16 (got {text!r})")
    return sizes


def _dataset_arg(text: str) -> str:
    """Not empty: an empty name would be read as the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty data set name (give a built-in set's name or a path)")
    return text


def _add_data_options(g) -> None:
    from bpviz.runs import DATASETS
    g.add_argument("--dataset", metavar="NAME|PATH", type=_dataset_arg,
                   help=f"{', '.join(DATASETS)}, a folder of IDX files or a .csv file (default: the preset's)")
    g.add_argument("--label-column", metavar="NAME", help="CSV: the label column (else label, target, y, class "
                   "or species)")
    g.add_argument("--test", metavar="PATH", help="CSV: a second file with the test rows")
    g.add_argument("--test-fraction", type=float, metavar="F",
                   help="CSV and 2-D sets: share of the rows held out for testing (default 0.2)")
    g.add_argument("--noise", type=float, help="2-D sets: noise from 0 to 0.5, as Playground's 0-50 %%")
    g.add_argument("--no-standardize", dest="standardize", action="store_false",
                   help="CSV: keep numeric columns as they are (else mean 0, deviation 1)")
    g.add_argument("--hidden-sizes", type=_hidden_sizes, metavar="SIZES",
                   help="only the hidden layers, e.g. 32,16; inputs and outputs come from the data")


def _keep(args) -> dict:
    """fit_to_shape's options: what the user set by hand is kept."""
    return {"hidden_sizes": getattr(args, "hidden_sizes", None), "keep_sizes": args.sizes is not None,
            "keep_output_loss": args.output_loss is not None, "keep_batch": args.batch is not None}


def _fit(args, cfg, data):
    """(configuration, RunData) with the network fitted to the data: input and output sizes
    and the output/loss from the data unless --sizes / --output-loss say otherwise."""
    from bpviz.runs import fit_to_data
    cfg, note = fit_to_data(cfg, data, **_keep(args))
    return cfg.validate(data.train.n_samples, data.train.n_features, data.train.n_outputs), data, note


def _resolve(args):
    """(preset name, preset, config, data set name) from the options; raises ConfigError.
    Without --preset, an image data set starts from seed 000's MNIST setup, the toy set
    from the toy preset; every other option overrides. The configuration is checked
    against the data set's known size, before anything is loaded."""
    from bpviz.engine.presets import get_preset
    from bpviz.runs import default_preset
    name = args.preset or default_preset(args.dataset)
    preset = get_preset(name)
    changes = {k: v for k, v in (
        ("sizes", args.sizes), ("hidden", args.hidden), ("output_loss", args.output_loss), ("lr", args.lr),
        ("batch_size", args.batch), ("seed", args.seed), ("init", args.init), ("dtype", args.dtype),
        ("reduction", args.reduction), ("bias", args.bias), ("per_sample", args.per_sample)) if v is not None}
    dataset = args.dataset or preset.dataset
    cfg = preset.config.with_(**changes).validate()
    return name, preset, cfg, dataset


def _known_train_size(dataset: str) -> int:
    from bpviz.runs import KNOWN_SHAPES
    return KNOWN_SHAPES[dataset][3] if dataset in KNOWN_SHAPES else 1


def _check_memory(args, cfg, dataset: str, data=None) -> int:
    """The memory limit in bytes; raises BudgetError when training `cfg` would pass it.
    Before loading, a built-in set is checked with the network fitted to its known shape
    (a path is checked once loaded, with `data`)."""
    from bpviz.engine.budget import check_budget, memory_limit
    from bpviz.runs import KNOWN_SHAPES, KNOWN_TEST_SIZES, fit_to_known
    if data is not None:
        test = data.test.n_samples if data.test is not None else 0
        return check_budget(cfg, data.train.n_samples, test, args.max_memory)
    if dataset not in KNOWN_SHAPES:
        return memory_limit(args.max_memory)[0]
    fitted, _ = fit_to_known(cfg, dataset, **_keep(args))
    return check_budget(fitted, KNOWN_SHAPES[dataset][3], KNOWN_TEST_SIZES.get(dataset, 0), args.max_memory)


def _load(args, dataset: str, quiet: bool = False):
    from bpviz.progress import ProgressBar
    from bpviz.runs import DataOptions, load_run_data
    bars: dict = {}

    def progress(done, total, name=""):
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = ProgressBar(f"downloading {name}", total, unit="B")
        bar.update(done, total)
    try:
        options = DataOptions(**{k: getattr(args, k) for k in ("label_column", "test", "noise", "standardize",
                                                               "test_fraction") if getattr(args, k, None) is not None})
        return load_run_data(dataset, args.data_dir, progress=None if quiet else progress, options=options)
    finally:
        for bar in bars.values():
            bar.close()


def _data_summary(trainer, data, fitted: str, limit: int) -> dict:
    """What `train` reports about the data: where it came from, whether it was verified,
    the task, the network's sizes and how well it does (accuracy, or RMSE for regression)."""
    from bpviz.runs import scores
    notes = list(data.notes) + ([fitted] if fitted else [])
    if not data.verified:
        notes.insert(0, f"{data.name}: {data.verification}")
    facts = {"verified": data.verified, "verification": data.verification, "task": data.task,
             "sizes": list(trainer.cfg.sizes), "notes": notes}
    from bpviz.engine.budget import estimate
    room = max(limit - estimate(trainer.cfg, data.train.n_samples).step, 0)  # beside the last step's arrays
    for key, value in scores(trainer.params, trainer.cfg, data, trainer.dtype, room).items():
        facts[key] = value if np.isfinite(value) else None  # JSON has no inf: a diverged net's error is null
    return facts


def cmd_train(args) -> int:
    from bpviz.engine.explain import counted
    from bpviz.engine.network import predict
    from bpviz.engine.trainer import DivergenceError
    from bpviz.progress import ProgressBar
    from bpviz.runs import make_trainer
    if args.steps is not None and args.epochs is not None:
        raise _UsageError("give --steps or --epochs, not both")
    name, preset, cfg, dataset = _resolve(args)
    _check_memory(args, cfg, dataset)
    cfg, data, fitted = _fit(args, cfg, _load(args, dataset))
    limit = _check_memory(args, cfg, dataset, data)
    trainer = make_trainer(cfg, data)
    steps = args.steps if args.steps is not None else (
        args.epochs * trainer.n_batches if args.epochs is not None else
        (preset.steps if preset.steps is not None else preset.epochs * trainer.n_batches))
    bar = ProgressBar("training", steps, unit=" steps")
    t0 = time.perf_counter()
    error = None
    try:
        for i in range(steps):
            trainer.finish_step()
            bar.update(i + 1)
    except DivergenceError as e:
        error = str(e)
    seconds = time.perf_counter() - t0
    bar.close(trainer.steps_done)
    summary = {
        "preset": name, "dataset": dataset, "steps": trainer.steps_done,
        "epochs": trainer.steps_done / trainer.n_batches,
        "loss": trainer.losses[-1] if trainer.losses else None, "seconds": round(seconds, 4),
        "config": cfg.to_dict(),
    }
    if data.train.n_samples <= 16:
        x, _ = data.train.batch(np.arange(data.train.n_samples), trainer.dtype)
        with np.errstate(all="ignore"):
            out = predict(trainer.params, x, cfg)  # (n, nL)
        # JSON has no NaN: a diverged network's non-finite outputs become null
        summary["outputs"] = [[float(v) if np.isfinite(v) else None for v in row] for row in out]
    summary.update(_data_summary(trainer, data, fitted, limit))
    if error:
        summary["error"] = error
    if args.json:
        print(json.dumps(summary))
    else:
        loss = f"{summary['loss']:.6g}" if summary["loss"] is not None else "n/a (no step run)"
        print(f"{dataset}: {counted(trainer.steps_done, 'step')} in {seconds:.2f} s, final loss {loss}")
        for note in summary["notes"]:
            print(note)
        for key in ("train_accuracy", "test_accuracy", "train_rmse", "test_rmse"):
            if summary.get(key) is not None:
                print(f"{key.replace('_', ' ').replace('rmse', 'RMSE')}: {summary[key]:.4f}")
        if "outputs" in summary:
            print("outputs:", " ".join("nan" if v is None else f"{v:.3f}" for row in summary["outputs"] for v in row))
    if error:
        print(f"bpviz: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_gradcheck(args) -> int:
    from bpviz.engine.gradcheck import TOLERANCE, gradcheck
    from bpviz.engine.losses import get_output_loss
    from bpviz.runs import make_trainer
    _, _, cfg, dataset = _resolve(args)
    n_train = _known_train_size(dataset)
    m = min(cfg.batch_for(n_train), n_train, args.samples)
    # the check runs in float64 on one batch of m rows, whatever the run's dtype
    _check_memory(args, cfg.with_(dtype="float64", batch_size=m), dataset)
    cfg, data, _ = _fit(args, cfg, _load(args, dataset))
    trainer = make_trainer(cfg, data)
    idx = np.arange(min(trainer.batch_size, data.train.n_samples, args.samples))
    x, y = data.train.batch(idx, np.float64)  # (m, n0), (m, nL)
    checks = gradcheck(cfg, x, y, trainer.params, max_entries=args.max_entries, seed=cfg.seed)
    approx = get_output_loss(cfg.output_loss).approximate
    n_checked = sum(c.n_checked for c in checks)
    n_kinks = sum(c.n_kinks for c in checks)
    ok = n_checked > 0 and all(c.ok for c in checks)
    report = {
        "ok": ok, "tolerance": TOLERANCE, "samples": len(idx), "approximate_gradient": approx,
        "max_rel_error": {c.name: c.max_rel_error for c in checks},
        "equations": {c.name: c.eq for c in checks},
        "checked": {c.name: c.n_checked for c in checks},
        "at_kink": {c.name: c.n_kinks for c in checks},
    }
    if args.json:
        print(json.dumps(report))
    else:
        for c in checks:
            kinks = f", {c.n_kinks} at a kink, not checkable" if c.n_kinks else ""
            print(f"{c.name:>8} ({c.eq:7}) max relative error {c.max_rel_error:.2e} "
                  f"over {c.n_checked} entries{kinks}  {'ok' if c.ok else 'FAILED'}")
        if approx:
            print("note: this pairing uses the approximate gradient A − Y of Neural Network with Hidden Layers, which is not "
                  "the gradient of its loss; the check is expected to fail.")
        if n_kinks:
            print(f"{n_kinks} entries sit at a kink of {cfg.hidden} (the finite difference straddles "
                  "z = 0, where the derivative jumps): not checkable, left out of the verdict")
        if n_checked == 0:
            print("gradient check FAILED: no entry could be checked")
        else:
            print("all checks passed" if ok else "gradient check FAILED")
    return 0 if ok else EXIT_FAILED


def cmd_trace(args) -> int:
    from bpviz.files import save_trace
    from bpviz.runs import make_trainer
    _, _, cfg, dataset = _resolve(args)
    _check_memory(args, cfg, dataset)
    cfg, data, _ = _fit(args, cfg, _load(args, dataset))
    _check_memory(args, cfg, dataset, data)
    trainer = make_trainer(cfg, data)
    r = trainer.finish_step()
    n = save_trace(args.out, r.arrays, cfg.to_json())
    print(f"wrote one training step ({n} arrays) to {args.out}")
    return 0


class _UsageError(Exception):
    pass


def _check_download(args) -> None:
    """The download command's options, which its own parser only types as strings."""
    from urllib.parse import urlsplit
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None:
        if data_dir == "" or (os.path.exists(data_dir) and not os.path.isdir(data_dir)):
            raise _UsageError(f"argument --data-dir: not a folder: {data_dir}")
        parent = os.path.dirname(os.path.abspath(data_dir))
        if not os.path.isdir(parent):
            raise _UsageError(f"argument --data-dir: cannot create {data_dir}: no folder {parent}")
    for url in getattr(args, "mirror", None) or ():
        try:
            parts = urlsplit(url)
            parts.port  # raises ValueError for a port that is not a number in range
        except ValueError as e:
            raise _UsageError(f"argument --mirror: not a URL: {url!r} ({e})") from None
        if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file" and not parts.hostname):
            raise _UsageError(f"argument --mirror: not an http, https or file URL: {url!r}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bpviz", description="Step through backpropagation one equation at a time. "
                "Without a command, opens the window.")
    from bpviz import __version__
    p.add_argument("--version", action="version", version=f"bpviz {__version__}")
    try:  # the window's own options, so `bpviz --preset mnist` and `bpviz --help` know them
        from bpviz.gui.main import add_gui_arguments
        add_gui_arguments(p.add_argument_group("the window (without a command)"), dest_prefix="window_")
    except ImportError:
        pass
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train headless and print a summary")
    _add_network_options(t)
    t.add_argument("--steps", type=non_negative, help="training steps (batches)")
    t.add_argument("--epochs", type=non_negative, help="passes over the training set")
    t.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("gradcheck", help="central finite differences against the analytic gradients")
    _add_network_options(g)
    g.add_argument("--samples", type=count, default=16, help="batch rows to check on, at least 1 (default 16)")
    g.add_argument("--max-entries", type=count, default=64,
                   help="entries checked per array, at least 1 (default 64)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gradcheck)

    tr = sub.add_parser("trace", help="run one training step and save every array it computed (.npz)")
    _add_network_options(tr)
    tr.add_argument("--out", required=True, type=output_file, help="the .npz file to write")
    tr.set_defaults(func=cmd_trace)

    try:
        from bpviz.data.commands import add_download_arguments, run_download
        d = sub.add_parser("download", help="fetch, verify and cache a data set")
        add_download_arguments(d)
        d.set_defaults(func=run_download)
    except ImportError:  # the data layer's command is not there yet
        pass
    try:
        from bpviz.gui.main import add_screenshot_arguments, run_screenshot
        s = sub.add_parser("screenshot", help="render the real window after N stages and save a PNG")
        add_screenshot_arguments(s)
        s.set_defaults(func=run_screenshot)
    except ImportError:
        pass
    from bpviz.desktop import add_install_desktop_arguments, run_install_desktop
    i = sub.add_parser("install-desktop", help="add bpviz to the applications menu (--uninstall removes it)")
    add_install_desktop_arguments(i)
    i.set_defaults(func=run_install_desktop)
    return p


WINDOW_OPTIONS = ("window_preset", "window_dataset", "window_data_dir", "window_max_memory", "window_layout",
                  "window_threads")


def main(argv: list[str] | None = None) -> int:
    from bpviz.engine.config import ConfigError
    from bpviz.engine.trainer import DivergenceError
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _run_window(args)
        given = [n for n in WINDOW_OPTIONS if getattr(args, n, None) is not None]
        if given:  # they were typed before the command, where they mean the window's
            flag = "--" + given[0].removeprefix("window_").replace("_", "-")
            parser.error(f"{flag} goes after the command: bpviz {args.command} {flag} ...")
        if args.command == "download":
            _check_download(args)
        from bpviz.engine import threads
        threads.request(getattr(args, "threads", None))
        with threads.limited(threads.choose()):
            return args.func(args)
    except (ConfigError, _UsageError) as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except DivergenceError as e:  # a run that failed, not bad usage
        print(f"bpviz: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bpviz: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("bpviz: error: out of memory (lower --max-memory or BPVIZ_MAX_MEMORY so the "
              "budget refuses such a network up front)", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:
        if type(e).__name__ == "DataError":  # a one-line message for the user, not a traceback
            print(f"bpviz: error: {e}", file=sys.stderr)
            return EXIT_FAILED
        if isinstance(e, OSError):  # a file that cannot be written or read
            where = f": {e.filename}" if e.filename else ""
            print(f"bpviz: error: {e.strerror or e}{where}", file=sys.stderr)
            return EXIT_FAILED
        if os.environ.get("BPVIZ_DEBUG"):
            raise
        text = " ".join(str(e).split())[:300]
        print(f"bpviz: error: internal error {type(e).__name__}: {text} "
              "(set BPVIZ_DEBUG=1 for the traceback; please report it)", file=sys.stderr)
        return EXIT_FAILED


def _run_window(args) -> int:
    try:
        from bpviz.gui.main import run_gui
    except ImportError as e:
        print(f"bpviz: the window is not available ({e}); try `bpviz train`", file=sys.stderr)
        return EXIT_FAILED
    window_args = argparse.Namespace(**{n.removeprefix("window_"): getattr(args, n, None) for n in WINDOW_OPTIONS})
    return run_gui(window_args)


if __name__ == "__main__":
    sys.exit(main())
