"""The Numba TDT kernel computes the spec's function: loss and gradient within 1e-12 over
random batches (sigma, omega, clamp, log-probs given, NaN padding, float32 input), impossible
targets, and its build (compiled once, then loaded from the on-disk cache)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impls.tdt import tdt_loss
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.strategies import tdt_batches
from tests.helpers import assert_comparisons_pass

SPEC_VS_NUMBA = tolerance_for("float64", "any", "tdt.oracle_spec_vs_numba")


def both(case, **options):
    args = case.arrays()
    return [tdt_loss(*args, blank=case.tokens.blank, reduction="none", implementation=which,
                     **options) for which in ("numba", "spec")]


def assert_same(found, spec):
    """Loss and gradient within SPEC_VS_NUMBA, scaled per utterance by max(1, |loss|)."""
    (loss, grad), (spec_loss, spec_grad) = found, spec
    magnitudes = np.where(np.isfinite(spec_loss), spec_loss, 1.0)
    assert_comparisons_pass([compare(loss, spec_loss, SPEC_VS_NUMBA, magnitudes),
                             compare(grad, spec_grad, SPEC_VS_NUMBA, magnitudes)])


def assert_numba_is_the_spec(case, **options):
    assert_same(*both(case, **options))


@settings(max_examples=60)
@given(tdt_batches(max_batch=3, max_frames=6, max_labels=3, max_duration=4,
                   hostile_padding=True),
       st.sampled_from([0.0, 0.05]), st.sampled_from([0.0, 0.3, 1.0]),
       st.sampled_from([-1.0, 0.2]))
def test_the_kernel_is_the_spec(case, sigma, omega, clamp):
    assert_numba_is_the_spec(case, sigma=sigma, omega=omega, clamp=clamp)


@settings(max_examples=30)
@given(tdt_batches(max_batch=2, max_frames=5, max_labels=2))
def test_the_kernel_is_the_spec_on_log_probs_given(case):
    assert_numba_is_the_spec(case, fused_log_softmax=False)


@settings(max_examples=30)
@given(tdt_batches(max_batch=2, max_frames=5, max_labels=2))
def test_the_kernel_is_the_spec_on_float32_input(case):
    logits, *rest = case.arrays()
    assert_same(*[tdt_loss(logits.astype(np.float32), *rest, blank=case.tokens.blank,
                           reduction="none", implementation=which)
                  for which in ("numba", "spec")])


def test_a_target_no_alignment_can_reach_costs_inf_with_a_nan_gradient_in_both():
    """Durations {2} only: two frames hold one blank and no label can be placed (a label of
    duration 2 from frame 0 would land on frame 2 = T)."""
    logits = np.zeros((1, 2, 2, 3 + 1))
    results = [tdt_loss(logits, np.array([[0]]), np.array([2]), np.array([1]), [2],
                        reduction="none", implementation=which) for which in ("numba", "spec")]
    for loss, grad in results:
        assert np.isposinf(loss[0]) and np.isnan(grad[0]).all()


def test_a_long_lattice_stays_within_1e_12_of_the_spec():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 40, 9, 6 + 5)) * 3
    targets = rng.integers(0, 5, (2, 8))
    args = (logits, targets, np.array([40, 31]), np.array([8, 5]), [0, 1, 2, 3, 4])
    assert_same(*[tdt_loss(*args, sigma=0.05, reduction="none", implementation=which)
                  for which in ("numba", "spec")])


CALL = ("import numpy as np\n"
        "from reference_impls.tdt import tdt_loss\n"
        "tdt_loss(np.zeros((1, 2, 2, 4)), np.array([[0]]), np.array([2]), np.array([1]),"
        " [0, 1])\n")


def test_a_second_process_loads_the_kernel_from_the_cache_instead_of_compiling():
    env = {**os.environ, "NUMBA_DEBUG_CACHE": "1"}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", CALL], capture_output=True, text=True,
                              env=env)
        assert done.returncode == 0, done.stderr
    log = done.stdout + done.stderr
    assert any("data loaded from" in line and "kernels.tdt_utterances-" in line
               for line in log.splitlines())
    assert "data saved to" not in log


@pytest.mark.parametrize("implementation", ["numba", "spec"])
@pytest.mark.parametrize("defect", ["NaN", "+inf", "tokens all -inf", "durations all -inf"])
def test_an_undefined_row_in_the_valid_region_is_refused_by_its_index(defect, implementation):
    logits = np.random.default_rng(0).standard_normal((2, 3, 3, 4 + 2))
    row = logits[1, 2, 1]
    if defect in ("NaN", "+inf"):
        row[2] = np.nan if defect == "NaN" else np.inf
    else:
        row[slice(0, 4) if defect.startswith("tokens") else slice(4, 6)] = -np.inf
    logits[0, :, 2] = np.nan  # padding of utterance 0: ignored
    with pytest.raises(ValueError, match=r"logits\[1, 2, 1\]"):
        tdt_loss(logits, np.array([[0, 1], [1, 0]]), np.array([3, 3]), np.array([1, 2]),
                 [0, 1], implementation=implementation)
