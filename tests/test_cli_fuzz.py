"""Bad command lines, as a careless or hostile user types them, run as real processes.

Every one must end with exit status 1 or 2 and exactly one line on stderr, no traceback,
within a bounded amount of memory (the child runs under an address-space limit, and its
peak resident size is read back from the kernel), leaving no file in its folder.
A table holds cases that were seen to fail; hypothesis combines bad values with good ones.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ADDRESS_SPACE = 3 * 2**30  # the child's RLIMIT_AS: a blow-up hits it instead of the machine
MAX_RSS_KB = 1024 * 1024  # peak resident size a refused command may reach (1 GiB)
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: a download fails at once, offline


# A launcher forks bpviz and reports its peak RSS. Measured from this test process, the
# figure would include the test's own size: Linux keeps the largest RSS a process had before
# it exec'd, and a child of this process starts as a copy of it. The launcher is small, so
# its fork's figure is bpviz's own. The address-space limit stops a blow-up in the child.
LAUNCH = """
import os, resource, sys
out = sys.argv[1]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, ({n}, {n}))
    os.execv(sys.executable, [sys.executable, "-m", "bpviz.cli", *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
""".format(n=ADDRESS_SPACE)


def run_bpviz(argv: list[str], folder: str) -> tuple[int, str, int]:
    """(exit status, stderr, peak RSS in KiB) of `python -m bpviz.cli *argv` run in `folder`."""
    env = dict(os.environ, BPVIZ_DATA_DIR=os.path.join(folder, ".data"), XDG_CACHE_HOME=os.path.join(folder, ".cache"),
               BPVIZ_MIRRORS=UNREACHABLE, QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")
    env.pop("BPVIZ_MAX_MEMORY", None)
    with tempfile.TemporaryFile() as err_file:
        rss_file = os.path.join(tempfile.gettempdir(), f"bpviz-fuzz-rss-{os.getpid()}-{id(err_file)}")
        p = subprocess.run([sys.executable, "-c", LAUNCH, rss_file, *argv], cwd=folder, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_file)
        err_file.seek(0)
        err = err_file.read().decode("utf-8", "replace")
        try:
            with open(rss_file) as f:
                rss = int(f.read())
        finally:
            if os.path.exists(rss_file):
                os.unlink(rss_file)
    return p.returncode, err, rss


def check_refused(argv: list[str], expected: set[int] = frozenset({1, 2})) -> None:
    with tempfile.TemporaryDirectory() as folder:
        argv = [a.replace("{out}", folder) for a in argv]
        code, err, rss_kb = run_bpviz(argv, folder)
        left = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files)
    where = f"bpviz {' '.join(argv)}"
    assert "Traceback" not in err, f"{where}: {err}"
    assert code in expected, f"{where}: exit {code}, stderr {err!r}"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("bpviz: error:"), f"{where}: stderr {err!r}"
    assert rss_kb < MAX_RSS_KB, f"{where}: peak RSS {rss_kb} KiB"
    assert not left, f"{where}: left {left}"


def run_all(cases) -> None:
    """Two at a time: CI has two cores."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        for f in [pool.submit(check_refused, *case) for case in cases]:
            f.result()


USAGE = {2}
FAILED = {1}
# (argv, expected exit statuses)
TABLE = [
    # numbers out of range or of the wrong type
    (["train", "--seed", "-1"], USAGE),
    (["train", "--seed", "4294967296"], USAGE),
    (["train", "--seed", "1.5"], USAGE),
    (["train", "--lr", "nan"], USAGE),
    (["train", "--lr", "inf"], USAGE),
    (["train", "--lr", "-0.1"], USAGE),
    (["train", "--lr", "0"], USAGE),
    (["train", "--lr", "1e300", "--dtype", "float32"], USAGE),
    (["train", "--batch", "-1"], USAGE),
    (["train", "--batch", "5"], USAGE),
    (["train", "--steps", "-3"], USAGE),
    (["train", "--epochs", "-1"], USAGE),
    (["train", "--steps", "1", "--epochs", "1"], USAGE),
    (["train", "--sizes", ""], USAGE),
    (["train", "--sizes", "3"], USAGE),
    (["train", "--sizes", "3,,1"], USAGE),
    (["train", "--sizes", "3,-4,1"], USAGE),
    (["train", "--sizes", "3,4.5,1"], USAGE),
    (["train", "--sizes", "4,4,1"], USAGE),
    (["train", "--hidden", "swish"], USAGE),
    (["train", "--output-loss", "softmax-ce"], USAGE),  # one output unit cannot be a softmax
    (["train", "--dtype", "float16"], USAGE),
    (["train", "--init", "zeros"], USAGE),
    (["train", "--reduction", "max"], USAGE),
    (["train", "--preset", "nope"], USAGE),
    (["train", "--dataset", "cifar"], USAGE),
    (["train", "--max-memory", "0"], USAGE),
    (["train", "--max-memory", "lots"], USAGE),
    (["train", "--max-memory", "-4G"], USAGE),
    (["train", "--frobnicate"], USAGE),
    # networks that do not fit the memory budget, refused before anything is allocated
    (["train", "--sizes", "3,400000000,1"], USAGE),
    (["train", "--sizes", "3,10000000000,1"], USAGE),
    (["train", "--sizes", "3,99999999999999999999999999,1"], USAGE),
    (["train", "--sizes", "3," + ",".join(["20000"] * 50) + ",1"], USAGE),
    (["train", "--sizes", "3," + ",".join(["1"] * 1000) + ",1"], USAGE),
    (["train", "--dataset", "fashion-mnist", "--sizes", "784,100000000,10"], USAGE),
    (["train", "--dataset", "fashion-mnist", "--per-sample", "--batch", "0"], USAGE),
    (["train", "--sizes", "3,4000,1", "--max-memory", "1M"], USAGE),
    (["gradcheck", "--sizes", "3,400000000,1"], USAGE),
    (["trace", "--sizes", "3,400000000,1", "--out", "{out}/t.npz"], USAGE),
    # data folders
    (["train", "--data-dir", "/etc/passwd"], USAGE),
    (["train", "--data-dir", "/no/such/folder"], USAGE),
    (["train", "--data-dir", ""], USAGE),
    (["download", "mnist", "--data-dir", "/etc/passwd"], USAGE),
    (["download", "mnist", "--data-dir", "/no/such/parent/dir"], USAGE),
    (["download", "mnist", "--data-dir", "{out}/d", "--mirror", UNREACHABLE], FAILED),
    (["train", "--dataset", "mnist", "--steps", "1"], FAILED),  # not here, and no network
    # gradcheck counts: never "all checks passed" after checking nothing
    (["gradcheck", "--samples", "0"], USAGE),
    (["gradcheck", "--samples", "-2"], USAGE),
    (["gradcheck", "--max-entries", "0"], USAGE),
    (["gradcheck", "--max-entries", "-1"], USAGE),
    (["gradcheck", "--output-loss", "softmax-mse-approx", "--sizes", "3,4,2"], USAGE),  # toy has 1 target
    (["gradcheck", "--preset", "toy", "--output-loss", "sigmoid-mse", "--lr", "1e-3",
      "--init", "uniform01", "--sizes", "3,4,1", "--hidden", "sigmoid", "--seed", "1",
      "--reduction", "sum", "--per-sample", "--batch", "0", "--dtype", "float64",
      "--max-entries", "x"], USAGE),
    # trace: divergence is a failed run, output paths are checked first
    (["trace", "--dtype", "float32", "--lr", "3e38", "--output-loss", "identity-mse", "--out", "{out}/t.npz"], FAILED),
    (["trace", "--out", "{out}"], USAGE),
    (["trace", "--out", "{out}/missing/t.npz"], USAGE),
    (["trace", "--out", ""], USAGE),
    (["trace"], USAGE),
    (["train", "--dtype", "float32", "--lr", "3e38", "--output-loss", "identity-mse", "--steps", "3"], FAILED),
    # download
    (["download", "mnist", "--mirror", "http://[::1"], USAGE),
    (["download", "mnist", "--mirror", "ftp://example.org/"], USAGE),
    (["download", "mnist", "--mirror", "not a url"], USAGE),
    (["download", "mnist", "--mirror", "http://host:99999/"], USAGE),
    (["download", "mnist", "--mirror", "http:///path"], USAGE),
    (["download", "cifar"], USAGE),
    (["download"], USAGE),
    # screenshot: refused before Qt starts
    (["screenshot", "--size", "abc", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--size", "100000x100000", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--size", "0x10", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--size", "-5x10", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--play-seconds", "inf", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--play-seconds", "nan", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--play-seconds", "-1", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--stages", "-1", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--stages", "10000000000", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--focus", "4", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--focus", "-1", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--debugger-tab", "nope", "--out", "{out}/s.png"], USAGE),
    (["screenshot", "--out", "{out}/s.jpg"], USAGE),
    (["screenshot", "--out", "{out}/missing/s.png"], USAGE),
    (["screenshot", "--data-dir", "/etc/passwd", "--out", "{out}/s.png"], USAGE),
    (["screenshot"], USAGE),
    # the window's options, before a command or with bad values (refused before a window opens)
    (["--preset", "nope"], USAGE),
    (["--data-dir", "/etc/passwd"], USAGE),
    (["--max-memory", "x"], USAGE),
    (["--preset", "mnist", "train"], USAGE),
    (["--frobnicate"], USAGE),
    (["nonsense"], USAGE),
]


def test_table_of_bad_command_lines():
    run_all(TABLE)


def test_a_refused_screenshot_after_qt_started_leaves_nothing():
    """Past parsing: the window is built, the panel is unknown; the exit is clean."""
    check_refused(["screenshot", "--panel", "nope", "--out", "{out}/s.png"], USAGE)


# -- generated: at least one bad value, any number of good ones ----------------------
GOOD = {
    "--preset": ["toy"], "--dataset": ["toy"], "--sizes": ["3,4,1", "3,2,2,1"], "--hidden": ["relu", "tanh"],
    "--output-loss": ["sigmoid-mse", "identity-mse"], "--lr": ["0.5", "1e-3"], "--batch": ["0", "2"],
    "--seed": ["0", "4294967295"], "--init": ["he", "xavier"], "--dtype": ["float32", "float64"],
    "--reduction": ["mean", "sum"], "--max-memory": ["1G", "512M"],
}
BAD_NUMBERS = ["-1", "nan", "inf"]  # wrong for every option below but a file name
BAD = {
    "--sizes": ["3", "3,0,1", "3,-1,1", "a,b", "3,400000000,1", "3,1e3,1", ",", "3,4,1,"],
    "--lr": ["0", "-1", "nan", "inf", "1e999", "x"],
    "--batch": ["-1", "5", "1.5", "x"],
    "--seed": ["-1", "4294967296", "1e3", "x"],
    "--hidden": ["", "softplus"], "--output-loss": ["", "hinge"], "--init": ["", "ones"],
    "--dtype": ["", "int8"], "--reduction": ["", "median"], "--preset": ["", "x"], "--dataset": ["", "x"],
    "--data-dir": ["/etc/passwd", "/no/such/dir", ""],
    "--max-memory": ["0", "-1G", "1Q", "nan", "inf", ""],
}
COMMAND_BAD = {
    "train": {"--steps": ["-1", "x", "1.5"], "--epochs": ["-1", "x"]},
    "gradcheck": {"--samples": ["0", "-1", "x"], "--max-entries": ["0", "-5", "x"]},
    "trace": {"--out": ["{out}", "{out}/no/dir/t.npz", ""]},
}
SCREENSHOT_BAD = {
    "--size": ["x", "0x0", "99999x1", "1x99999", "10x", "x10", "1e3x10"],
    "--play-seconds": ["inf", "nan", "-1", "1e9", "x"], "--stages": ["-1", "1e9", "x"],
    "--focus": ["-1", "99", "x"], "--debugger-tab": ["x"], "--preset": ["x"], "--data-dir": ["/etc/passwd"],
    "--max-memory": ["0", "x"], "--out": ["{out}/a.jpg", "{out}/no/a.png", ""],
}
WINDOW_BAD = {"--preset": ["x", ""], "--dataset": ["x"], "--data-dir": ["/etc/passwd", "/no/such/dir"],
              "--max-memory": ["0", "x", "1.5.5G"]}
DOWNLOAD_BAD = {"--mirror": ["http://[::1", "gopher://x/", "x", "http://h:0x/", "http://h:70000/", ""],
                "--data-dir": ["/etc/passwd", "/no/such/parent/x"]}


@st.composite
def bad_command_line(draw):
    command = draw(st.sampled_from(["train", "gradcheck", "trace", "download", "screenshot", "window"]))
    if command == "window":  # no good values: a valid line would open the window
        bad_pool, good = WINDOW_BAD, {}
    elif command == "screenshot":
        bad_pool, good = SCREENSHOT_BAD, {"--preset": ["toy"], "--stages": ["0"], "--size": ["640x480"]}
    elif command == "download":
        bad_pool, good = DOWNLOAD_BAD, {"--mirror": [UNREACHABLE]}
    else:
        bad_pool, good = {**BAD, **COMMAND_BAD[command]}, GOOD
    name = draw(st.sampled_from(sorted(bad_pool)))
    # a good value of the same option given after the bad one would win: never both
    good_names = sorted(n for n in good if n != name)
    n_good = draw(st.integers(0, min(4, len(good_names))))
    chosen = draw(st.permutations(good_names))[:n_good] if good_names else []
    options = [(n, draw(st.sampled_from(good[n]))) for n in chosen]
    values = bad_pool[name] + (BAD_NUMBERS if name not in ("--out", "--data-dir") else [])  # "-1" names a file
    options.insert(draw(st.integers(0, len(options))), (name, draw(st.sampled_from(values))))
    argv = [] if command == "window" else [command] + (["mnist"] if command == "download" else [])
    for opt, value in options:
        argv.append(f"{opt}={value}")  # the = form: a value starting with '-' stays a value
    if command == "screenshot" and not any(a.startswith("--out=") for a in argv):
        argv.append("--out={out}/s.png")
    if command == "trace" and not any(a.startswith("--out=") for a in argv):
        argv.append("--out={out}/t.npz")
    return argv


# no shrinking: every step of it would run eight processes again; the message names the line
@settings(max_examples=5, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(bad_command_line(), min_size=8, max_size=8))
def test_generated_bad_command_lines(argvs):
    """Eight command lines per example, so two can run at a time."""
    run_all([(argv, USAGE) for argv in argvs])


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["screenshot", "--help"]])
def test_help_is_not_an_error(argv):
    with tempfile.TemporaryDirectory() as folder:
        code, err, _ = run_bpviz(argv, folder)
    assert code == 0 and err == ""
