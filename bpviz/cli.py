"""The `bpviz` command: the window by default, and headless train/gradcheck/trace/download."""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

EXIT_USAGE = 2  # bad options or an impossible configuration
EXIT_FAILED = 1  # bad data, a failed gradient check, a divergence


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"bpviz: error: {message}\n")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated whole numbers, e.g. 3,4,1 (got {text!r})")
    return sizes


def _add_network_options(p: argparse.ArgumentParser) -> None:
    from bpviz.engine.activations import HIDDEN_ACTIVATIONS
    from bpviz.engine.config import DTYPES, INITS, REDUCTIONS
    from bpviz.engine.losses import OUTPUT_LOSSES
    from bpviz.engine.presets import PRESETS
    g = p.add_argument_group("network and data (override the preset)")
    g.add_argument("--preset", default=None, choices=list(PRESETS), help="a setup from the sources (default: toy)")
    _add_data_options(g)
    g.add_argument("--data-dir", help="where the data set's IDX files are or go (else $BPVIZ_DATA_DIR, the cache)")
    g.add_argument("--sizes", type=_sizes, help="layer sizes, inputs first, e.g. 784,128,10")
    g.add_argument("--hidden", metavar="ACT", help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)}")
    g.add_argument("--output-loss", metavar="PAIR", help=f"output/loss pairing: {', '.join(OUTPUT_LOSSES)}")
    g.add_argument("--lr", type=float, help="learning rate")
    g.add_argument("--batch", type=int, help="batch size (0 = the whole set)")
    g.add_argument("--seed", type=int)
    g.add_argument("--init", metavar="NAME", help=f"initialisation: {', '.join(INITS)}")
    g.add_argument("--dtype", metavar="TYPE", help=f"{' or '.join(DTYPES)}")
    g.add_argument("--reduction", metavar="R", help=f"batch reduction: {' or '.join(REDUCTIONS)}")
    g.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None, help="biases on or off")
    g.add_argument("--per-sample", action="store_true", default=None,
                   help="build each batch gradient sample by sample")


def _hidden_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be comma-separated whole numbers of at least 1, "
                                         f"e.g. 32,16 (got {text!r})")
    return sizes


