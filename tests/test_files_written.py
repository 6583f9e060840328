"""Files written: one atomic path, the user's umask, errors naming the user's path,
temporaries of killed writers cleaned up, panel exports that keep the old file on a full disk."""
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from bpviz.files import atomic_write, remove_stale_temporaries, write_bytes


def _run(script: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=120, **kw)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_users_umask(tmp_path, umask):
    r = _run(f"""
        import os, numpy as np
        os.umask({umask:#o})
        from bpviz.files import write_bytes, save_losses_csv, save_trace
        write_bytes({str(tmp_path / 'a.bin')!r}, b"x")
        save_losses_csv({str(tmp_path / 'l.csv')!r}, [1.0, 0.5], [], 1)
        save_trace({str(tmp_path / 't.npz')!r}, {{"W1": np.zeros((2, 2))}}, "{{}}")
    """)
    assert r.returncode == 0, r.stderr
    for name in ("a.bin", "l.csv", "t.npz"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~umask, name
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "l.csv", "t.npz"]


def test_an_error_names_the_users_path_not_the_temporary(tmp_path):
    missing = tmp_path / "no-such-folder" / "out.csv"
    with pytest.raises(OSError) as e:
        write_bytes(missing, b"x")
    assert str(missing) in str(e.value) and ".tmp" not in str(e.value)


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"new, half")
            raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_temporaries_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    # a process that exists no more: start one and wait for its end
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".x.bin.bpviz-{dead.pid}-0000abcd.tmp"
    stale.write_bytes(b"left by a killed save")
    live = tmp_path / f".x.bin.bpviz-{os.getpid()}-0000abcd.tmp"  # a write in progress elsewhere
    live.write_bytes(b"")
    other = tmp_path / f".y.bin.bpviz-{dead.pid}-0000abcd.tmp"  # another target's: not ours to judge now
    other.write_bytes(b"")
    write_bytes(tmp_path / "x.bin", b"new")
    assert not stale.exists()
    assert live.exists() and other.exists()
    old = os.stat(live).st_mtime - 10 * 24 * 3600
    os.utime(live, (old, old))  # abandoned long ago even though its pid is in use
    assert remove_stale_temporaries(tmp_path, "x.bin") == [live.name]


def test_older_versions_temporaries_are_removed_once_abandoned(tmp_path):
    abandoned = tmp_path / ".bpviz-k2j3h4g5.tmp"  # what bpviz before this version left when killed
    abandoned.write_bytes(b"179 MB, say")
    old = os.stat(abandoned).st_mtime - 3600
    os.utime(abandoned, (old, old))
    fresh = tmp_path / ".bpviz-a1b2c3d4.tmp"  # an older bpviz writing right now
    fresh.write_bytes(b"")
    write_bytes(tmp_path / "run.bpviz", b"new")
    assert sorted(os.listdir(tmp_path)) == [fresh.name, "run.bpviz"]


def test_kill_during_a_session_save_leaves_no_temporary_after_the_next_save(tmp_path):
    path = tmp_path / "run.bpviz"
    script = f"""
        import numpy as np
        from bpviz.engine.config import NetConfig
        from bpviz.engine.dataset import ArraySet
        from bpviz.engine.session import save_session
        from bpviz.engine.trainer import Trainer
        d = ArraySet(np.zeros((4, 1500)), labels=[0, 1, 0, 1], n_classes=2)
        t = Trainer(NetConfig((1500, 1500, 2), output_loss="softmax-ce", init="xavier"), d)
        print("ready", flush=True)
        while True:
            save_session({str(path)!r}, t, "d", "killed")
    """
    p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    # wait until a save is under way (its temporary exists), then kill it there
    while not any(n.endswith(".tmp") for n in os.listdir(tmp_path)):
        assert p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))  # the kill did leave one
    r = _run(f"""
        import numpy as np
        from bpviz.engine.config import NetConfig
        from bpviz.engine.dataset import ArraySet
        from bpviz.engine.session import save_session
        from bpviz.engine.trainer import Trainer
        d = ArraySet(np.zeros((4, 3)), labels=[0, 1, 0, 1], n_classes=2)
        save_session({str(path)!r}, Trainer(NetConfig((3, 2, 2), output_loss="softmax-ce"), d), "d", "next")
    """)
    assert r.returncode == 0, r.stderr
    assert os.listdir(tmp_path) == ["run.bpviz"]
