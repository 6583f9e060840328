"""Faults around sessions: fuzzed files never crash the loader, and a process killed
in the middle of a save leaves the previous file intact."""
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.session import SessionError, Session, load_session, resume, save_session
from bpviz.engine.trainer import Trainer


def _data():
    rng = np.random.default_rng(0)
    return ArraySet(rng.normal(size=(6, 3)), labels=rng.integers(0, 2, 6), n_classes=2)


_VALID: list[bytes] = []


def _valid_bytes(tmp_path) -> bytes:
    """A saved session with breakpoints and test accuracy (made once: examples are many)."""
    if _VALID:
        return _VALID[0]
    t = Trainer(NetConfig((3, 4, 2), output_loss="softmax-ce", init="xavier", batch_size=3), _data())
    t.run_steps(3)
    p = tmp_path / "valid.bpviz"
    save_session(p, t, "d", "id", [Breakpoint("loss_rise", 2.0), Breakpoint("step", 9, layer=1, enabled=False)],
                 extras={"test_accuracy": np.array([[2, 0.5], [3, 0.75]])})
    _VALID.append(p.read_bytes())
    return _VALID[0]


def _usable(s: Session) -> None:
    """What the loader returns is whole and typed: the window can install it without failing."""
    assert len(s.state.losses) == s.state.steps_done and len(s.state.epoch_losses) == s.state.epoch
    assert all(isinstance(b, Breakpoint) and math.isfinite(b.value) for b in s.breakpoints)
    assert all(type(k) is int and type(a) is float and 0 <= k <= s.state.steps_done for k, a in s.test_accuracy)
    for w, b in s.state.params + s.initial_params:
        assert np.isfinite(w).all() and (b is None or np.isfinite(b).all())
    try:
        resume(s, _data(), s.identity)  # the data may not fit: then one line, never another error
    except SessionError as e:
        assert "\n" not in str(e)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_session_files_load_or_fail_with_one_line(tmp_path, data):
    raw = bytearray(_valid_bytes(tmp_path))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / "fuzzed.bpviz"
    p.write_bytes(bytes(raw))
    try:
        s = load_session(p)
    except SessionError as e:
        assert "\n" not in str(e) and str(p) in str(e)
    else:  # a mutation the zip's CRCs let through must still give a consistent session
        _usable(s)


def _header_paths(node, prefix=()):
    """Every place in the JSON header: (keys and indices leading to it)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _header_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _header_paths(v, prefix + (i,))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from([0, 1, 2, 3, 10**9, -1])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
    | st.sampled_from(["loss_rise", "step", "sigmoid", "float32", "test_accuracy", "d", "id"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=int(os.environ.get("BPVIZ_FUZZ_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_session_headers_load_whole_or_fail_with_one_line(tmp_path, data):
    """Any field of the header replaced by any JSON value (Infinity and NaN included), or
    removed: a typed, usable session or one line naming the file, nothing else."""
    src = tmp_path / "valid.bpviz"
    src.write_bytes(_valid_bytes(tmp_path))
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["header"]))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(_header_paths(header))[1:]))
        parent = header
        for k in where[:-1]:
            parent = parent[k]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = data.draw(_json_values)
    arrays["header"] = np.asarray(json.dumps(header))
    p = tmp_path / "mutated.bpviz"
    with open(p, "wb") as f:
        np.savez(f, **arrays)
    try:
        s = load_session(p)
    except SessionError as e:
        assert "\n" not in str(e) and str(p) in str(e)
    else:
        _usable(s)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused(tmp_path_factory, blob):
    p = tmp_path_factory.mktemp("fz") / "r.bpviz"
    p.write_bytes(blob)
    try:
        load_session(p)
    except SessionError as e:
        assert "\n" not in str(e) and str(p) in str(e)


def test_kill_during_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "big.bpviz"
    script = textwrap.dedent(f"""
        import numpy as np, sys
        from bpviz.engine.config import NetConfig
        from bpviz.engine.dataset import ArraySet
        from bpviz.engine.session import save_session
        from bpviz.engine.trainer import Trainer
        d = ArraySet(np.zeros((4, 2000)), labels=[0, 1, 0, 1], n_classes=2)
        t = Trainer(NetConfig((2000, 2000, 2), output_loss="softmax-ce", init="xavier"), d)
        save_session({str(path)!r}, t, "d", "first")
        print("saved", flush=True)
        while True:  # keep saving bigger runs until killed
            t.run_steps(1)
            save_session({str(path)!r}, t, "d", "later")
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "saved"
    time.sleep(0.7)  # several saves of ~32 MB are under way by now
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    s = load_session(path)  # whichever save completed last, it is whole
    assert s.identity in ("first", "later")
    leftovers = [f for f in os.listdir(tmp_path) if f != "big.bpviz"]
    # a killed process cannot clean its temporary file; it is never the session's name
    assert all(f.startswith(".big.bpviz.bpviz-") and f.endswith(".tmp") for f in leftovers)
