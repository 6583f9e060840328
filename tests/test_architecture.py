"""The layering rules: the engine and the data code never import Qt."""
import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pyqtgraph")


def test_engine_and_data_import_no_qt_in_a_fresh_interpreter():
    code = ("import sys, bpviz.engine.trainer, bpviz.engine.gradcheck, bpviz.engine.presets, "
            "bpviz.engine.stats, bpviz.engine.snapshot, bpviz.engine.run, bpviz.data.toy, bpviz.runs, bpviz.cli\n"
            "import pkgutil, importlib, bpviz.data\n"
            "for m in pkgutil.iter_modules(bpviz.data.__path__): importlib.import_module('bpviz.data.' + m.name)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_no_qt_import_statement_in_engine_or_data():
    for folder in ("bpviz/engine", "bpviz/data"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for n in names:
                    assert n.split(".")[0] not in QT, f"{path} imports {n}"


def test_panels_do_not_reach_the_worker_or_the_controller():
    """Panels only draw snapshots: they import neither the worker nor the controller and
    never touch an attribute named worker or trainer."""
    for path in (ROOT / "bpviz/gui/panels").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.endswith(("worker", "controller")), f"{path} imports {node.module}"
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("worker", "trainer"), f"{path} uses .{node.attr}"


def test_no_undefined_or_unused_names():
    """pyflakes' checks (ruff's F rules): an undefined name is a crash waiting for its line
    to run (one hid in an annotation of bpviz/engine/frames.py), an unused import a leftover."""
    ruff = pathlib.Path(sys.executable).with_name("ruff")
    assert ruff.exists(), "ruff is a test dependency: pip install -e '.[test]'"
    r = subprocess.run([str(ruff), "check", "--select", "F", "--no-cache", "bpviz", "tests", "benchmarks", "scripts"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
