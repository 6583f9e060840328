"""Messages from the training process to the window: arrays through shared-memory slots."""
import multiprocessing as mp
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from bpviz.engine.config import NetConfig
from bpviz.engine.frames import HEADER, PREFIX, FrameReader, FrameWriter, remove_stale
from bpviz.engine.run import Run
from bpviz.runs import load_run_data


@pytest.fixture
def pipe():
    a, b = mp.Pipe(duplex=True)
    yield a, b
    a.close()
    b.close()


def toy_snapshot(stages=5):
    cfg = NetConfig((3, 4, 1), hidden="sigmoid", output_loss="sigmoid-mse", batch_size=4, lr=0.5, seed=0)
    run = Run.build(cfg, load_run_data("toy", allow_download=False))
    for _ in range(stages):
        run.advance("stage")
    return run.snapshot(7, playing=True)


def slot_files(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith(PREFIX))


@pytest.mark.parametrize("stages", [0, 5], ids=["ready, with the first batch", "mid-step"])
@pytest.mark.parametrize("inline_below", [0, 10**9], ids=["shared-memory", "pipe"])
def test_a_snapshot_arrives_with_equal_read_only_arrays(pipe, tmp_path, inline_below, stages):
    snap = toy_snapshot(stages)
    writer, reader = FrameWriter(inline_below=inline_below, folder=str(tmp_path)), FrameReader()
    try:
        writer.send(pipe[0], ("snapshot", (snap,)))
        kind, (got,) = reader.recv(pipe[1])
    finally:
        writer.close()
        reader.close()
    assert kind == "snapshot" and got.serial == 7 and got.playing
    assert set(got.arrays) == set(snap.arrays)
    for name, arr in snap.arrays.items():
        np.testing.assert_array_equal(got.arrays[name], arr)
        assert got.arrays[name].dtype == arr.dtype and not got.arrays[name].flags.writeable, name
    np.testing.assert_array_equal(got.losses, snap.losses)
    assert not got.losses.flags.writeable
    assert "X" in got.arrays and not got.batch_indices.flags.writeable
    np.testing.assert_array_equal(got.batch_indices, snap.batch_indices)


def test_big_messages_use_a_slot_that_is_freed_when_read_and_unlinked_once_mapped(pipe, tmp_path):
    writer, reader = FrameWriter(slots=2, inline_below=1000, folder=str(tmp_path)), FrameReader()
    try:
        big = np.arange(50_000.0)  # (50000,) 400 kB
        writer.send(pipe[0], ("snapshot", (big,)))
        assert len(slot_files(tmp_path)) == 1 and writer._slots[0].map[0] == 1  # written, not read yet
        writer.send(pipe[0], ("snapshot", (big + 1,)))  # slot 0 busy: the next one
        assert [s.map[0] for s in writer._slots] == [1, 1] and writer._serial == 2
        # both busy: the third goes through the pipe, which blocks until it is read
        third = threading.Thread(target=writer.send, args=(pipe[0], ("snapshot", (big + 2,))))
        third.start()
        for k in range(3):
            _, (got,) = reader.recv(pipe[1])
            np.testing.assert_array_equal(got, big + k)
        third.join(10)
        assert writer._serial == 2  # no third slot file was made
        assert [s.map[0] for s in writer._slots] == [0, 0]  # copied out: free again
        assert slot_files(tmp_path) == []  # the reader unlinked what it mapped
        small = np.arange(3.0)
        writer.send(pipe[0], ("stats", (small, "text")))  # small: through the pipe
        _, (got, text) = reader.recv(pipe[1])
        np.testing.assert_array_equal(got, small)
        assert text == "text"
        huge = np.arange(700_000.0)  # (700000,) 5.6 MB: more than a 4 MB slot holds, so it grows
        writer.send(pipe[0], ("snapshot", (huge,)))
        _, (got,) = reader.recv(pipe[1])
        np.testing.assert_array_equal(got, huge)
        assert writer._slots[0].size >= huge.nbytes + HEADER
    finally:
        writer.close()
        reader.close()
    assert slot_files(tmp_path) == []


