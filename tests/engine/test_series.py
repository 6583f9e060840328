"""The loss history's storage (bpviz.engine.series): bounded by folding its oldest values
into means of the steps they cover, the newest kept exact, views never changing."""
import numpy as np
import pytest

from bpviz.engine.series import Series, centres, folds_problem, spans, steps_covered


def grown(values, limit, keep=0) -> Series:
    s = Series()
    s.limit, s.keep = limit, keep
    for v in values:
        s.append(v)
    return s


def point_steps(folds, n):
    """(first, last) step, 1-based, of each point, worked out from the runs one by one."""
    out, at = [], 0
    for a, w, c in folds:
        assert a == at
        out += [(a + i * w + 1, a + (i + 1) * w) for i in range(c)]
        at = a + w * c
    return out + [(at + j + 1, at + j + 1) for j in range(n - len(out))]


@pytest.mark.parametrize("limit,keep", [(256, 0), (256, 100), (1024, 300), (512, 1)])
def test_a_bounded_series_folds_into_exact_means_and_keeps_the_newest_exact(limit, keep):
    plain = np.random.default_rng(limit + keep).normal(size=20_000).tolist()  # a value a step
    s = Series()
    s.limit, s.keep = limit, keep
    for k, v in enumerate(plain, 1):
        s.append(v)
        assert s.steps == k and s.nbytes <= 8 * limit  # the buffer never grows past the limit
        if k % 1999 == 0 or k == len(plain):
            assert s.folds and folds_problem(s.folds) is None
            steps = point_steps(s.folds, len(s))
            assert steps[-1][1] == k == steps_covered(s.folds, len(s))
            for (a, b), v in zip(steps, s.view()):  # every point is the mean of exactly its steps
                assert v == pytest.approx(np.mean(plain[a - 1:b]), rel=1e-12, abs=1e-15)
            exact = max(keep, limit // 2)  # a fold leaves at least the newest half exact
            assert s.view()[-exact:].tolist() == plain[k - exact:k]
            assert s.exact_from <= k - exact and s.at_step(k - 1) == plain[k - 1]
            assert s.at_step(s.exact_from - 1) is None
    first, width = spans(s.folds, len(s))
    assert [(a + 1, a + w) for a, w in zip(first.tolist(), width.tolist())] == point_steps(s.folds, len(s))
    # at the middle of its steps, counted from 0 (point_steps counts from 1)
    np.testing.assert_array_equal(centres(s.folds, len(s)), [(a + b) / 2 - 1 for a, b in point_steps(s.folds, len(s))])
    # the folded part has an even resolution: one width but for the last, partial block
    assert len(s.folds) <= 2 and all(w < s.folds[0][1] and c == 1 for _, w, c in s.folds[1:])


def test_views_handed_out_before_a_fold_never_change():
    s = grown(range(256), limit=256)
    before = s.view()
    s.append(256.0)  # full at its limit: this append folds
    assert s.folds and before.tolist() == list(map(float, range(256))) and not before.flags.writeable


def test_when_the_newest_it_must_keep_fill_the_limit_it_grows_rather_than_lose_them():
    s = grown(range(1000), limit=256, keep=600)  # an epoch of 600 steps must stay exact
    assert len(s) >= 600 and s.view()[-600:].tolist() == list(map(float, range(400, 1000)))
    assert s.steps == 1000


def test_cutting_keeps_the_exact_part_only():
    s = grown(range(3000), limit=256)
    cut = s.exact_from + 10
    part = s.upto(cut)
    assert part.steps == cut and part.folds == s.folds and part.view()[-1] == cut - 1
    with pytest.raises(ValueError, match="exact part"):
        s.upto(s.exact_from - 1)  # inside a folded point: which of its steps to keep is unknown
    s.truncate(cut)
    assert s == part and s.steps == cut
    s.append(-1.0)
    assert s.at_step(cut) == -1.0


def test_a_series_compares_with_a_list_only_while_nothing_is_folded():
    assert Series([1.0, 2.0]) == [1.0, 2.0] and Series([1.0, 2.0]) != [1.0] and Series() == []
    folded = grown(range(300), limit=256)
    assert folded != list(map(float, range(300))) and folded == Series.of(folded)
    assert np.mean(Series([1.0, 3.0])) == 2.0 and list(Series([1.0, 3.0])) == [1.0, 3.0]


def test_impossible_folds_are_named():
    assert folds_problem(((0, 4, 3), (12, 3, 1))) is None
    assert "follow step 0" in folds_problem(((1, 4, 3),))
    assert "follow step 12" in folds_problem(((0, 4, 3), (13, 2, 1)))
    assert "crosses a block of 4" in folds_problem(((0, 4, 1), (4, 2, 1), (6, 3, 1)))


def test_a_lowered_limit_is_reached_at_the_next_fold():
    s = grown(range(2000), limit=1024)
    s.limit = 256  # the owner lowered it while it could not fold (a Run in the past)
    s.append(2000.0)
    for v in range(2001, 2600):
        s.append(float(v))
    assert s.nbytes == 8 * 256 and s.steps == 2600 and s.view()[-1] == 2599.0
