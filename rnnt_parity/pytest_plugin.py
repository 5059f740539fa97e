"""pytest plugin (entry point `pytest11`), active wherever rnnt-parity is installed.

* Registers the `gpu` and `slow` markers.
* Skips a `gpu`-marked test, with the reason, when CUDA is not available; with
  `--require-gpu` it fails instead, so that a GPU runner can never pass by skipping.
* Provides `rnnt_fixture_lattices`: the hand-worked RNN-T lattices, for users' own suites.
"""

from __future__ import annotations

import pytest

GPU_SKIP_REASON = "CUDA is not available (gpu-marked test)"
GPU_REQUIRED_FAILURE = "--require-gpu: CUDA is not available, and this test needs it"


def pytest_addoption(parser):
    group = parser.getgroup("rnnt-parity")
    group.addoption("--require-gpu", action="store_true", default=False,
                    help="fail, rather than skip, every gpu-marked test when CUDA is absent")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CUDA; skipped with a reason without it")
    config.addinivalue_line("markers", "slow: long searches; not selected by CI")


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") is not None and not cuda_available():
        if item.config.getoption("require_gpu"):
            pytest.fail(GPU_REQUIRED_FAILURE, pytrace=False)
        pytest.skip(GPU_SKIP_REASON)


@pytest.fixture(scope="session")
def rnnt_fixture_lattices():
    """The hand-worked RNN-T lattices shipped with rnnt-parity (list of RNNTFixture)."""
    from rnnt_parity.fixtures import load_rnnt_fixtures

    return load_rnnt_fixtures()
