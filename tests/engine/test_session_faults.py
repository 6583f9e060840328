"""Faults around sessions: fuzzed files never crash the loader, and a process killed
in the middle of a save leaves the previous file intact."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.session import SessionError, load_session, save_session
from bpviz.engine.trainer import Trainer


def _valid_bytes(tmp_path) -> bytes:
    rng = np.random.default_rng(0)
    d = ArraySet(rng.normal(size=(6, 3)), labels=rng.integers(0, 2, 6), n_classes=2)
    t = Trainer(NetConfig((3, 4, 2), output_loss="softmax-ce", init="xavier", batch_size=3), d)
    t.run_steps(3)
    p = tmp_path / "valid.bpviz"
    save_session(p, t, "d", "id")
    return p.read_bytes()


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
        assert "\n" not in str(e)
    else:  # a mutation the zip's CRCs let through must still give a consistent session
        assert len(s.state.losses) == s.state.steps_done
        for w, _ in s.state.params:
            assert np.isfinite(w).all()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused(tmp_path_factory, blob):
    p = tmp_path_factory.mktemp("fz") / "r.bpviz"
    p.write_bytes(blob)
    try:
        load_session(p)
    except SessionError:
        pass


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
