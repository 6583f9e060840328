"""Issue 6's engine side: going back, replay, breakpoints, edits, gradient check on
a chosen weight, per-sample contributions and sessions."""
import os

import numpy as np
import pytest

from bpviz.data.toy import toy_set
from bpviz.engine.breakpoints import Breakpoint, BreakpointSet
from bpviz.engine.config import NetConfig
from bpviz.engine.contrib import gradient_shares, per_sample_losses
from bpviz.engine.dataset import ArraySet
from bpviz.engine.gradcheck import gradcheck
from bpviz.engine.presets import get_preset
from bpviz.engine.session import SessionError, load_session, resume, save_session
from bpviz.engine.trainer import Trainer


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return ArraySet(rng.normal(size=(n, 4)), labels=rng.integers(0, 3, n), n_classes=3)


def cfg(**kw):
    base = dict(sizes=(4, 5, 3), hidden="relu", output_loss="softmax-ce", init="xavier", seed=1, lr=0.2,
                batch_size=4)
    base.update(kw)
    return NetConfig(**base)


def same(r1, r2):
    assert (r1.spec, r1.step, r1.epoch, r1.batch) == (r2.spec, r2.step, r2.epoch, r2.batch)
    assert set(r1.arrays) == set(r2.arrays)
    for k in r1.arrays:
        np.testing.assert_array_equal(r1.arrays[k], r2.arrays[k])


def test_rewind_across_batches_then_forward_reproduces_the_same_numbers():
    t = Trainer(cfg(), data())
    recorded = [t.next_stage() for _ in range(60)]  # 4 steps and a bit, across an epoch end
    for k in (0, 7, 13, 29, 41):
        back = t.rewind_to(recorded[k])
        same(back, recorded[k])
        for later in recorded[k + 1:k + 20]:
            same(t.next_stage(), later)
    assert t.losses == [r.loss for r in recorded if r.step_end]


def test_replay_from_the_initial_weights_is_identical():
    t = Trainer(cfg(), data())
    first = [t.next_stage() for _ in range(40)]
    t.reset()
    for r in first:
        same(t.next_stage(), r)


def test_state_and_restore_resume_mid_step():
    t = Trainer(cfg(), data())
    for _ in range(20):
        t.next_stage()
    st = t.state()
    assert 0 < st.stage_index < t.last.n_stages
    ahead = [t.next_stage() for _ in range(30)]
    u = Trainer(cfg(), data())
    u.restore(st)
    for r in ahead:
        same(u.next_stage(), r)


def toy_at(eq):
    t = Trainer(get_preset("toy").config, toy_set())
    r = t.next_stage()
    while r.eq != eq:
        r = t.next_stage()
    return t, r


def test_editing_a_weight_changes_exactly_the_downstream_values():
    t, before = toy_at("B5")  # backward pass in progress
    new = t.set_param("W2", (1, 0), 2.5)
    assert new.eq == "B5" and new.index == before.index
    a, b = before.arrays, new.arrays
    for k in ("X", "Y", "W1", "Z1", "A1"):  # upstream of W2: untouched
        np.testing.assert_array_equal(a[k], b[k])
    for k in ("W2", "Z2", "A2", "loss", "Delta2", "dW2", "dA1", "Delta1"):
        assert not np.array_equal(a[k], b[k]), k
    assert b["W2"][1, 0] == 2.5 and a["W2"][1, 0] != 2.5  # the old result keeps its weight
    assert np.array_equal(np.delete(a["W2"], 1), np.delete(b["W2"], 1))


