"""Messages between the window and its training process: arrays travel out of band."""
import multiprocessing as mp
import pickle

import numpy as np

from bpviz.engine.config import NetConfig
from bpviz.engine.host import recv_message, send_message
from bpviz.engine.run import Run
from bpviz.runs import load_run_data


def test_a_snapshot_crosses_a_pipe_with_equal_read_only_arrays_and_no_in_band_copy():
    cfg = NetConfig((3, 4, 1), hidden="sigmoid", output_loss="sigmoid-mse", batch_size=4, lr=0.5, seed=0)
    run = Run.build(cfg, load_run_data("toy", allow_download=False))
    for _ in range(5):
        run.advance("stage")
    snap = run.snapshot(7, playing=True)
    a, b = mp.Pipe(duplex=True)
    try:
        send_message(a, ("snapshot", (snap,)))
        kind, (got,) = recv_message(b)
    finally:
        a.close()
        b.close()
    assert kind == "snapshot" and got.serial == 7 and got.playing
    assert set(got.arrays) == set(snap.arrays)
    for name, arr in snap.arrays.items():
        np.testing.assert_array_equal(got.arrays[name], arr)
        assert got.arrays[name].dtype == arr.dtype and not got.arrays[name].flags.writeable, name
    np.testing.assert_array_equal(got.losses, snap.losses)
    assert not got.losses.flags.writeable
    # the arrays' data is not inside the pickle: its header is small whatever the arrays' size
    buffers = []
    header = pickle.dumps(snap, protocol=5, buffer_callback=buffers.append)
    assert buffers and len(header) < sum(x.raw().nbytes for x in buffers) + 8192


def test_any_object_and_non_contiguous_arrays_cross_too():
    a, b = mp.Pipe(duplex=True)
    x = np.arange(24.0).reshape(4, 6)[:, ::2]  # (4, 3), not contiguous: pickled in band
    try:
        send_message(a, ("errored", ("a message", x, {"k": (1, 2.5)})))
        kind, (text, y, extra) = recv_message(b)
    finally:
        a.close()
        b.close()
    assert kind == "errored" and text == "a message" and extra == {"k": (1, 2.5)}
    np.testing.assert_array_equal(y, x)