def test_a_dead_training_process_leaves_no_slot_file_behind(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / f"{PREFIX}{pid}-1-abc").write_bytes(b"x" * 100)
    (tmp_path / f"{PREFIX}{os.getpid()}-1-abc").write_bytes(b"x")  # a live process's slot stays
    (tmp_path / "unrelated").write_bytes(b"x")
    assert remove_stale(str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == sorted([f"{PREFIX}{os.getpid()}-1-abc", "unrelated"])


def test_no_room_for_a_slot_sends_through_the_pipe(pipe, tmp_path, monkeypatch):
    def full(fd, offset, size):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "posix_fallocate", full)
    writer, reader = FrameWriter(inline_below=1000, folder=str(tmp_path)), FrameReader()
    big = np.arange(20_000.0)  # (20000,) 160 kB: a slot's size, but no room for one
    try:
        sender = threading.Thread(target=writer.send, args=(pipe[0], ("snapshot", (big,))))
        sender.start()
        _, (got,) = reader.recv(pipe[1])
        sender.join(10)
    finally:
        writer.close()
        reader.close()
    np.testing.assert_array_equal(got, big)
    assert writer._slots == [None] * len(writer._slots) and slot_files(tmp_path) == []


# -- the loss series: only the points the window has not had -----------------------------------

def toy_run(batch_size=0):
    cfg = NetConfig((3, 4, 1), hidden="sigmoid", output_loss="sigmoid-mse", batch_size=batch_size, lr=0.5, seed=0)
    return Run.build(cfg, load_run_data("toy", allow_download=False))


def through(pipe, writer, reader, tw, tr, snap):
    """A snapshot across the boundary as the window gets it, and the points its series sent."""
    message = tw.encode(("snapshot", (snap,)))
    sent = {name: tail if isinstance(tail, str) else len(tail[1]) for name, tail in message[1][1].items()}
    writer.send(pipe[0], message)
    kind, (got,) = tr.decode(reader.recv(pipe[1]))
    assert kind == "snapshot"
    return got, sent


@pytest.mark.parametrize("batch_size", [0, 2], ids=["one batch an epoch", "two batches an epoch"])
def test_the_loss_series_cross_as_their_new_points_and_arrive_whole(pipe, tmp_path, batch_size):
    from bpviz.engine.frames import TailReader, TailWriter
    run = toy_run(batch_size)
    writer, reader = FrameWriter(inline_below=0, folder=str(tmp_path)), FrameReader()
    tw, tr = TailWriter(), TailReader()
    kept = []
    try:
        for k in range(1, 40):
            for _ in range(k % 4 + 1):
                run.advance("step")
            snap = run.snapshot(k)
            got, sent = through(pipe, writer, reader, tw, tr, snap)
            np.testing.assert_array_equal(got.losses, snap.losses)
            np.testing.assert_array_equal(got.epoch_losses, snap.epoch_losses)
            assert not got.losses.flags.writeable
            # one batch an epoch: the epoch means are the losses, sent and held once
            assert (sent["epoch_losses"] == "losses") == (batch_size == 0) == (got.epoch_losses is got.losses)
            if k > 1:  # after the first, a frame carries the steps since the last one (until the series regrows)
                assert sent["losses"] <= k % 4 + 1 or sent["losses"] == len(snap.losses)
            kept.append((got, np.array(snap.losses)))
        assert sum(1 for got, _ in kept[1:] if len(got.losses) > 8) > 10
        # frames the window kept never change as later points arrive
        for got, then in kept:
            np.testing.assert_array_equal(got.losses, then)

        # back in time, nothing changes: the timeline keeps every loss
        run.rewind_to_stage(len(run.losses) - 5)
        snap = run.snapshot(100)
        got, sent = through(pipe, writer, reader, tw, tr, snap)
        np.testing.assert_array_equal(got.losses, snap.losses)
        assert sent["losses"] == 0
        # an edit there branches: the series is cut and grows again on another buffer
        run.edit_param("W1", (0, 0), 0.25)
        run.advance("step")
        snap = run.snapshot(101)
        got, sent = through(pipe, writer, reader, tw, tr, snap)
        np.testing.assert_array_equal(got.losses, snap.losses)
        assert sent["losses"] == len(snap.losses) < len(kept[-1][1])  # whole: the old points changed
        for got_then, then in kept:
            np.testing.assert_array_equal(got_then.losses, then)

        # a new run (Reset): whole again
        run2 = toy_run(batch_size)
        run2.advance("step")
        snap = run2.snapshot(102)
        got, sent = through(pipe, writer, reader, tw, tr, snap)
        np.testing.assert_array_equal(got.losses, snap.losses)
        assert sent["losses"] == len(snap.losses) == 1
    finally:
        writer.close()
        reader.close()


def test_a_series_that_does_not_continue_what_the_window_has_is_an_error():
    from bpviz.engine.frames import TailReader
    tr = TailReader()
    snap = toy_run().snapshot(1)
    with pytest.raises(ValueError, match="continues at point 5"):
        tr.decode(("snapshot", (snap, {"losses": (5, np.zeros(2))})))
