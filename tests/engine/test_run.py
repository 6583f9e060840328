"""The Qt-free run model: one timeline that never loses anything, breakpoints in every
way of advancing, a run replaced whole, Snapshots that hold exactly the engine's arrays."""
import sys

import numpy as np
import pytest

from bpviz.engine.breakpoints import Breakpoint
from bpviz.engine.config import NetConfig
from bpviz.engine.presets import get_preset
from bpviz.engine.run import Run, health_warnings
from bpviz.engine.trainer import Trainer
from bpviz.runs import fit_to_data, load_run_data

TOY = get_preset("toy").config  # 3-4-1, 12 stages a step, 1 step an epoch


@pytest.fixture
def toy():
    return load_run_data("toy")


def same_stage(a, b):
    assert (a.stage.step, a.stage.index) == (b.stage.step, b.stage.index)
    assert set(a.stage.arrays) == set(b.stage.arrays)
    for k in a.stage.arrays:
        np.testing.assert_array_equal(a.stage.arrays[k], b.stage.arrays[k])


def test_snapshot_arrays_are_the_engines_arrays(toy):
    run = Run.build(TOY, toy)
    plain = Trainer(TOY, toy.train)
    for _ in range(30):
        run.advance("stage")
        r = plain.next_stage()
        snap = run.snapshot()
        for k, a in r.arrays.items():
            np.testing.assert_array_equal(snap.arrays[k], a)
            assert not snap.arrays[k].flags.writeable
    np.testing.assert_array_equal(run.snapshot().losses, plain.losses)


@pytest.mark.parametrize("batch_size", [0, 2], ids=["whole set", "shuffled batches"])
@pytest.mark.parametrize("edit", [False, True], ids=["as loaded", "an input edited before the first step"])
def test_before_the_first_stage_the_snapshot_holds_the_batch_the_first_step_reads(toy, batch_size, edit):
    run = Run.build(TOY.with_(batch_size=batch_size), toy)
    if edit:
        run.edit_input(int(run.snapshot().batch_indices[1]), [0.25, -1.5, 2.0])
    ready = run.snapshot()
    assert ready.stage is None and ready.status.endswith("ready")
    run.advance("stage")
    first = run.snapshot()
    np.testing.assert_array_equal(ready.batch_indices, first.stage.batch_indices)
    assert set(ready.arrays) == set(first.stage.info.base) == {"X", "A0", "Y", "W1", "W2"}  # the toy has no bias
    for name in ready.arrays:
        np.testing.assert_array_equal(ready.arrays[name], first.stage.arrays[name])
        assert not ready.arrays[name].flags.writeable, name
    assert "Z1" not in ready.arrays and "Z1" in first.stage.arrays
    if edit:
        np.testing.assert_array_equal(ready.arrays["X"][1], [0.25, -1.5, 2.0])


def test_the_next_batch_is_the_one_the_next_step_reads_across_epochs_and_shuffles(toy):
    t = Trainer(TOY.with_(batch_size=3), toy.train)  # 4 samples: batches of 3 and 1, reshuffled each epoch
    orders = set()
    for _ in range(8):
        idx, x, y = t.next_batch()
        r = t.finish_step()
        np.testing.assert_array_equal(idx, r.batch_indices)
        np.testing.assert_array_equal(x, r.arrays["X"])
        np.testing.assert_array_equal(y, r.arrays["Y"])
        assert not (idx.flags.writeable or x.flags.writeable or y.flags.writeable)
        orders.add(tuple(idx))
    assert len(orders) > 2  # the shuffles were exercised


def test_scrubbing_to_the_middle_and_back_loses_nothing(toy):
    run = Run.build(TOY, toy)
    run.advance("step")
    for _ in range(39):
        run.advance("step")
    end = run.snapshot()
    assert len(end.losses) == 40 and end.frontier == 40
    checkpoints = len(run.checkpoints)
    run.rewind_to_stage(20)  # the middle of the timeline
    mid = run.snapshot()
    assert mid.stage.step == 20 and mid.stage.step_end and mid.position == 21
    # counted from 0: steps 0 to 39 are on the timeline (frontier counts 40 steps done)
    assert mid.last_step == end.last_step == 39
    np.testing.assert_array_equal(mid.losses, end.losses)  # the loss curve is whole
    assert len(run.checkpoints) == checkpoints
    for _ in range(19):  # forward again: the same numbers, nothing appended twice
        run.advance("step")
    again = run.snapshot()
    same_stage(again, end)
    np.testing.assert_array_equal(again.losses, end.losses)
    seen = run.stats_history.view().steps.tolist()
    assert len(run.checkpoints) == checkpoints and len(seen) == len(set(seen)) and seen == sorted(seen)


