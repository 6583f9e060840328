"""The decision-boundary maps are the network evaluated on the grid, with the weights the
stage shows (the updated ones after U1)."""
import numpy as np

from bpviz.engine.boundary import grid_points, plane_extent
from bpviz.engine.network import predict
from bpviz.engine.presets import get_preset
from bpviz.engine.run import Run
from bpviz.runs import load_run_data


def test_the_output_map_is_the_network_on_the_grid():
    data = load_run_data("spiral")
    run = Run.build(get_preset("spiral").config, data)
    for _ in range(30):
        run.advance("step")
    b = run.snapshot().boundary
    g = b["output"].shape[0]
    pts = grid_points(b["extent"], g)  # (g*g, 2)
    params = run.trainer.params
    out = predict(params, pts.astype(run.cfg.dtype), run.cfg)  # (g*g, 2)
    np.testing.assert_allclose(b["output"], out[:, 1].reshape(g, g), rtol=1e-12)
    assert b["kind"] == "probability" and sorted(b["units"]) == [1, 2]
    assert b["units"][1].shape == (g, g, run.cfg.sizes[1])
    assert len(b["points"]) == data.train.n_samples and not b["output"].flags.writeable


def test_during_a_pass_the_weights_shown_and_after_u1_the_updated_ones():
    data = load_run_data("xor")
    run = Run.build(get_preset("xor").config, data)
    run.advance("pass")  # the backward pass is done, nothing updated yet
    before = run.snapshot().boundary["output"]
    w_before = run.trainer.params
    run.advance("stage")  # U1 of layer 1: only W1 moved
    r = run.trainer.last
    assert r.eq == "U1" and r.layer == 1
    after = run.snapshot().boundary
    g = after["output"].shape[0]
    pts = grid_points(after["extent"], g)
    mixed = ((r.arrays["W1_after"], r.arrays["b1_after"]), w_before[1])
    np.testing.assert_allclose(after["output"], predict(mixed, pts, run.cfg)[:, 1].reshape(g, g), rtol=1e-12)
    assert not np.array_equal(after["output"], before)


def test_a_data_set_without_two_features_has_no_boundary():
    run = Run.build(get_preset("toy").config, load_run_data("toy"))
    assert run.snapshot().boundary is None


def test_the_plane_surrounds_the_samples():
    x = np.array([[0.0, -1.0], [2.0, 3.0]])
    x0, x1, y0, y1 = plane_extent(x)
    assert x0 < 0 < 2 < x1 and y0 < -1 < 3 < y1
