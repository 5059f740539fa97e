"""The pytest plugin: the gpu marker's skip, --require-gpu, and the fixture for users."""

from __future__ import annotations

import pytest
import torch

GPU_TEST = """
import pytest

@pytest.mark.gpu
def test_needs_cuda():
    import torch
    assert torch.cuda.is_available()
"""

needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(),
                                   reason="checks what happens when CUDA is absent")


@needs_no_cuda
def test_a_gpu_test_skips_with_the_reason_without_cuda(pytester):
    pytester.makepyfile(GPU_TEST)
    result = pytester.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*CUDA is not available (gpu-marked test)*"])


@needs_no_cuda
def test_require_gpu_turns_the_skip_into_a_failure(pytester):
    pytester.makepyfile(GPU_TEST)
    result = pytester.runpytest_inprocess("--require-gpu", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--require-gpu: CUDA is not available*"])


def test_users_suites_get_the_hand_worked_lattices(pytester):
    pytester.makepyfile("""
def test_lattices(rnnt_fixture_lattices):
    assert len(rnnt_fixture_lattices) >= 10
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_target_s_checks_are_collected_as_tests(pytester):
    result = pytester.runpytest_inprocess(
        "--rnnt-parity-target", "rnnt-beam=rnnt_parity.models.beam:beam_search", "-v",
        "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*unpruned scores are the exact log P*PASSED*"])


def test_a_buggy_target_fails_with_each_failed_check_named(pytester):
    from tests.rnnt_parity.conform.known_bugs import DECODERS

    result = pytester.runpytest_inprocess(
        "--rnnt-parity-target", f"rnnt-greedy={DECODERS}greedy_padding_frames_emit?profile=ci",
        "-p", "no:cacheprovider")
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines(["*padding frames never emit*where the oracle decodes*"])


@pytest.mark.parametrize("spec, message", [
    ("rnnt-loss", "expected KIND=PKG.MODULE:CALLABLE"),
    ("tokenizer=pkg.mod:fn", "expected KIND=PKG.MODULE:CALLABLE"),
    ("rnnt-loss=pkg.mod:fn?colour=red", "option 'colour=red'"),
])
def test_a_malformed_target_is_a_usage_error(spec, message):
    from rnnt_parity.pytest_plugin import parse_target

    with pytest.raises(pytest.UsageError, match=message):
        parse_target(spec)


def test_the_fixture_names_every_failed_check(pytester):
    pytester.makepyfile("""
import pytest

def test_beam(rnnt_parity_conforms):
    assert rnnt_parity_conforms("rnnt-beam", "rnnt_parity.models.beam:beam_search").passed

def test_mutant(rnnt_parity_conforms):
    from tests.rnnt_parity.conform.known_bugs import DECODERS
    with pytest.raises(AssertionError, match="spent budget of 1"):
        rnnt_parity_conforms("rnnt-greedy", DECODERS + "greedy_budget_skips_a_frame")
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
