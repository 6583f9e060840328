"""The step as stages: order, immutability, per-sample accumulation, stepping = running."""
import numpy as np
import pytest

from bpviz.data.toy import toy_set
from bpviz.engine.config import NetConfig
from bpviz.engine.dataset import ArraySet
from bpviz.engine.losses import OUTPUT_LOSSES, get_output_loss
from bpviz.engine.presets import get_preset
from bpviz.engine.trainer import DivergenceError, Trainer, step_plan


def small_set(n=10, n_in=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return ArraySet(rng.normal(size=(n, n_in)), labels=rng.integers(0, k, n), n_classes=k)


def mlp(**kw):
    base = dict(sizes=(4, 5, 4, 3), hidden="tanh", output_loss="softmax-ce", init="xavier", seed=2,
                lr=0.1, batch_size=4)
    base.update(kw)
    return NetConfig(**base)


def test_toy_stage_order_follows_the_catalogue():
    t = Trainer(get_preset("toy").config, toy_set())
    seen = [(r.eq, r.layer) for r in (t.next_stage() for _ in range(12))]
    assert seen == [("F1", 1), ("F2", 1), ("F1", 2), ("F2", 2), ("L-MSE", 2), ("B1-MSE", 2),
                    ("B2", 2), ("B4", 2), ("B5", 2), ("B2", 1), ("U1", 1), ("U1", 2)]
    assert t.steps_done == 1


@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_generated_stages_equal_the_plan(per_sample, bias):
    data = small_set()
    t = Trainer(mlp(per_sample=per_sample, bias=bias), data)
    for _ in range(3):  # batches of 4, 4, then 2 samples
        plan = t.plan
        results = []
        while not results or not results[-1].step_end:
            results.append(t.next_stage())
        assert tuple(r.spec for r in results) == plan
        assert [r.index for r in results] == list(range(len(plan)))
    assert t.epoch == 1 and t.batch == 0


def test_outputs_and_inputs_name_arrays_that_exist():
    t = Trainer(mlp(), small_set())
    r = None
    while r is None or not r.step_end:
        r = t.next_stage()
        for name in r.outputs + r.inputs:
            assert name in r.arrays, (r, name)


def test_stage_arrays_are_read_only_and_unaffected_by_later_stages():
    t = Trainer(mlp(), small_set())
    results = [t.next_stage() for _ in range(30)]  # across step boundaries
    copies = [{k: np.array(v) for k, v in r.arrays.items()} for r in results]
    for _ in range(40):
        t.next_stage()
    for r, c in zip(results, copies):
        for k, v in r.arrays.items():
            assert not v.flags.writeable, k
            np.testing.assert_array_equal(v, c[k])
        with pytest.raises(ValueError):
            r.arrays[r.outputs[0]][...] = 0
        with pytest.raises(AttributeError):
            r.index = 3
        with pytest.raises(TypeError):
            r.arrays["X"] = None


def test_stage_shows_only_what_is_known_so_far():
    t = Trainer(get_preset("toy").config, toy_set())
    r1 = t.next_stage()
    assert set(r1.arrays) == {"X", "A0", "Y", "W1", "W2", "Z1"}
    r2 = t.next_stage()
    assert "A1" in r2.arrays and "A1" not in r1.arrays


def test_update_makes_new_parameters_and_keeps_the_old_ones():
    t = Trainer(mlp(), small_set())
    r = t.finish_step()
    np.testing.assert_array_equal(r.arrays["W1_after"], r.arrays["W1"] - 0.1 * r.arrays["dW1"])
    assert t.params[0][0] is r.arrays["W1_after"]
    assert not np.array_equal(r.arrays["W1"], r.arrays["W1_after"])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_per_sample_accumulation_ends_in_the_vectorised_gradient(reduction):
    data = small_set()
    vec = Trainer(mlp(reduction=reduction), data).finish_pass().arrays
    t = Trainer(mlp(reduction=reduction, per_sample=True), data)
    partial = []
    r = t.next_stage()
    while not (r.phase == "update"):
        if r.eq == "B2" and r.layer == 1:
            partial.append(r.arrays["dW1"])
        r = t.next_stage()
    assert len(partial) == 4
    # each partial sum adds exactly one sample's outer product
    a0, d1 = vec["A0"], vec["Delta1"]
    r_ = 1 / 4 if reduction == "mean" else 1
    np.testing.assert_allclose(partial[0], r_ * np.outer(a0[0], d1[0]), rtol=1e-12)
    for name in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        np.testing.assert_allclose(r.arrays[name], vec[name], rtol=1e-12, atol=1e-15)


def test_next_sample_advances_one_sample_in_per_sample_mode():
    t = Trainer(mlp(per_sample=True), small_set())
    r = t.next_sample()
    assert r.eq == "B2" and r.sample == 0 and r.layer == 3
    r = t.next_sample()
    assert r.sample == 1


def test_stepping_by_stage_equals_running_at_full_speed():
    cfg = mlp(dtype="float32")
    a = Trainer(cfg, small_set())
    b = Trainer(cfg, small_set())
    a.run_steps(7)
    for _ in range(7):
        while not b.next_stage().step_end:
            pass
    for (wa, ba), (wb, bb) in zip(a.params, b.params):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ba, bb)
    assert a.losses == b.losses