def test_the_timeline_keeps_the_future_until_an_edit_in_the_past_branches_it(toy):
    run = Run.build(TOY, toy)
    for _ in range(10):
        run.advance("step")
    run.rewind_to_stage(4, 3)  # inside step 4
    assert run.in_past and run.frontier == 10
    run.edit_param("W1", (0, 0), 0.5)
    assert "new branch" in run.message and run.message_kind == "info"
    assert run.frontier == 4 and not run.in_past  # steps 4.. were the old future
    run.advance("step")
    assert run.frontier == 5 and run.snapshot().stage.arrays["W1"][0, 0] == 0.5


def test_an_edit_at_the_frontier_discards_nothing(toy):
    run = Run.build(TOY, toy)
    for _ in range(3):
        run.advance("step")
    run.advance("stage")
    run.edit_param("W2", (1, 0), -1.0)
    assert "branch" not in run.message and run.frontier == 3


@pytest.mark.parametrize("how", ["pass", "step", "epoch", "stage"])
def test_a_breakpoint_fires_in_every_way_of_advancing(toy, how):
    cfg = TOY.with_(batch_size=2)  # 2 steps an epoch, so an epoch is more than a step
    run = Run.build(cfg, toy, breakpoints=[Breakpoint("grad_rms", 1e-12)])  # any gradient fires it
    stopped = None
    for _ in range(40):
        r = run.advance(how)
        if r is None:
            stopped = run.snapshot()
            break
    assert stopped is not None, how
    assert stopped.stage.eq == "B2" and stopped.message_kind == "warning"
    name = {"pass": "Finish pass", "step": "Step batch", "epoch": "Step epoch", "stage": "Step"}[how]
    assert stopped.message.startswith("breakpoint: gradient RMS") and stopped.message.endswith(f"stopped by {name}")


def test_a_step_breakpoint_stops_step_epoch_at_that_step(toy):
    cfg = TOY.with_(batch_size=1)  # 4 steps an epoch
    run = Run.build(cfg, toy, breakpoints=[Breakpoint("step", 6)])
    run.advance("epoch")
    assert run.position == 4
    assert run.advance("epoch") is None and "step 6 done" in run.message
    assert run.snapshot().stage.step == 6 and run.position == 7  # step 6's last stage, on screen


def test_play_stops_at_a_breakpoint(toy):
    run = Run.build(TOY, toy, breakpoints=[Breakpoint("step", 25)])
    going = True
    while going:
        going = run.play(0.01, paced=False)
    assert run.snapshot().stage.step == 25 and run.snapshot().stage.step_end and run.position == 26
    assert run.message_kind == "warning" and run.message.endswith("stopped by Play")


def test_reset_is_a_new_run_with_nothing_of_the_old_one(toy):
    run = Run.build(TOY, toy, breakpoints=[Breakpoint("step", 500)])
    for _ in range(5):
        run.advance("step")
    run.say("edited", "info")
    new = run.replaced()
    snap = new.snapshot()
    assert snap.run_id != run.run_id
    assert len(snap.losses) == 0 and len(snap.stats_history) == 0 and snap.stage is None and snap.message == ""
    assert [b.kind for b in new.breakpoints.items] == ["step"]  # the user's breakpoints are settings, kept
    new.advance("step")
    first = Run.build(TOY, toy)
    first.advance("step")
    same_stage(new.snapshot(), first.snapshot())


def test_a_divergence_is_an_error_message_naming_the_stage(toy):
    run = Run.build(TOY.with_(hidden="identity", output_loss="identity-mse", lr=50.0), toy)
    with pytest.raises(ArithmeticError) as e:
        for _ in range(100):
            run.advance("step")
    msg = run.fail(e.value)
    assert msg.startswith("training stopped: non-finite value") and run.message_kind == "error"
    status = run.snapshot().status
    assert f"stopped: the next stage, {e.value.spec.eq}" in status and "last finite stage" in status