def test_editing_an_input_recomputes_its_sample_only_in_the_forward_pass():
    t, before = toy_at("F2")
    new = t.set_input(2, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(new.arrays["X"][2], [1, 1, 0])
    np.testing.assert_array_equal(new.arrays["A1"][[0, 1, 3]], before.arrays["A1"][[0, 1, 3]])
    assert not np.array_equal(new.arrays["A1"][2], before.arrays["A1"][2])
    with pytest.raises(ValueError):
        t.set_input(0, [np.nan, 0, 0])


def test_gradcheck_on_one_weight_and_on_one_layer():
    d = data()
    c = cfg(hidden="tanh")
    t = Trainer(c, d)
    x, y = d.batch(np.arange(4), np.float64)
    one = gradcheck(c, x, y, t.params, names={"W1"}, entries={"W1": [(2, 3)]}, intermediates=False)
    assert [(k.name, k.n_checked) for k in one] == [("W1", 1)] and one[0].ok
    layer = gradcheck(c, x, y, t.params, names={"W2", "b2"})
    assert {k.name for k in layer} == {"W2", "b2"} and all(k.ok for k in layer)


def test_gradcheck_shows_how_far_the_approximation_is():
    c = cfg(output_loss="softmax-mse-approx", hidden="tanh")
    d = data()
    x, y = d.batch(np.arange(4), np.float64)
    checks = gradcheck(c, x, y, Trainer(c, d).params, names={"W2"})
    assert checks[0].max_rel_error > 0.1 and not checks[0].ok


def test_per_sample_losses_and_gradient_shares():
    t = Trainer(cfg(), data())
    r = t.finish_pass()
    losses = per_sample_losses(r.arrays, t.cfg)
    assert losses.shape == (4,)
    assert np.sum(losses) / 4 == pytest.approx(r.loss, rel=1e-12)
    shares = gradient_shares(r.arrays, t.cfg)
    assert set(shares) == {1, 2}
    for s in shares.values():
        assert s.sum() == pytest.approx(1.0, rel=1e-9)


# -- breakpoints -----------------------------------------------------------------------
def run_with(bps, trainer, stages=400, labels=None):
    fired = []
    for _ in range(stages):
        prev_loss = trainer.losses[-1] if trainer.losses else None
        r = trainer.next_stage()
        msg = bps.check(r, prev_loss, trainer.cfg.lr, trainer.cfg.n_layers, labels)
        if msg:
            fired.append((r, msg))
    return fired


def test_loss_rise_fires_only_when_the_loss_rises_that_much():
    bad = Trainer(cfg(lr=50.0, hidden="tanh"), data())  # a learning rate that overshoots
    fired = run_with(BreakpointSet([Breakpoint("loss_rise", 1.5)]), bad)
    assert fired and fired[0][0].phase == "loss" and "loss rose" in fired[0][1]
    good = Trainer(get_preset("toy").config, toy_set())
    assert not run_with(BreakpointSet([Breakpoint("loss_rise", 1.5)]), good)


def test_gradient_and_update_thresholds():
    t = Trainer(cfg(), data())
    fired = run_with(BreakpointSet([Breakpoint("grad_rms", 1e-9, layer=1)]), t, 20)
    assert fired and fired[0][0].eq == "B2" and fired[0][0].layer == 1
    t = Trainer(cfg(), data())
    assert not run_with(BreakpointSet([Breakpoint("grad_rms", 1e9)]), t, 60)
    t = Trainer(cfg(), data())
    fired = run_with(BreakpointSet([Breakpoint("update_ratio", 1e-9, layer=2)]), t, 20)
    assert fired and fired[0][0].eq == "U1" and fired[0][0].layer == 2
    t = Trainer(cfg(), data())
    fired = run_with(BreakpointSet([Breakpoint("update_ratio", 1e9, below=True)]), t, 20)
    assert fired and fired[0][0].eq == "U1"


def test_misclassified_fires_when_a_sample_turns_wrong():
    # sample 0 is learnt first, then the label set is flipped by a huge step: it turns wrong
    x = np.array([[1.0, 0], [0, 1.0]])
    t = Trainer(NetConfig((2, 2), output_loss="softmax-ce", init="xavier", seed=0, lr=5.0), ArraySet(x, labels=[0, 1]))
    labels = lambda idx: np.array([0, 1])[idx]
    bps = BreakpointSet([Breakpoint("misclassified", 0)])
    assert not run_with(bps, t, 80, labels)  # it only gets better
    w = np.array(t.params[0][0])
    w[0] = [-10.0, 10.0]  # now sample 0 goes to class 1
    t.set_param("W1", (0, 0), -10.0)
    t.set_param("W1", (0, 1), 10.0)
    fired = run_with(bps, t, 6, labels)
    assert fired and "sample 0" in fired[0][1]


def test_step_and_epoch_breakpoints():
    t = Trainer(cfg(), data())  # 3 batches an epoch
    fired = run_with(BreakpointSet([Breakpoint("step", 4), Breakpoint("epoch", 2)]), t, 140)
    msgs = [m for _, m in fired]
    assert msgs == ["breakpoint: step 4 done", "breakpoint: epoch 2 done"]
    # at the last stage of step 4 and of epoch 2, counted from 0: what the window then shows
    assert [(r.step, r.step_end) for r, _ in fired] == [(4, True), (8, True)] and fired[1][0].epoch_end


def test_disabled_breakpoints_do_not_fire_and_bad_ones_are_refused():
    t = Trainer(cfg(), data())
    assert not run_with(BreakpointSet([Breakpoint("step", 1, enabled=False)]), t, 40)
    for kind, value in (("loss_rise", 0.5), ("grad_rms", -1), ("step", 1.5), ("nope", 1)):
        with pytest.raises(ValueError):
            Breakpoint(kind, value)


# -- sessions ---------------------------------------------------------------------------
def test_session_round_trips_bit_for_bit_mid_step(tmp_path):
    t = Trainer(cfg(dtype="float32"), data())
    for _ in range(23):
        t.next_stage()
    path = tmp_path / "run.bpviz"
    bps = [Breakpoint("loss_rise", 2.0), Breakpoint("step", 9, enabled=False)]
    save_session(path, t, "synthetic", "abc123", bps, extras={"test_accuracy": np.array([[t.steps_done, 0.5]])})
    s = load_session(path)
    assert s.config == t.cfg and s.dataset == "synthetic" and s.breakpoints == tuple(bps)
    np.testing.assert_array_equal(s.extras["test_accuracy"], [[t.steps_done, 0.5]])
    u = resume(s, data(), "abc123")
    assert u.state().stage_index == t.state().stage_index
    for _ in range(50):
        same(u.next_stage(), t.next_stage())
    for (a, _), (b, _) in zip(u.initial_params, t.initial_params):
        np.testing.assert_array_equal(a, b)


def test_saving_is_atomic(tmp_path, monkeypatch):
    t = Trainer(cfg(), data())
    path = tmp_path / "run.bpviz"
    save_session(path, t, "d", "id")
    good = path.read_bytes()
    t.run_steps(2)

    def broken_savez(f, **arrays):
        f.write(b"PK partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError):
        save_session(path, t, "d", "id")
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["run.bpviz"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "not-npz-header"])
def test_corrupt_session_files_are_refused_cleanly(tmp_path, damage):
    t = Trainer(cfg(), data())
    path = tmp_path / "run.bpviz"
    save_session(path, t, "d", "id")
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(2000))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        np.savez(path.with_suffix(".npz"), header=np.asarray("{not json"))
        path = path.with_suffix(".npz")
    with pytest.raises(SessionError) as e:
        load_session(path)
    assert "\n" not in str(e.value)