def test_finish_pass_stops_before_the_update_then_finish_step_completes():
    t = Trainer(mlp(), small_set())
    r = t.finish_pass()
    assert r.phase == "backward" and r.index == r.n_stages - 4
    assert t.steps_done == 0
    r = t.finish_step()
    assert r.eq == "U1" and r.layer == 3 and t.steps_done == 1
    r = t.finish_pass()  # already past the backward pass: the next step's
    assert r.step == 1 and r.phase == "backward"


def test_finish_epoch_and_counters():
    t = Trainer(mlp(), small_set())  # 10 samples, batch 4: 3 batches
    r = t.finish_epoch()
    assert r.epoch_end and r.epoch == 0 and r.batch == 2
    assert (t.epoch, t.batch, t.steps_done) == (1, 0, 3)
    assert len(t.epoch_losses) == 1
    assert t.epoch_losses[0] == pytest.approx(np.mean(t.losses))


def test_pause_mid_batch_and_resume_gives_the_same_numbers():
    cfg = mlp()
    a = Trainer(cfg, small_set())
    for _ in range(5):
        a.next_stage()
    a.run_steps(3)
    b = Trainer(cfg, small_set())
    b.run_steps(3)  # a paused inside step 0, then finished it and two more
    assert a.steps_done == b.steps_done == 3
    np.testing.assert_array_equal(a.params[0][0], b.params[0][0])


def test_epochs_are_shuffled_with_the_seed_and_cover_every_sample():
    t = Trainer(mlp(batch_size=3), small_set())
    seen = []
    while True:
        r = t.finish_step()
        seen.append(r.batch_indices)
        if r.epoch_end:
            break
    order0 = np.concatenate(seen)
    assert sorted(order0) == list(range(10))
    assert not np.array_equal(order0, np.arange(10))
    t2 = Trainer(mlp(batch_size=3), small_set())
    np.testing.assert_array_equal(np.concatenate([t2.finish_step().batch_indices for _ in range(4)]), order0)


def test_reset_replays_identically():
    t = Trainer(mlp(), small_set())
    t.run_steps(5)
    first = (list(t.losses), [np.array(w) for w, _ in t.params])
    t.reset()
    assert t.steps_done == 0 and t.losses == []
    t.run_steps(5)
    assert t.losses == first[0]
    for (w, _), w0 in zip(t.params, first[1]):
        np.testing.assert_array_equal(w, w0)


def test_float32_tracks_float64():
    a = Trainer(get_preset("toy").config, toy_set())
    b = Trainer(get_preset("toy").config.with_(dtype="float32"), toy_set())
    a.run_steps(200)
    b.run_steps(200)
    assert b.params[0][0].dtype == np.float32
    assert b.losses[-1] == pytest.approx(a.losses[-1], rel=1e-3)


def test_divergence_names_the_first_equation_and_stops():
    # lr 1e38 in float32: the first update overflows W into inf at U1
    cfg = NetConfig((2, 3, 1), hidden="identity", output_loss="identity-mse", init="xavier", seed=0,
                    lr=1e38, dtype="float32", bias=False)
    data = ArraySet(np.array([[1e3, 2e3], [3e3, -1e3]]), np.array([[1.0], [0.0]]))
    t = Trainer(cfg, data)
    with pytest.raises(DivergenceError) as info:
        t.run_steps(5)
    e = info.value
    assert e.spec.eq == "U1" and e.step == 0
    assert e.name in ("W1_after", "W2_after")
    assert "U1" in str(e) and "step 0" in str(e)
    assert t.last.eq != "U1" or t.last.layer < e.spec.layer  # the last good stage stays inspectable
    assert t.steps_done == 0  # nothing non-finite was committed
    assert all(np.isfinite(w).all() for w, _ in t.params)
    with pytest.raises(DivergenceError):
        t.next_stage()
    t.reset()
    assert t.diverged is None


def test_divergence_in_the_forward_pass_names_F1_and_the_cell():
    cfg = NetConfig((2, 2, 1), hidden="relu", output_loss="identity-mse", init="xavier", seed=0,
                    dtype="float32", bias=False)
    data = ArraySet(np.array([[3e38, 3e38]]), np.array([[1.0]]))
    t = Trainer(cfg, data, params=((np.array([[10.0, 0.1], [10.0, 0.1]]), None), (np.ones((2, 1)), None)))
    with pytest.raises(DivergenceError) as info:
        t.next_stage()
    assert info.value.spec.eq == "F1" and info.value.name == "Z1" and info.value.cell == (0, 0)