def test_session_round_trip_builds_a_whole_new_run(toy, tmp_path):
    from bpviz.engine.session import load_session
    run = Run.build(TOY, toy, breakpoints=[Breakpoint("step", 9)])
    for _ in range(4):
        run.advance("step")
    run.advance("stage")
    path = tmp_path / "s.bpviz"
    run.save_session(str(path))
    back = Run.from_session(load_session(path), toy)
    assert back.run_id != run.run_id and back.message.startswith("session loaded")
    same_stage(back.snapshot(), run.snapshot())
    assert [b.value for b in back.breakpoints.items] == [9]


def test_stepping_back_before_any_stage_says_why_nothing_happens(toy, tmp_path):
    """Left before the first equation: a new run has computed nothing; a session opened at
    step 4 keeps nothing before it. Neither is "the first stage"."""
    from bpviz.engine.session import load_session
    run = Run.build(TOY, toy)
    run.step_back()
    assert run.message.startswith("no equation has been computed yet") and run.snapshot().stage is None
    for _ in range(4):
        run.advance("step")
    run.save_session(str(tmp_path / "s.bpviz"))
    back = Run.from_session(load_session(tmp_path / "s.bpviz"), toy)
    back.step_back()
    assert back.message.startswith("the timeline starts at step 4") and back.snapshot().stage is None
    back.advance("stage")  # step 4's first equation
    back.step_back()
    assert back.message.startswith("the timeline starts at step 4") and back.snapshot().stage.step == 4


def test_warnings_when_most_units_are_saturated():
    cfg = NetConfig((3, 4, 1), hidden="sigmoid", output_loss="sigmoid-mse")
    assert health_warnings({1: {"inactive_share": 1.0}}, cfg) == (
        "layer 1: 100% of its units are saturated (sigmoid); their gradients are nearly zero",)
    assert health_warnings({1: {"inactive_share": 0.5}}, cfg) == ()
    relu = cfg.with_(hidden="relu")
    assert "dead" in health_warnings({1: {"inactive_share": 0.8}}, relu)[0]


def test_a_diverging_sigmoid_net_warns_of_saturation(toy):
    run = Run.build(TOY.with_(lr=1e4), toy)
    for _ in range(200):
        run.advance("step")
    run.advance("pass")
    assert any("saturated" in w for w in run.snapshot().warnings)


def test_fit_to_data_keeps_hidden_layers(toy):
    cfg, note = fit_to_data(get_preset("mnist").config, toy)
    assert cfg.sizes == (3, 128, 1) and cfg.output_loss == "sigmoid-mse" and cfg.batch_size == 0
    assert note.startswith("the network was fitted to toy")
    same, none = fit_to_data(TOY, toy)
    assert same == TOY and none == ""


def test_a_series_view_never_changes_after_it_is_handed_out():
    from bpviz.engine.series import Series
    s = Series([1.0, 2.0])
    first = s.view()
    for k in range(200):  # grows past its capacity several times
        s.append(float(k))
    assert list(first) == [1.0, 2.0] and not first.flags.writeable
    before = s.view()
    s.truncate(5)  # a branch
    s.append(-1.0)
    assert before[5] == 3.0 and s.view()[5] == -1.0 and len(s) == 6
    assert s[-1] == -1.0 and list(s[:2]) == [1.0, 2.0]


def test_checkpoints_count_their_real_cost_so_the_budget_bounds_memory(toy):
    from bpviz.engine.run import CHECKPOINT_OVERHEAD
    run = Run.build(TOY, toy, history_mb=0.1)
    run._checkpoint_every = 10  # as often as for 784-128-10, so the budget fills in a few thousand steps
    going = True
    while run.position < 5000 and going:
        going = run.play(0.05, paced=False)
    assert run.history_bytes <= 0.1 * 2**20
    per = CHECKPOINT_OVERHEAD + 16 * 8  # 3x4 + 4x1 float64 weights, no biases
    # the budget counts the loss history too: the checkpoints have what it leaves
    assert len(run.checkpoints) == (run.history_bytes - run.loss_bytes) // per and run.history_dropped > 0


