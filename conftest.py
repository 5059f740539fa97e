"""Test configuration: hypothesis profiles and the `device` fixture.

Hypothesis profile, chosen by RNNT_PARITY_HYPOTHESIS_PROFILE (default "ci" under CI=true,
else "dev"):
    ci        derandomized, no deadline, 200 examples: reproducible, about a minute here.
    dev       random, no deadline, 100 examples: the everyday local run.
    thorough  random, no deadline, 2,000 examples: long searches, run by hand.

The `gpu` marker and its skip-without-CUDA rule come from rnnt_parity.pytest_plugin (loaded
through the pytest11 entry point, so users' suites get them too).
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

from rnnt_parity.pytest_plugin import GPU_SKIP_REASON
from rnnt_parity.strategies import HYPOTHESIS_PROFILES

pytest_plugins = ("pytester",)

# function_scoped_fixture: `device` and the stand-in module are stateless across examples.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large,
               HealthCheck.function_scoped_fixture]
for _name, _options in HYPOTHESIS_PROFILES.items():
    settings.register_profile(_name, suppress_health_check=_SUPPRESSED, **_options)
PROFILE = os.environ.get("RNNT_PARITY_HYPOTHESIS_PROFILE",
                         "ci" if os.environ.get("CI") == "true" else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available"
    return [f"hypothesis profile: {PROFILE}", f"CUDA: {cuda}"]


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Each device a test runs on: always "cpu"; "cuda" skips with a reason without CUDA."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip(GPU_SKIP_REASON)
    return request.param
