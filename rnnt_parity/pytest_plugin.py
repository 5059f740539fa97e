"""pytest plugin (entry point `pytest11`), active wherever rnnt-parity is installed.

* Registers the `gpu` and `slow` markers.
* Skips a `gpu`-marked test, with the reason, when CUDA is not available; with
  `--require-gpu` it fails instead, so that a GPU runner can never pass by skipping.
* Provides `rnnt_fixture_lattices`: the hand-worked RNN-T lattices, for users' own suites.
* Conformance: `--rnnt-parity-target KIND=PKG.MODULE:CALLABLE[?option=value&...]` (repeatable;
  KIND as in `rnnt-parity conform`, options as its flags: convention, device, profile,
  checkpoint, family, preset, model_input) runs that kit at collection and collects each of
  its checks as a test of the session; the `rnnt_parity_conforms` fixture is the same kit as
  a function for a user's own test: `rnnt_parity_conforms("rnnt-loss", "pkg.mod:fn")`
  raises AssertionError naming every failed check.
"""

from __future__ import annotations

import pytest

GPU_SKIP_REASON = "CUDA is not available (gpu-marked test)"
GPU_REQUIRED_FAILURE = "--require-gpu: CUDA is not available, and this test needs it"


def pytest_addoption(parser):
    group = parser.getgroup("rnnt-parity")
    group.addoption("--require-gpu", action="store_true", default=False,
                    help="fail, rather than skip, every gpu-marked test when CUDA is absent")
    group.addoption("--rnnt-parity-target", action="append", default=[],
                    metavar="KIND=PKG.MODULE:CALLABLE[?option=value&...]",
                    help="collect the conformance checks of KIND run against the callable")


def parse_target(spec: str) -> tuple[str, str, dict]:
    """"KIND=TARGET?key=value&..." -> (kind, target, options); pytest.UsageError if malformed."""
    from rnnt_parity.conform.run import KINDS, OPTIONS

    kind, equals, rest = spec.partition("=")
    target, _, query = rest.partition("?")
    if not equals or kind not in KINDS or not target:
        raise pytest.UsageError(f"--rnnt-parity-target {spec!r}: expected KIND=PKG.MODULE:"
                                f"CALLABLE with KIND one of {', '.join(KINDS)}")
    options = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key not in OPTIONS or not value:
            raise pytest.UsageError(f"--rnnt-parity-target {spec!r}: option {pair!r}; known: "
                                    f"{', '.join(OPTIONS)}")
        options[key] = value
    return kind, target, options


class ConformanceCheck(pytest.Item):
    """One check of a conformance report, as a test."""

    def __init__(self, *, outcome, **kwargs):
        super().__init__(**kwargs)
        self.outcome = outcome

    def runtest(self):
        if not (self.outcome.passed or self.outcome.declared):
            raise AssertionError(self.outcome.detail or "failed")

    def repr_failure(self, excinfo):
        example = self.outcome.example
        shrunk = "" if example is None else f"\nshrunk example: {example}"
        return f"{self.name}: {excinfo.value}{shrunk}"

    def reportinfo(self):
        return self.path, None, self.name


class ConformanceTarget(pytest.Collector):
    """The checks of one `--rnnt-parity-target`, run once at collection."""

    def __init__(self, *, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def collect(self):
        from rnnt_parity.conform.run import conform

        kind, target, options = parse_target(self.spec)
        report = conform(kind, target, **options)
        return [ConformanceCheck.from_parent(self, name=check.name, outcome=check)
                for check in report.checks]


def pytest_collection_modifyitems(session, config, items):
    for spec in config.getoption("rnnt_parity_target"):
        target = ConformanceTarget.from_parent(session, name=f"rnnt-parity[{spec}]", spec=spec)
        items.extend(target.collect())


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
def rnnt_parity_conforms():
    """`conforms(kind, target, **options)`: the report when every check passes, else
    AssertionError naming each failed check and its detail."""
    from rnnt_parity.conform.run import conform

    def conforms(kind: str, target: str, **options):
        report = conform(kind, target, **options)
        failed = [f"{c.name}: {c.detail}" for c in report.checks
                  if not (c.passed or c.declared)]
        if failed:
            raise AssertionError(f"{target} does not conform ({kind}):\n  " + "\n  ".join(failed))
        return report

    return conforms


@pytest.fixture(scope="session")
def rnnt_fixture_lattices():
    """The hand-worked RNN-T lattices shipped with rnnt-parity (list of RNNTFixture)."""
    from rnnt_parity.fixtures import load_rnnt_fixtures

    return load_rnnt_fixtures()
