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
    from bpviz.runs import DATASETS
    g = p.add_argument_group("network and data (override the preset)")
    g.add_argument("--preset", default=None, choices=list(PRESETS), help="a setup from the sources (default: toy)")
    g.add_argument("--dataset", choices=DATASETS, help="data set (default: the preset's)")
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


def _resolve(args):
    """(preset name, preset, config, data set name) from the options; raises ConfigError.
    Without --preset, an image data set starts from seed 000's MNIST setup, the toy set
    from the toy preset; every other option overrides."""
    from bpviz.engine.presets import get_preset
    name = args.preset or ("toy" if args.dataset in (None, "toy") else "mnist")
    preset = get_preset(name)
    changes = {k: v for k, v in (
        ("sizes", args.sizes), ("hidden", args.hidden), ("output_loss", args.output_loss), ("lr", args.lr),
        ("batch_size", args.batch), ("seed", args.seed), ("init", args.init), ("dtype", args.dtype),
        ("reduction", args.reduction), ("bias", args.bias), ("per_sample", args.per_sample)) if v is not None}
    cfg = preset.config.with_(**changes).validate()
    return name, preset, cfg, args.dataset or preset.dataset


def _load(args, dataset: str, quiet: bool = False):
    from bpviz.progress import ProgressBar
    from bpviz.runs import load_run_data
    bars: dict = {}

    def progress(done, total, name=""):
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = ProgressBar(f"downloading {name}", total, unit="B")
        bar.update(done, total)
    try:
        return load_run_data(dataset, args.data_dir, progress=None if quiet else progress)
    finally:
        for bar in bars.values():
            bar.close()


def _accuracy(trainer, data_set) -> float | None:
    from bpviz.engine.network import predict
    labels = data_set.class_labels()
    if labels is None:
        return None
    correct = 0
    chunk = 10000
    for start in range(0, data_set.n_samples, chunk):
        idx = np.arange(start, min(start + chunk, data_set.n_samples))
        x, _ = data_set.batch(idx, trainer.dtype)  # (chunk, n0)
        with np.errstate(all="ignore"):  # a diverged network predicts NaN: counted as wrong
            out = predict(trainer.params, x, trainer.cfg)  # (chunk, nL)
        correct += int(np.sum(np.argmax(out, axis=1) == labels[idx]))
    return correct / data_set.n_samples


def cmd_train(args) -> int:
    from bpviz.engine.network import predict
    from bpviz.engine.trainer import DivergenceError
    from bpviz.progress import ProgressBar
    from bpviz.runs import make_trainer
    name, preset, cfg, dataset = _resolve(args)
    data = _load(args, dataset)
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
    if data.train.class_labels() is not None and data.train.n_outputs > 1:
        summary["train_accuracy"] = _accuracy(trainer, data.train)
        if data.test is not None:
            summary["test_accuracy"] = _accuracy(trainer, data.test)
    if error:
        summary["error"] = error
    if args.json:
        print(json.dumps(summary))
    else:
        loss = f"{summary['loss']:.6g}" if summary["loss"] is not None else "n/a (no step run)"
        print(f"{dataset}: {trainer.steps_done} steps in {seconds:.2f} s, final loss {loss}")
        for key in ("train_accuracy", "test_accuracy"):
            if key in summary:
                print(f"{key.replace('_', ' ')}: {summary[key]:.4f}")
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
    data = _load(args, dataset)
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
    data = _load(args, dataset)
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
    from bpviz.desktop import add_install_desktop_arguments, run_install_desktop
    i = sub.add_parser("install-desktop", help="add bpviz to the applications menu (--uninstall removes it)")
    add_install_desktop_arguments(i)
    i.set_defaults(func=run_install_desktop)
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
