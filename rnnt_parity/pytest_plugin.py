"""pytest plugin (entry point `pytest11`), active wherever rnnt-parity is installed.

* Registers the `gpu` and `slow` markers.
* Skips a `gpu`-marked test, with the reason, when CUDA is not available.
* Provides `rnnt_fixture_lattices`: the hand-worked RNN-T lattices, for users' own suites.
"""

from __future__ import annotations

import pytest

GPU_SKIP_REASON = "CUDA is not available (gpu-marked test)"


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CUDA; skipped with a reason without it")
    config.addinivalue_line("markers", "slow: long searches; not selected by CI")


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") is not None and not cuda_available():
        pytest.skip(GPU_SKIP_REASON)


@pytest.fixture(scope="session")
def rnnt_fixture_lattices():
    """The hand-worked RNN-T lattices shipped with rnnt-parity (list of RNNTFixture)."""
    from rnnt_parity.fixtures import load_rnnt_fixtures

    return load_rnnt_fixtures()
