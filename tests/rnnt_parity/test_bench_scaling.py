"""`bench loss --plot`: the sweep's shapes, the log-log slope, the figure, failed points."""

from __future__ import annotations

import math

import pytest

from rnnt_parity import bench
from rnnt_parity.bench_scaling import log_log_slope, run_scaling_sweep, sweep_shapes

TINY_BASE = (1, 4, 2, 3)


@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.0, 3.0])
def test_the_log_log_slope_of_a_power_law_is_its_exponent(exponent):
    sizes = [10, 20, 40, 80, 160]
    assert log_log_slope(sizes, [3e-4 * size**exponent for size in sizes]) == \
        pytest.approx(exponent)


def test_the_log_log_slope_of_one_point_is_nan():
    assert math.isnan(log_log_slope([10], [1.0]))


def test_each_axis_is_multiplied_by_each_factor_with_the_others_held_at_the_base():
    assert sweep_shapes((4, 150, 40, 29), (1, 2)) == {
        "T": [(4, 150, 40, 29), (4, 300, 40, 29)],
        "U": [(4, 150, 40, 29), (4, 150, 80, 29)],
        "V": [(4, 150, 40, 29), (4, 150, 40, 58)]}


@pytest.mark.parametrize("suffix, marker", [(".png", b"\x89PNG"), (".svg", b"<svg")])
def test_a_tiny_sweep_writes_the_figure_in_the_format_of_its_suffix(tmp_path, monkeypatch,
                                                                     suffix, marker):
    monkeypatch.setattr(bench, "measure", bench.measure_in_this_process)
    path = tmp_path / f"scaling{suffix}"
    run_scaling_sweep(path, TINY_BASE, (1, 2), repeats=1,
                      implementations=["oracle", "torchaudio"], out=lambda line: None)
    assert marker in path.read_bytes()[:4096]


def test_a_failed_implementation_is_printed_on_its_rows_and_has_no_slope(tmp_path):
    lines = []
    result = run_scaling_sweep(tmp_path / "scaling.png", TINY_BASE, (1, 2), repeats=1,
                               implementations=["no_such_loss"], out=lines.append)
    assert sum("no_such_loss" in line and "KeyError" in line for line in lines) == 4
    assert all(math.isnan(slope) for slope in result["slopes"]["no_such_loss"].values())
    assert (tmp_path / "scaling.png").stat().st_size > 0