def _add_data_options(g) -> None:
    from bpviz.runs import DATASETS
    g.add_argument("--dataset", metavar="NAME|PATH",
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


def _fit(args, cfg, data):
    """(configuration, RunData) with the network fitted to the data: input and output sizes
    and the output/loss from the data unless --sizes / --output-loss say otherwise."""
    from bpviz.runs import fit_to_data
    cfg, note = fit_to_data(cfg, data, hidden_sizes=getattr(args, "hidden_sizes", None),
                            keep_sizes=args.sizes is not None, keep_output_loss=args.output_loss is not None,
                            keep_batch=args.batch is not None)
    return cfg.validate(data.train.n_samples, data.train.n_features, data.train.n_outputs), data, note


def _resolve(args):
    """(preset name, preset, config, data set name) from the options; raises ConfigError.
    Without --preset, an image data set starts from seed 000's MNIST setup, the toy set
    from the toy preset; every other option overrides."""
    from bpviz.engine.presets import get_preset
    from bpviz.runs import default_preset
    name = args.preset or default_preset(args.dataset)
    preset = get_preset(name)
    changes = {k: v for k, v in (
        ("sizes", args.sizes), ("hidden", args.hidden), ("output_loss", args.output_loss), ("lr", args.lr),
        ("batch_size", args.batch), ("seed", args.seed), ("init", args.init), ("dtype", args.dtype),
        ("reduction", args.reduction), ("bias", args.bias), ("per_sample", args.per_sample)) if v is not None}
    cfg = preset.config.with_(**changes).validate()
    return name, preset, cfg, args.dataset or preset.dataset


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


def _data_summary(trainer, data, fitted: str) -> dict:
    """What `train` reports about the data: where it came from, whether it was verified,
    the task, the network's sizes and how well it does (accuracy, or RMSE for regression)."""
    from bpviz.runs import scores
    notes = list(data.notes) + ([fitted] if fitted else [])
    if not data.verified:
        notes.insert(0, f"{data.name}: {data.verification}")
    facts = {"verified": data.verified, "verification": data.verification, "task": data.task,
             "sizes": list(trainer.cfg.sizes), "notes": notes}
    for key, value in scores(trainer.params, trainer.cfg, data, trainer.dtype).items():
        facts[key] = value if np.isfinite(value) else None  # JSON has no inf: a diverged net's error is null
    return facts


def cmd_train(args) -> int:
    from bpviz.engine.network import predict
    from bpviz.engine.trainer import DivergenceError
    from bpviz.progress import ProgressBar
    from bpviz.runs import make_trainer
    name, preset, cfg, dataset = _resolve(args)
    cfg, data, fitted = _fit(args, cfg, _load(args, dataset))
    trainer = make_trainer(cfg, data)
    if args.steps is not None and args.epochs is not None:
        raise _UsageError("give --steps or --epochs, not both")
    steps = args.steps if args.steps is not None else (
        args.epochs * trainer.n_batches if args.epochs is not None else
        (preset.steps if preset.steps is not None else preset.epochs * trainer.n_batches))
    if steps < 0:
        raise _UsageError(f"--steps must be 0 or more (got {steps})")
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
    summary.update(_data_summary(trainer, data, fitted))
    if error:
        summary["error"] = error
    if args.json:
        print(json.dumps(summary))
    else:
        loss = f"{summary['loss']:.6g}" if summary["loss"] is not None else "n/a (no step run)"
        print(f"{dataset}: {trainer.steps_done} steps in {seconds:.2f} s, final loss {loss}")
        for note in summary["notes"]:
            print(note)
        for key in ("train_accuracy", "test_accuracy", "train_rmse", "test_rmse"):
            if summary.get(key) is not None:
                print(f"{key.replace('_', ' ').replace('rmse', 'RMSE')}: {summary[key]:.4f}")
        if "outputs" in summary:
            print("outputs:", " ".join(f"{v:.3f}" for row in summary["outputs"] for v in row))
    if error:
        print(f"bpviz: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_gradcheck(args) -> int:
    from bpviz.engine.gradcheck import TOLERANCE, gradcheck
    from bpviz.engine.losses import get_output_loss
    from bpviz.runs import make_trainer
    _, _, cfg, dataset = _resolve(args)
    cfg, data, _ = _fit(args, cfg, _load(args, dataset))
    trainer = make_trainer(cfg, data)
    idx = np.arange(min(trainer.batch_size, data.train.n_samples, args.samples))
    x, y = data.train.batch(idx, np.float64)  # (m, n0), (m, nL)
    checks = gradcheck(cfg, x, y, trainer.params, max_entries=args.max_entries, seed=cfg.seed)
    approx = get_output_loss(cfg.output_loss).approximate
    ok = all(c.ok for c in checks)
    report = {
        "ok": ok, "tolerance": TOLERANCE, "samples": len(idx), "approximate_gradient": approx,
        "max_rel_error": {c.name: c.max_rel_error for c in checks},
        "equations": {c.name: c.eq for c in checks},
        "checked": {c.name: c.n_checked for c in checks},
    }
    if args.json:
        print(json.dumps(report))
    else:
        for c in checks:
            print(f"{c.name:>8} ({c.eq:7}) max relative error {c.max_rel_error:.2e} "
                  f"over {c.n_checked} entries  {'ok' if c.ok else 'FAILED'}")
        if approx:
            print("note: this pairing uses seed 002's approximate gradient A − Y, which is not "
                  "the gradient of its loss; the check is expected to fail.")
        print("all checks passed" if ok else "gradient check FAILED")
    return 0 if ok else EXIT_FAILED


def cmd_trace(args) -> int:
    from bpviz.files import save_trace
    from bpviz.runs import make_trainer
    _, _, cfg, dataset = _resolve(args)
    cfg, data, _ = _fit(args, cfg, _load(args, dataset))
    trainer = make_trainer(cfg, data)
    r = trainer.finish_step()
    n = save_trace(args.out, r.arrays, cfg.to_json())
    print(f"wrote one training step ({n} arrays) to {args.out}")
    return 0


class _UsageError(Exception):
    pass



def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bpviz", description="Step through backpropagation one equation at a time.")
    from bpviz import __version__
    p.add_argument("--version", action="version", version=f"bpviz {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train headless and print a summary")
    _add_network_options(t)
    t.add_argument("--steps", type=int, help="training steps (batches)")
    t.add_argument("--epochs", type=int, help="passes over the training set")
    t.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("gradcheck", help="central finite differences against the analytic gradients")
    _add_network_options(g)
    g.add_argument("--samples", type=int, default=16, help="batch rows to check on (default 16)")
    g.add_argument("--max-entries", type=int, default=64, help="entries checked per array (default 64)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gradcheck)

    tr = sub.add_parser("trace", help="run one training step and save every array it computed (.npz)")
    _add_network_options(tr)
    tr.add_argument("--out", required=True, help="the .npz file to write")
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
    return p


def main(argv: list[str] | None = None) -> int:
    from bpviz.engine.config import ConfigError
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command is None:
        return _run_window(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.func(args)
    except (ConfigError, _UsageError) as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bpviz: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if type(e).__name__ == "DataError":  # a one-line message for the user, not a traceback
            print(f"bpviz: error: {e}", file=sys.stderr)
            return EXIT_FAILED
        if isinstance(e, OSError):  # a file that cannot be written or read
            where = f": {e.filename}" if e.filename else ""
            print(f"bpviz: error: {e.strerror or e}{where}", file=sys.stderr)
            return EXIT_FAILED
        raise


def _run_window(argv: list[str]) -> int:
    try:
        from bpviz.gui.main import add_gui_arguments, run_gui
    except ImportError as e:
        print(f"bpviz: the window is not available ({e}); try `bpviz train`", file=sys.stderr)
        return EXIT_FAILED
    p = _Parser(prog="bpviz")
    add_gui_arguments(p)
    return run_gui(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
