"""The session loader validates the whole file before returning anything: a table of crafted
files, each refused with one line naming the file as given, cheaply (member sizes checked
before reading, non-regular files never opened for a blocking read)."""
import io
import json
import math
import os
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.session import SessionError, load_session, plan_length, resume, save_session
from bpviz.engine.trainer import Trainer, step_plan

MIB = 1 << 20


def _data():
    rng = np.random.default_rng(0)
    return ArraySet(rng.normal(size=(6, 3)), labels=rng.integers(0, 2, 6), n_classes=2)


def _trainer(**cfg):
    t = Trainer(NetConfig((3, 4, 2), output_loss="softmax-ce", init="xavier", batch_size=3, **cfg), _data())
    t.run_steps(3)  # epoch 1, batch 1 of 2
    t.next_stage()
    return t


@pytest.fixture
def valid(tmp_path):
    p = tmp_path / "valid.bpviz"
    save_session(p, _trainer(), "d", "id", [Breakpoint("loss_rise", 2.0), Breakpoint("grad_rms", 0.5, layer=2)],
                 extras={"test_accuracy": np.array([[2, 0.5], [3, 0.75]])})
    return p


def _arrays(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _craft(src, dst, edit=None, header_text=None, **replace):
    arrays = _arrays(src)
    header = json.loads(str(arrays["header"]))
    if edit:
        edit(header)
    arrays["header"] = np.asarray(header_text if header_text is not None else json.dumps(header))
    for k, v in replace.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    with open(dst, "wb") as f:  # a file object: savez would add .npz to a name
        np.savez(f, **arrays)
    return dst


def _npy_header(dtype, shape) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _add_deflated_zeros(path, member: str, header: bytes, zeros: int) -> None:
    """Append a deflated member of `header` and `zeros` zero bytes, written a block at a time."""
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            f.write(header)
            block = bytes(MIB)
            for _ in range(zeros // MIB):
                f.write(block)


def _refused(path, shown=None) -> str:
    with pytest.raises(SessionError) as e:
        load_session(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{shown if shown is not None else path}:") or msg.startswith(f"{path} is"), msg
    return msg


def _set(path_in_header, value):
    def edit(h):
        d = h
        for k in path_in_header[:-1]:
            d = d[k]
        d[path_in_header[-1]] = value
    return edit


CASES = [
    # (what, edit of the header, words the message must hold)
    ("infinite breakpoint", _set(("breakpoints", 0, "value"), math.inf), "finite number"),
    ("NaN breakpoint", _set(("breakpoints", 0, "value"), math.nan), "finite number"),
    ("breakpoint on a missing layer", _set(("breakpoints", 1, "layer"), 99), "layers 1 to 2"),
    ("breakpoint of an unknown kind", _set(("breakpoints", 0, "kind"), "moon"), "unknown kind"),
    ("breakpoint with an unknown field", _set(("breakpoints", 0, "colour"), 1), "unknown fields: colour"),
    ("breakpoint flag as text", _set(("breakpoints", 0, "enabled"), "yes"), "true or false"),
    ("step breakpoint past any run", lambda h: h["breakpoints"].append({"kind": "step", "value": 1e300}), "past any run"),
    ("breakpoints not a list", _set(("breakpoints",), {"a": 1}), "list"),
    ("stage index of 10^9", _set(("state", "stage_index"), 10**9), "past the"),
    ("steps 10^8 with 3 losses", lambda h: h["state"].update(steps_done=10**8, batch=10**8, epoch=0),
     "losses array: 152 bytes stored where the file's header needs 800000000 bytes"),
    ("negative batch", _set(("state", "batch"), -1), "at least 0"),
    ("loss folds as text", _set(("state", "loss_folds"), "all"), "runs of [first step, width, count]"),
    ("loss folds not from step 0", _set(("state", "loss_folds"), [[1, 1, 1]]), "does not follow step 0"),
    ("loss folds into the current epoch", _set(("state", "loss_folds"), [[0, 2, 5]]),
     "cover 10 steps, past the 2 before the current epoch"),
    ("loss folds the array does not match", _set(("state", "loss_folds"), [[0, 2, 1]]),
     "losses array is float64 (3,); its position in the run and its folds need float64 (2,)"),
    ("epoch loss folds past the epochs", _set(("state", "epoch_loss_folds"), [[0, 2, 1]]), "past the 1"),
    ("steps as text", _set(("state", "steps_done"), "3"), "whole number"),
    ("position inconsistent", _set(("state", "batch"), 2), "inconsistent"),
    ("sizes as text", _set(("config", "sizes"), "34"), "configuration field sizes"),
    ("bias as text", _set(("config", "bias"), "yes"), "configuration field bias"),
    ("learning rate true", _set(("config", "lr"), True), "configuration field lr"),
    ("learning rate infinite", _set(("config", "lr"), math.inf), "configuration field lr"),
    ("negative seed", _set(("config", "seed"), -1), "seed"),
    ("huge layer", _set(("config", "sizes"), [3, 10**9, 2]), "needs 24000000000 bytes of data"),
    ("unknown config key", _set(("config", "colour"), "red"), "unknown fields"),
    ("impossible config", _set(("config", "hidden"), "sine"), "impossible"),
    ("data set name a number", _set(("dataset", "name"), 5), "data set name"),
    ("unknown extra", _set(("extras",), ["test_accuracy", "secrets"]), "extras"),
    ("unknown header field", _set(("plugins",), []), "unknown fields: plugins"),
    ("newer version", _set(("version",), 2), "newer version"),
    ("another format", _set(("format",), "zip"), "not a bpviz session"),
]


@pytest.mark.parametrize("what,edit,words", CASES, ids=[c[0] for c in CASES])
def test_crafted_headers_are_refused_in_one_line(valid, tmp_path, what, edit, words):
    bad = _craft(valid, tmp_path / "bad.bpviz", edit)
    assert words in _refused(bad)


def test_deeply_nested_header_is_one_line(valid, tmp_path):
    bad = _craft(valid, tmp_path / "nested.bpviz", header_text="[" * 200_000)
    assert "nested too deeply" in _refused(bad)


def test_an_integer_of_5000_digits_is_one_line(valid, tmp_path):
    text = json.dumps(json.loads(str(_arrays(valid)["header"]))).replace('"epoch": 1', '"epoch": ' + "9" * 5000)
    assert "9" * 5000 in text
    bad = _craft(valid, tmp_path / "digits.bpviz", header_text=text)
    assert "not valid JSON" in _refused(bad)


def test_a_pickled_header_is_never_loaded(valid, tmp_path):
    bad = _craft(valid, tmp_path / "p.bpviz", header=np.array([{"format": "bpviz-session"}], dtype=object))
    assert "Python objects" in _refused(bad)


@pytest.mark.parametrize("name,value,words", [
    ("W1", np.zeros((3, 5)), "weights of layer 1 (W1)"),
    ("init_b2", np.zeros(3), "biases of layer 2 (init_b2)"),
    ("W2", np.full((4, 2), np.inf), "not finite"),
    ("W1", None, "missing"),
    ("losses", np.zeros(3, dtype=np.float32), "losses"),
    ("extra_test_accuracy", np.array([[2, np.nan]]), "not finite"),
    ("extra_test_accuracy", np.array([[99, 0.5]]), "outside 0-3"),
    ("extra_test_accuracy", np.zeros((2, 3)), "(k, 2)"),
    ("extra_test_accuracy", np.zeros((5, 2)), "k at most 4"),
    ("surplus", np.zeros(2), "no session has"),
])
def test_arrays_that_do_not_fit_the_configuration_are_refused(valid, tmp_path, name, value, words):
    bad = _craft(valid, tmp_path / "bad.bpviz", **{name: value})
    assert words in _refused(bad)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_unused_huge_member_is_refused_before_reading(valid, tmp_path):
    bad = tmp_path / "padded.bpviz"
    bad.write_bytes(valid.read_bytes())
    _add_deflated_zeros(bad, "padding.npy", _npy_header("f8", (32 * MIB,)), 256 * MIB)  # 256 MiB in ~260 kB
    assert bad.stat().st_size < 2 * MIB
    assert zipfile.ZipFile(bad).getinfo("padding.npy").file_size > 256 * MIB
    msg = []
    assert _peak(lambda: msg.append(_refused(bad))) < 8 * MIB
    assert "claims" in msg[0]


def test_a_small_session_claiming_many_steps_is_refused_before_reading(valid, tmp_path):
    steps = 16 * MIB  # 128 MiB of losses, deflated to ~130 kB

    def edit(h):
        h["state"].update(steps_done=steps, epoch=0, batch=steps, stage_index=0)
        h["extras"] = []
    bad = _craft(valid, tmp_path / "long.bpviz", edit, losses=None, epoch_losses=np.zeros(0),
                 extra_test_accuracy=None)
    _add_deflated_zeros(bad, "losses.npy", _npy_header("f8", (steps,)), 8 * steps)
    msg = []
    assert _peak(lambda: msg.append(_refused(bad))) < 8 * MIB
    assert "claims" in msg[0]


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.bpviz"
    os.mkfifo(fifo)
    out = []
    t = threading.Thread(target=lambda: out.append(_refused(fifo)), daemon=True)
    t.start()
    t.join(60)  # a guard against hanging the suite, not a measurement
    assert out == [f"{fifo} is a pipe, not a bpviz session file"]


def test_a_folder_and_a_missing_file_are_named(tmp_path):
    assert _refused(tmp_path) == f"{tmp_path} is a folder, not a bpviz session file"
    assert _refused(tmp_path / "gone.bpviz") == f"{tmp_path / 'gone.bpviz'}: no such file"


def test_messages_name_the_path_as_given(valid, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _craft(valid, tmp_path / "rel.bpviz", _set(("breakpoints", 0, "value"), math.inf))
    assert _refused("rel.bpviz", shown="rel.bpviz").startswith("rel.bpviz: breakpoint 1")


def test_a_valid_session_comes_back_typed(valid):
    s = load_session(valid)
    assert s.breakpoints == (Breakpoint("loss_rise", 2.0), Breakpoint("grad_rms", 0.5, layer=2))
    assert s.test_accuracy == ((2, 0.5), (3, 0.75))
    assert all(type(a) is int and type(b) is float for a, b in s.test_accuracy)
    assert s.state.steps_done == 3 and len(s.state.losses) == 3 and s.state.stage_index == 1
    u = resume(s, _data(), "id")
    assert u.state().stage_index == 1


def test_a_fortran_ordered_parameter_loads(valid, tmp_path):
    w = np.asfortranarray(_arrays(valid)["W1"])
    ok = _craft(valid, tmp_path / "f.bpviz", W1=w)
    np.testing.assert_array_equal(load_session(ok).state.params[0][0], w)


@pytest.mark.parametrize("cfg,m", [(NetConfig((3, 4, 2)), 5), (NetConfig((3, 4, 4, 2), bias=False), 2),
                                   (NetConfig((3, 4, 2), per_sample=True), 7),
                                   (NetConfig((2, 3, 3, 3, 1), per_sample=True, bias=False), 4)])
def test_plan_length_counts_the_plan(cfg, m):
    assert plan_length(cfg, m) == len(step_plan(cfg, m))


def test_resume_checks_the_position_against_the_data(tmp_path):
    t = _trainer()
    p = tmp_path / "r.bpviz"
    save_session(p, t, "d", "id")
    # 3 steps as epoch 1 batch 1 means 2 batches an epoch; a data set with 3 batches contradicts it
    rng = np.random.default_rng(1)
    bigger = ArraySet(rng.normal(size=(9, 3)), labels=rng.integers(0, 2, 9), n_classes=2)
    with pytest.raises(SessionError, match="with 3 batches an epoch"):
        resume(load_session(p), bigger, "id")


def test_resume_refuses_a_stage_past_a_whole_set_per_sample_plan(tmp_path):
    t = Trainer(NetConfig((3, 4, 2), output_loss="softmax-ce", per_sample=True), _data())
    p = tmp_path / "ps.bpviz"
    save_session(p, t, "d", "id")
    # per-sample with the whole set as one batch: the loader cannot know the plan, resume can
    _craft(p, p, _set(("state", "stage_index"), 10**9))
    s = load_session(p)
    with pytest.raises(SessionError, match=f"past the {plan_length(t.cfg, 6)} stages"):
        resume(s, _data(), "id")


def test_resume_of_weights_that_overflow_in_the_replay_is_one_line(valid, tmp_path):
    # finite but huge weights: the forward pass of the saved step overflows while replaying
    bad = _craft(valid, tmp_path / "huge.bpviz", _set(("state", "stage_index"), 8),  # past the loss
                 W1=np.full((3, 4), 1.5e308), W2=np.full((4, 2), 1.5e308))
    s = load_session(bad)
    with pytest.raises(SessionError) as e:
        resume(s, _data(), "id")
    assert str(e.value).startswith(f"{bad}: replaying the saved step fails") and "\n" not in str(e.value)


@pytest.mark.parametrize("bps,extras,words", [
    ([Breakpoint("loss_rise", math.inf)], None, "finite number"),
    ([], {"secrets": np.zeros(2)}, "extras must be among test_accuracy"),
    ([], {"test_accuracy": np.array([[99, 0.5]])}, "outside 0-3"),
])
def test_what_the_loader_would_refuse_is_not_saved(tmp_path, bps, extras, words):
    path = tmp_path / "keep.bpviz"
    path.write_bytes(b"the previous save")
    with pytest.raises(ValueError) as e:
        save_session(path, _trainer(), "d", "id", bps, extras=extras)
    assert str(e.value).startswith(f"{path}: not saved") and words in str(e.value)
    assert path.read_bytes() == b"the previous save" and os.listdir(tmp_path) == ["keep.bpviz"]