def test_smaller_networks_keep_fewer_checkpoints_while_playing():
    from bpviz.engine.run import checkpoint_interval
    assert checkpoint_interval(784 * 128 + 128 + 128 * 10 + 10) == 10  # recomputing 10 steps: ~10 ms
    assert checkpoint_interval(16) == 1000  # the toy net: 1,000 steps are as cheap
    assert 10 < checkpoint_interval(2 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2) <= 1000  # spiral's 2-8-8-2


def test_full_speed_play_stops_each_chunk_at_a_step_end_so_every_frame_shows_the_same_stage(toy):
    """Unpaced chunks end at a step's last stage (a pause stops at the stage on screen),
    however short the chunk; paced Play still moves one stage at a time."""
    run = Run.build(TOY, toy)
    seen = set()
    for _ in range(25):
        assert run.play(0.0, paced=False)
        snap = run.snapshot(0, playing=True)
        assert snap.stage.step_end and snap.stage.index == snap.stage.n_stages - 1
        seen.add(snap.stage.step)
    assert len(seen) == 25  # one step a chunk here: a step of the toy net is shorter than any chunk
    before = run.trainer.last.index
    assert run.play(0.0, paced=True)
    assert run.trainer.last.index == (before + 1) % run.trainer.last.n_stages


# -- a long run's loss history, folded to fit the budget ----------------------------------

FOUR_BATCHES = TOY.with_(batch_size=1)  # the toy set's 4 samples one at a time: epoch means of 4 steps
SMALL_MB = 0.05  # a loss share of ~3,300 points: folds within a few thousand toy steps


def played(run: Run, steps: int, checkpoint_every: int = 50) -> Run:
    """`steps` more steps as at full speed (checkpoints every `checkpoint_every` steps), exactly."""
    run.full_speed, run._checkpoint_every = True, checkpoint_every
    run.trainer.run_steps(steps)
    run.full_speed = False
    return run


def mean_of_each_point(series, plain) -> list[float]:
    """What each point of `series` must be: the mean of the steps it covers in `plain`."""
    from bpviz.engine.series import spans
    first, width = spans(series.folds, len(series))
    return [float(np.mean(plain[a:a + w])) for a, w in zip(first.tolist(), width.tolist())]


@pytest.mark.parametrize("cfg", [TOY, FOUR_BATCHES], ids=["toy", "four-batches"])
def test_a_long_run_folds_its_losses_to_stay_within_their_share_of_the_budget(toy, cfg):
    from bpviz.engine.run import LOSS_SHARE
    run = Run.build(cfg, toy, history_mb=SMALL_MB)
    while run.frontier < 20_000:
        run.play(0.02, paced=False)
        assert run.loss_bytes <= LOSS_SHARE * run.history_budget and run.history_bytes <= run.history_budget
    plain = Trainer(cfg, toy.train)  # the same run, its losses kept whole
    plain.run_steps(run.frontier)
    losses, epochs = list(plain.losses), list(plain.epoch_losses)
    assert run.losses.folds and len(run.losses) < run.frontier / 4
    np.testing.assert_allclose(run.losses.view(), mean_of_each_point(run.losses, losses), rtol=1e-12)
    np.testing.assert_allclose(run.epoch_losses.view(), mean_of_each_point(run.epoch_losses, epochs), rtol=1e-12)
    exact = run.frontier - run.losses.exact_from
    assert exact >= len(run.losses) / 3 and run.losses.view()[-exact:].tolist() == losses[-exact:]
    # every position the timeline can go back to has the exact losses of its epoch
    assert run.checkpoints[0][0].epoch * run.trainer.n_batches >= run.losses.exact_from
    assert run.snapshot().loss_folds == run.losses.folds