def test_an_overflow_one_step_later_is_reported_where_it_happens():
    """lr 1e30 keeps W finite (about 1e36) after the update; the inf appears in the next
    step's matmul, and that is what the engine reports."""
    cfg = NetConfig((2, 3, 1), hidden="identity", output_loss="identity-mse", init="xavier", seed=0,
                    lr=1e30, dtype="float32", bias=False)
    t = Trainer(cfg, ArraySet(np.array([[1e3, 2e3], [3e3, -1e3]]), np.array([[1.0], [0.0]])))
    with pytest.raises(DivergenceError) as info:
        t.run_steps(5)
    assert (info.value.spec.eq, info.value.step) == ("F1", 1)


def test_non_finite_data_is_refused():
    with pytest.raises(ValueError, match="non-finite"):
        Trainer(mlp(sizes=(2, 2, 2), batch_size=0), ArraySet(np.array([[np.nan, 1.0], [0, 1]]), labels=[0, 1]))


def test_uint8_inputs_are_scaled_per_batch():
    x = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    s = ArraySet(x, labels=[0, 1], n_classes=2, scale=1 / 255)
    xb, yb = s.batch(np.array([1, 0]), np.float32)
    assert xb.dtype == np.float32
    np.testing.assert_allclose(xb, [[128 / 255, 64 / 255], [0, 1]], rtol=1e-6)
    np.testing.assert_array_equal(yb, [[0, 1], [1, 0]])
    assert s.x.dtype == np.uint8  # the set itself stays uint8


def test_plan_lengths():
    cfg = get_preset("toy").config
    assert len(step_plan(cfg, 4)) == 12
    assert len(step_plan(cfg.with_(bias=True), 4)) == 14
    assert len(step_plan(cfg.with_(per_sample=True), 4)) == 12 + 2 * 3


@pytest.mark.parametrize("key", sorted(OUTPUT_LOSSES))
def test_an_output_delta_stays_within_its_proven_bound(key):
    """The trainer proves B1's output finite, without a scan, from ‖Delta‖ <= c (‖A‖ + ‖Y‖):
    the bound must hold wherever A and Y are finite, the near-equal cases included
    (Z = 0 puts σ(1 − σ) at its peak 1/4; targets opposite to A)."""
    pair = get_output_loss(key)
    rng = np.random.default_rng(7)
    worst = 0.0
    for scale in (1e-3, 1.0, 30.0, 1e4):
        for y_sign in (1.0, -1.0):
            z = np.vstack([np.zeros((2, 3)), rng.normal(0, scale, (30, 3))])  # (32, 3)
            y = y_sign * np.abs(rng.normal(0, scale, (32, 3)))
            a = pair.activate(z)
            delta = pair.delta(z, a, y)
            ratio = np.linalg.norm(delta) / (np.linalg.norm(a) + np.linalg.norm(y))
            worst = max(worst, ratio / pair.delta_gain)
    assert worst <= 1 + 1e-12


@pytest.mark.parametrize("hidden, output_loss, reduction", [("tanh", "softmax-ce", "mean"),
                                                            ("relu", "sigmoid-mse", "sum")])
def test_the_status_line_names_the_equation_as_its_typeset_form_does(hidden, output_loss, reduction):
    """The status bar's equation says 1/m (or nothing) and σ, ReLU, tanh, as the equation on
    screen does, never the catalogue's r and g_l that no panel explains."""
    from bpviz.engine.run import status_equation
    cfg = mlp(hidden=hidden, output_loss=output_loss, reduction=reduction, sizes=(4, 5, 4, 1 if "mse" in output_loss else 3),
              batch_size=0 if "mse" in output_loss else 4)
    names = {"tanh": "tanh", "relu": "ReLU", "softmax": "softmax", "sigmoid": "σ"}
    texts = {(s.eq, s.layer): status_equation(cfg, s) for s in step_plan(cfg, 4)}
    for text in texts.values():
        assert "r ·" not in text and "-r " not in text and not any(f"g{l}" in text for l in range(1, 4)), text
    assert texts[("F2", 1)] == f"A1 = {names[hidden]}(Z1)"
    assert texts[("F2", 3)] == f"A3 = {names[get_output_loss(output_loss).output]}(Z3)"
    assert texts[("B5", 2)].endswith(f"⊙ {names[hidden]}'(Z1)")
    assert texts[("B2", 2)] == ("dL/dW2 = (1/m) · A1ᵀ Δ2" if reduction == "mean" else "dL/dW2 = A1ᵀ Δ2")
