"""`bench loss`'s first-call figures: compiling, a cold process with the cache, warm."""

from __future__ import annotations

import os

import pytest

from rnnt_parity import bench_first_call
from rnnt_parity.bench_first_call import first_call_in_child, first_call_in_this_process


def test_a_first_call_in_a_child_comes_back_as_positive_seconds_from_another_process():
    result = first_call_in_child((1, 3, 2, 4), 1)
    assert min(result[key] for key in ("first_call_s", "import_s", "warm_s")) > 0
    assert result["pid"] != os.getpid()


def test_the_compiling_child_gets_an_empty_cache_and_the_cold_one_a_later_child(monkeypatch):
    calls = []

    def child(shape, repeats, cache_dir=None):
        calls.append((cache_dir, cache_dir and os.listdir(cache_dir)))
        return {"first_call_s": 6.0, "import_s": 1.0, "warm_s": 2.0, "pid": len(calls)}

    monkeypatch.setattr(bench_first_call, "first_call_in_child", child)
    result = bench_first_call.measure_first_calls((1, 3, 2, 4), 1)
    assert calls[0][1] == []  # the compiling child: a cache folder of its own, empty
    assert [cache_dir for cache_dir, _ in calls[1:]] == [None, None]  # filling, then cold
    assert result["compiling"]["pid"] == 1 and result["cached"]["pid"] == 3
    assert result["cold_over_warm"] == 3.0


def test_a_first_call_is_refused_where_numba_is_already_imported():
    import numba  # noqa: F401

    with pytest.raises(RuntimeError, match="numba is already imported"):
        first_call_in_this_process((1, 3, 2, 4), 1)
