"""`rnnt-parity bench loss`: every implementation in its own process, and one that fails is
reported on its own row without stopping the others; a child's environment."""

from rnnt_parity.bench import (
    LOSS_IMPLEMENTATIONS,
    installed_loss_implementations,
    run_in_child,
    run_loss_benchmark,
)


def test_the_oracle_and_torchaudio_are_always_installed_and_come_first():
    assert installed_loss_implementations()[:2] == ["oracle", "torchaudio"]
    assert set(installed_loss_implementations()) <= set(LOSS_IMPLEMENTATIONS)


def test_an_implementation_that_fails_is_reported_on_its_row_and_the_rest_still_run():
    lines = []
    rows = run_loss_benchmark([(1, 3, 1, 4)], repeats=1, out=lines.append,
                              implementations=["torchaudio", "no_such_loss"])
    assert [row["implementation"] for row in rows] == ["torchaudio"]
    failed = next(line for line in lines if "no_such_loss" in line)
    assert "failed: (exit status 1)" in failed and "KeyError" in failed


def test_a_child_gets_the_environment_variables_it_is_given():
    assert run_in_child("os:getenv", "RNNT_PARITY_PROBE", env={"RNNT_PARITY_PROBE": "set"}) \
        == "set"


def test_rounds_take_each_implementations_median_over_rounds_and_largest_peak(monkeypatch):
    from rnnt_parity import bench

    seconds = {"oracle": iter([0.5, 0.1, 0.2]), "torchaudio": iter([3.0, 1.0, 2.0])}
    calls = []

    def measured(name, shape, repeats):
        calls.append(name)
        if name == "broken":
            raise RuntimeError("broken(1,) failed (exit status 1):\nValueError: no")
        return {"median_s": next(seconds[name]), "peak_extra_bytes": len(calls),
                "logits_bytes": 10}

    monkeypatch.setattr(bench, "measure", measured)
    results = bench.measure_in_rounds(["oracle", "torchaudio", "broken"], (1, 2, 3, 4), 1, 3)
    assert calls == ["oracle", "torchaudio", "broken", "oracle", "torchaudio", "oracle",
                     "torchaudio"]
    assert results["oracle"]["median_s"] == 0.2 and results["torchaudio"]["median_s"] == 2.0
    assert results["oracle"]["peak_extra_bytes"] == 6
    assert "ValueError" in results["broken"]["error"]


def test_the_tdt_table_gives_each_shapes_ratio_and_the_targets_verdict(monkeypatch):
    from rnnt_parity import bench

    seconds = {"oracle": 0.010, "tdt-oracle": 0.025}
    monkeypatch.setattr(bench, "measure", lambda name, shape, repeats: {
        "median_s": seconds[name] * shape[0], "peak_extra_bytes": 1, "logits_bytes": 1})
    lines = []
    rows = bench.run_tdt_benchmark([(1, 2, 3, 4), (2, 2, 3, 4)], repeats=1, out=lines.append)
    assert [round(row["ratio"], 6) for row in rows] == [2.5, 2.5]
    assert lines[-1].endswith("worst 2.50, NOT met")
    seconds["tdt-oracle"] = 0.015
    lines.clear()
    bench.run_tdt_benchmark([(1, 2, 3, 4)], repeats=1, out=lines.append)
    assert lines[-1].endswith("worst 1.50, met")


def test_the_tdt_oracle_runs_in_a_child_on_tdt_inputs():
    result = run_in_child("rnnt_parity.bench:measure_in_this_process", "tdt-oracle",
                          [1, 3, 1, 4], 1)
    assert result["logits_bytes"] == 1 * 3 * 2 * (4 + 5) * 4
