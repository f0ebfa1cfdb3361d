"""Tests of stablernn.timing: what ``best_seconds`` calls and returns (never how fast anything is)."""

import math

import pytest

from stablernn.timing import best_seconds


def test_best_seconds_runs_warmup_then_repeats_and_returns_a_duration():
    calls = []
    seconds = best_seconds(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6
    assert isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0


def test_best_seconds_returns_the_fastest_call(monkeypatch):
    """Fake clock: calls take 3, 1 and 2 ticks; the fastest is reported."""
    from types import SimpleNamespace

    import stablernn.timing as timing

    ticks = iter([0, 3, 10, 11, 20, 22])
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    assert best_seconds(lambda: None, repeats=3) == 1


@pytest.mark.parametrize("kwargs, name", [({"repeats": 0}, "repeats"), ({"warmup": -1}, "warmup"),
                                          ({"repeats": 1.5}, "repeats")])
def test_best_seconds_rejects_bad_counts(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=f"^{name}"):
        best_seconds(lambda: None, **kwargs)
