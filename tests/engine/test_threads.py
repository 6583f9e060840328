"""The BLAS thread count is chosen from the free cores, and --threads overrides it."""
import numpy  # noqa: F401 (loads the BLAS pool threadpoolctl looks at)
import pytest

from bpviz.engine import threads


@pytest.fixture(autouse=True)
def no_request():
    threads.request(None)
    yield
    threads.request(None)


@pytest.mark.parametrize("cores, load, reserve, want", [
    (1, 0.0, 0, 1), (2, 0.0, 0, 1), (2, 0.0, 1, 1),  # two cores or fewer: always one
    (8, 0.0, 0, 8), (8, 0.0, 1, 7), (8, 2.3, 1, 4),  # the rest: what the load and the caller leave
    (4, 9.0, 0, 1),  # a saturated machine still gets one
])
def test_choice_from_cores_and_load(monkeypatch, cores, load, reserve, want):
    monkeypatch.setattr(threads, "usable_cores", lambda: cores)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    assert threads.choose(reserve) == want


def test_request_overrides_and_refuses_zero(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    threads.request(3)
    assert threads.choose(reserve=1) == 3
    with pytest.raises(ValueError):
        threads.request(0)


def test_limit_sets_the_blas_pool():
    if threads.current() is None:
        pytest.skip("threadpoolctl sees no BLAS pool here")
    before = threads.current()
    lim = threads.limit(1)
    try:
        assert threads.current() == 1
    finally:
        lim.restore_original_limits()
    assert threads.current() == before


@pytest.mark.parametrize("bad", ["0", "-1", "x", "1.5", "100000"])
def test_cli_threads_option_is_validated(capsys, bad):
    from bpviz.cli import main
    with pytest.raises(SystemExit) as e:
        main(["train", "--threads", bad, "--steps", "1"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--threads" in err[0] and repr(bad) in err[0]


def test_cli_threads_option_is_applied_for_the_command_only(monkeypatch):
    import bpviz.cli as cli
    if threads.current() is None:
        pytest.skip("threadpoolctl sees no BLAS pool here")
    before = threads.current()
    seen = []
    real = cli.cmd_train
    monkeypatch.setattr(cli, "cmd_train", lambda args: seen.append(threads.current()) or real(args))
    assert cli.main(["train", "--threads", "1", "--steps", "1"]) == 0
    assert seen == [1]
    assert threads.current() == before
