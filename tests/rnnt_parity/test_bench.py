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