@pytest.mark.parametrize("cfg", [TOY, FOUR_BATCHES], ids=["toy", "four-batches"])
def test_going_back_and_editing_after_a_fold_gives_the_numbers_of_a_run_that_kept_everything(toy, cfg):
    small, whole = played(Run.build(cfg, toy, history_mb=SMALL_MB), 12_000), played(Run.build(cfg, toy), 12_000)
    assert small.losses.folds and not whole.losses.folds
    target = small.checkpoints[0][0].steps_done + 7  # as far back as the folded run reaches
    assert target < small.frontier - 500
    for run in (small, whole):
        run.rewind_to_stage(target, 3)
    same_stage(small.snapshot(), whole.snapshot())
    for run in (small, whole):
        run.step_back()
        run.advance("epoch")  # forward through the past: replayed, not recorded again
    same_stage(small.snapshot(), whole.snapshot())
    assert small.frontier == whole.frontier == 12_000
    for run in (small, whole):
        run.edit_param("W1", (0, 0), 0.5)  # a new branch, cut in the folded run's exact part
        assert "new branch" in run.message
        played(run, 3000)
    same_stage(small.snapshot(), whole.snapshot())
    for s, w in ((small.losses, whole.losses), (small.epoch_losses, whole.epoch_losses)):
        exact = s.steps - s.exact_from
        assert s.steps == w.steps and exact > 0
        np.testing.assert_array_equal(s.view()[len(s) - exact:], w.view()[s.exact_from:])
        np.testing.assert_allclose(s.view(), mean_of_each_point(s, w.view()), rtol=1e-12)


def test_a_folded_history_survives_a_session_round_trip(toy, tmp_path):
    from bpviz.engine.session import load_session
    run = played(Run.build(FOUR_BATCHES, toy, history_mb=SMALL_MB), 10_001)  # mid-epoch
    assert run.losses.folds and run.epoch_losses.folds
    run.advance("stage")
    run.save_session(str(tmp_path / "long.bpviz"))
    back = Run.from_session(load_session(tmp_path / "long.bpviz"), toy, history_mb=SMALL_MB)
    assert back.losses == run.losses and back.epoch_losses == run.epoch_losses  # points and folds
    assert back.frontier == run.frontier == 10_001
    for r in (run, back):
        played(r, 2000)
    same_stage(run.snapshot(), back.snapshot())
    assert back.losses == run.losses and back.epoch_losses == run.epoch_losses



def test_a_folded_history_exports_each_row_with_the_steps_it_covers(toy, tmp_path):
    from bpviz.files import save_losses_csv
    run = played(Run.build(FOUR_BATCHES, toy, history_mb=SMALL_MB), 12_000)
    snap = run.snapshot()
    save_losses_csv(tmp_path / "l.csv", snap.losses, snap.epoch_losses, 4, (), snap.loss_folds, snap.epoch_loss_folds)
    header, *lines = (tmp_path / "l.csv").read_text().splitlines()
    assert header == "first_step,step,loss,epoch_mean_loss,test_accuracy"
    rows = [line.split(",") for line in lines]
    loss_rows = [(int(a), int(b), float(v)) for a, b, v, _, _ in rows if v]
    epoch_rows = [(int(a), int(b), float(e)) for a, b, _, e, _ in rows if e]
    # every step once, counted from 0 as the window counts them
    assert [a for a, _, _ in loss_rows] == [0] + [b + 1 for _, b, _ in loss_rows[:-1]]
    assert loss_rows[-1][1] == 11_999 and len(loss_rows) == len(snap.losses)
    assert [v for _, _, v in loss_rows] == snap.losses.tolist()
    plain = Trainer(FOUR_BATCHES, toy.train)
    plain.run_steps(12_000)
    for a, b, v in loss_rows[::97]:
        assert v == pytest.approx(np.mean(list(plain.losses)[a:b + 1]), rel=1e-12)
    for a, b, v in epoch_rows[::97]:  # the epochs ending in steps a to b: from a-3 to b
        assert a % 4 == 3 and b % 4 == 3 and v == pytest.approx(np.mean(list(plain.losses)[a - 3:b + 1]), rel=1e-12)
    assert len(epoch_rows) == len(snap.epoch_losses) and epoch_rows[-1][:2] == (11_999, 11_999)


