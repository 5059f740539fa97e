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