def _saved_and_edited(tmp_path, edit) -> tuple:
    """A saved session, and a copy whose arrays `edit` changed (returns both paths)."""
    path = tmp_path / "run.bpviz"
    save_session(path, Trainer(cfg(), data()), "d", "id-1")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    edit(arrays)
    edited = tmp_path / "edited.npz"
    np.savez(edited, **arrays)
    return path, edited


def test_sessions_from_another_version_or_data_set_are_refused(tmp_path):
    import json

    def newer(arrays):
        header = json.loads(str(arrays["header"]))
        header["version"] = 99
        arrays["header"] = np.asarray(json.dumps(header))
    path, edited = _saved_and_edited(tmp_path, newer)
    with pytest.raises(SessionError, match="newer version"):
        load_session(edited)
    with pytest.raises(SessionError, match="data found differs"):
        resume(load_session(path), data(), "id-2")
    with pytest.raises(SessionError, match="no such file"):
        load_session(tmp_path / "missing.bpviz")


def test_a_session_whose_weights_do_not_fit_its_config_is_refused(tmp_path):
    _, edited = _saved_and_edited(tmp_path, lambda arrays: arrays.update(W1=np.zeros((2, 2))))
    with pytest.raises(SessionError, match="weights of layer 1"):
        load_session(edited)