def test_full_speed_play_in_whole_steps_keeps_what_play_stage_by_stage_keeps(monkeypatch):
    """With no breakpoint to watch, full-speed Play runs whole steps in the trainer's hot
    loop and the run sees each step's start and end only: its checkpoints, losses,
    per-layer figures and test accuracy must be those of stages observed one by one."""
    from bpviz.engine import run as run_module
    from bpviz.engine.stats import KEYS
    monkeypatch.setattr(run_module, "STEP_END_GRACE", 60.0)  # whole steps however busy the machine
    data = load_run_data("spiral")  # 40 steps an epoch, a test set: accuracy at each epoch's end
    cfg = get_preset("spiral").config
    whole = []
    play_steps = run_module.Run._play_steps
    monkeypatch.setattr(run_module.Run, "_play_steps", lambda self, d: whole.append(1) or play_steps(self, d))
    fast = Run.build(cfg, data)
    fast._checkpoint_every = 7  # several checkpoints within the run (a net this small keeps few)
    fast.advance("stage")  # Play from the middle of a step, as after a Step
    while fast.frontier < 130:
        fast.play(0.002, paced=False)
    assert whole and fast.trainer.last.step_end
    slow = Run.build(cfg, data)
    slow._checkpoint_every = 7
    slow.advance("stage")
    slow.full_speed = True  # checkpoints and figures at full speed's intervals
    for _ in range(fast.frontier):
        slow.advance("step")
    a, b = fast.snapshot(), slow.snapshot()
    assert len(fast.checkpoints) > 10
    assert [c.steps_done for c, _ in fast.checkpoints] == [c.steps_done for c, _ in slow.checkpoints]
    for (c, _), (d, _) in zip(fast.checkpoints, slow.checkpoints):
        for (w, bias), (v, bias2) in zip(c.params, d.params):
            np.testing.assert_array_equal(w, v)
            np.testing.assert_array_equal(bias, bias2)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.epoch_losses, b.epoch_losses)
    assert len(a.test_accuracy) == fast.frontier // 40 and a.test_accuracy == b.test_accuracy
    np.testing.assert_array_equal(a.stats_history.steps, b.stats_history.steps)
    for key in KEYS:
        for layer in range(1, cfg.n_layers + 1):
            np.testing.assert_array_equal(a.stats_history.column(key, layer), b.stats_history.column(key, layer))
    for (w, bias), (v, bias2) in zip(a.params, b.params):
        np.testing.assert_array_equal(w, v)
        np.testing.assert_array_equal(bias, bias2)
    same_stage(a, b)


def test_full_speed_play_lets_a_steps_arrays_go_while_the_next_step_runs(toy, monkeypatch):
    """Full speed reuses memory: once a step's first stage is done, nothing holds the
    previous step's intermediate arrays (Z, A, Δ, ∂L/∂W...). Held through the next step,
    every step took fresh memory, and Play on 784-128-10 ran some 7% slower."""
    import weakref

    from bpviz.engine import run as run_module
    monkeypatch.setattr(run_module, "STEP_END_GRACE", 60.0)  # whole steps however busy the machine
    run = Run.build(TOY, toy)
    run.play(0.0, paced=False)  # the first step is timed stage by stage; whole steps from now on
    t = run.trainer
    step_arrays: dict[int, list] = {}  # step -> weak references to what it computed
    seen = []  # (step, whether the previous step's arrays were all gone at its second stage)

    def watched(stages):
        for r in stages:
            if r.index == 1 and r.step - 1 in step_arrays:
                seen.append((r.step, all(ref() is None for ref in step_arrays.pop(r.step - 1))))
            if r.step_end:  # its intermediate arrays; not its inputs, which live on elsewhere
                step_arrays[r.step] = [weakref.ref(a) for k, a in r.arrays.items()
                                       if k.startswith(("Z", "A", "Delta", "dA", "dW", "db")) and k != "A0"]
            yield r
    t._gen = watched(t._gen)
    run.play(0.0, paced=False)  # one whole step: nothing to compare yet
    run.play(0.05, paced=False)  # at least one step's chunk: the check happens within it
    assert len(seen) >= 2, seen
    assert all(gone for _, gone in seen), seen


def test_full_speed_play_goes_stage_by_stage_when_a_step_is_long(toy, monkeypatch):
    """A step longer than STEP_END_GRACE is played stage by stage, so that a pause is
    answered within the step; so is every step while a breakpoint is set."""
    from bpviz.engine import run as run_module
    whole = []
    play_steps = run_module.Run._play_steps
    monkeypatch.setattr(run_module.Run, "_play_steps", lambda self, d: whole.append(1) or play_steps(self, d))
    monkeypatch.setattr(run_module, "STEP_END_GRACE", 60.0)  # a short step however busy the machine
    run = Run.build(TOY, toy)
    run.play(0.0, paced=False)  # the first step is timed stage by stage
    assert not whole and run._step_seconds < run_module.STEP_END_GRACE
    run.play(0.0, paced=False)
    assert len(whole) == 1  # a toy step: whole steps from now on
    run.breakpoints.items.append(Breakpoint("step", 10**6))  # never reached here
    run.play(0.0, paced=False)
    assert len(whole) == 1
    run.breakpoints.items.clear()
    monkeypatch.setattr(run_module, "STEP_END_GRACE", 0.0)
    run.play(0.0, paced=False)
    assert len(whole) == 1


def test_full_speed_play_measures_test_accuracy_aside_and_only_a_frame_of_play_goes_without(tmp_path, monkeypatch):
    """At full speed an epoch's test accuracy is measured on a background thread: a frame of
    Play takes the results finished so far, and the run is never more than one epoch behind;
    a paused snapshot, a saved session and an edit in the past wait for every one, and the
    figures are those measured in line."""
    import threading
    from concurrent.futures import Future
    from bpviz.engine import run as run_module
    from bpviz.engine.network import accuracy
    from bpviz.engine.session import load_session
    jobs = []  # (future, args): finished only when the test says

    def held(*args):
        jobs.append((Future(), args))
        return jobs[-1][0]

    def finish(k):
        job, args = jobs[k]
        job.set_result(accuracy(*args))

    def finish_later(k):  # while the reader waits (a reader that does not wait hangs the test)
        threading.Timer(0.05, finish, (k,)).start()

    def play_to(run, step):
        while run.frontier < step:
            run.play(0.0, paced=False)  # one step a call

    monkeypatch.setattr(run_module, "_measure_aside", held)
    data = load_run_data("spiral")  # 40 steps an epoch, a test set
    cfg = get_preset("spiral").config
    inline = Run.build(cfg, data)
    for _ in range(3):
        inline.advance("epoch")
    assert not jobs and [s for s, _ in inline.test_accuracy] == [40, 80, 120]
    fast = Run.build(cfg, data)
    play_to(fast, 40)
    assert len(jobs) == 1 and fast.snapshot(playing=True).test_accuracy == ()
    finish(0)
    assert fast.snapshot(playing=True).test_accuracy == tuple(inline.test_accuracy[:1])
    play_to(fast, 80)
    finish_later(1)
    play_to(fast, 120)  # the third epoch's end waits for the second's figure
    assert len(jobs) == 3 and fast.snapshot(playing=True).test_accuracy == tuple(inline.test_accuracy[:2])
    fast.rewind_to_stage(100)  # before the third epoch's end, whose measure is still running
    finish_later(2)
    fast.edit_param("W1", (0, 0), 0.5)  # a branch: the third epoch's figure goes with its future
    assert fast.snapshot().test_accuracy == tuple(inline.test_accuracy[:2])
    play_to(fast, 120)  # the new branch's third epoch
    finish_later(3)
    fast.save_session(str(tmp_path / "s.npz"))
    saved = load_session(str(tmp_path / "s.npz")).test_accuracy
    assert len(jobs) == 4 and saved[:2] == tuple(inline.test_accuracy[:2]) and saved[2][0] == 120
    assert saved[2][1] != inline.test_accuracy[2][1]  # measured on the edited branch
    fast.full_speed = False  # paused: in line again
    fast.advance("epoch")
    assert len(jobs) == 4 and fast.snapshot().test_accuracy == saved + (fast.test_accuracy[-1],)
    assert fast.test_accuracy[-1][0] == 160


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have their own priority on Linux")
def test_the_test_accuracy_thread_gives_way_to_the_window():
    """The background thread runs at a low priority, so that on two cores the window's
    thread, which shares the core the training leaves, is not kept waiting by it."""
    import os
    import threading
    from bpviz.engine import run as run_module
    data = load_run_data("spiral")
    run = Run.build(get_preset("spiral").config, data)
    assert run_module._measure_aside(run.trainer.params, run.cfg, data.test, run.trainer.dtype).result() > 0
    pool = run_module._accuracy_pool[1]
    nice = pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    assert nice == run_module.ASIDE_NICE
