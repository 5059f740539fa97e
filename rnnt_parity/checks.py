"""The registered parity checks that `rnnt-parity check` runs on the built-in fixtures.

For every hand-worked RNN-T and CTC fixture:
  * the oracle (Numba) against the hand derivation (loss, and gradient where derived);
  * the oracle's spec against its Numba kernels (float64);
  * every production backend, on every device here (and, for torch's CTC on CUDA, on both
    its native and cuDNN paths), against the oracle: loss and logits gradient on the valid
    region, float32; for a fixture with NaN padding, also the gradient on the padding (0).
    A backend or path that cannot run here is reported as skipped, with why; a difference
    that is a deviation the backend documents is reported as "deviates", by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from reference_impls.ctc import ctc_logits_gradient, ctc_loss
from reference_impls.rnnt import rnnt_loss
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.backends import RNNT_LOSS_BACKENDS, BackendUnavailable
from rnnt_parity.backends.base import valid_region_only
from rnnt_parity.backends.deviations import (
    classify_empty_batch,
    classify_impossible_alignment,
    classify_padding_gradient,
    classify_refusal,
    describe_padding_gradient,
)
from rnnt_parity.backends.torch_ctc import CTC_PATHS, TorchCTCLoss
from rnnt_parity.compare import Comparison, compare, ctc_magnitudes, rnnt_magnitudes, tolerance_for
from rnnt_parity.fixtures import AudioFixture, CTCFixture, RNNTFixture
from rnnt_parity.frontends.checks import N_MELS_VARIANTS, feature_comparison
from rnnt_parity.frontends.production import PRODUCTION_FRONTENDS
from rnnt_parity.strategies import rnnt_valid_region

CTC_BACKEND = TorchCTCLoss()

PASS, FAIL, SKIP, DEVIATES = "pass", "FAIL", "skip", "deviates"
"""DEVIATES: a production backend differs where its library is documented to (a named
deviation of `backends.deviations`, listed by the backend); any other difference is FAIL."""


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    check: str
    implementations: str
    max_abs: float | None
    max_rel: float | None
    tolerance: str
    verdict: str
    detail: str = ""


def _result(check, implementations, comparisons: list[Comparison]) -> CheckResult:
    passed = all(c.passed for c in comparisons)
    worst = max(comparisons, key=lambda c: c.max_abs)
    return CheckResult(check, implementations, worst.max_abs, max(c.max_rel for c in comparisons),
                       worst.tolerance.describe(), PASS if passed else FAIL)


def oracle(fixture: RNNTFixture, implementation="numba"):
    return rnnt_loss(fixture.logits, fixture.targets, fixture.logit_lengths,
                     fixture.target_lengths, blank=fixture.blank, reduction="none",
                     fastemit_lambda=fixture.fastemit_lambda, implementation=implementation)


def derivation_result(fixture, loss, grad, batch_axis=0) -> CheckResult:
    """The oracle's (loss, grad) against a fixture's hand-derived expectations."""
    comparisons = [compare(loss, fixture.expected_loss, fixture.tolerance, fixture.expected_loss)]
    if fixture.expected_grad is not None:
        comparisons.append(compare(grad, fixture.expected_grad, fixture.tolerance,
                                   fixture.expected_loss, batch_axis=batch_axis))
    what = "loss+grad" if fixture.expected_grad is not None else "loss"
    return _result(f"{fixture.name} [{what}]", "oracle vs hand derivation", comparisons)


def spec_vs_numba_result(fixture, spec, fast, quantity, batch_axis=0) -> CheckResult:
    """The oracle's two implementations' (loss, grad) against each other, float64."""
    tolerance = tolerance_for("float64", "any", quantity)
    return _result(f"{fixture.name} [float64]", "oracle spec vs numba", [
        compare(fast[0], spec[0], tolerance, spec[0]),
        compare(fast[1], spec[1], tolerance, spec[0], batch_axis=batch_axis)])


def check_against_derivation(fixture: RNNTFixture) -> CheckResult:
    return derivation_result(fixture, *oracle(fixture))


def check_spec_vs_numba(fixture: RNNTFixture) -> CheckResult:
    return spec_vs_numba_result(fixture, oracle(fixture, implementation="spec"), oracle(fixture),
                                "rnnt.oracle_spec_vs_numba")


def _run_backend(fixture: RNNTFixture, backend_name: str, device: str, dtype: str):
    """(result, None), or (None, CheckResult of a skip or of an error) for one fixture."""
    backend = RNNT_LOSS_BACKENDS[backend_name]
    check = f"{fixture.name} [{dtype}, {device}]"
    implementations = f"{backend_name} vs oracle"
    if fixture.fastemit_lambda:
        return None, CheckResult(check, implementations, None, None, "-", SKIP,
                                 f"{backend_name} has no FastEmit")
    try:
        return backend(fixture.logits, fixture.targets, fixture.logit_lengths,
                       fixture.target_lengths, blank=fixture.blank, reduction="none",
                       device=device, dtype=dtype), None
    except BackendUnavailable as reason:
        return None, CheckResult(check, implementations, None, None, "-", SKIP, str(reason))
    except Exception as error:  # the production library may raise anything
        refusal = classify_refusal(fixture.targets, fixture.target_lengths,
                                   np.shape(fixture.logits)[-1])
        documented = refusal in backend.deviations
        detail = f"raised {type(error).__name__}: {str(error)[:160]}"
        return None, CheckResult(check, implementations, None, None, "-",
                                 DEVIATES if documented else FAIL,
                                 f"documented: {refusal}; {detail}" if documented else detail)


def check_backend(fixture: RNNTFixture, backend_name: str, device: str,
                  dtype: str = "float32") -> CheckResult:
    """The backend's loss and gradient (on the valid region) against the oracle's. A
    difference that is a deviation the backend documents (`backends.deviations`) is
    DEVIATES, named; any other is FAIL."""
    result, skipped = _run_backend(fixture, backend_name, device, dtype)
    if skipped is not None:
        return skipped
    row = _result(f"{fixture.name} [{dtype}, {device}]", f"{backend_name} vs oracle",
                  rnnt_backend_comparisons(result, fixture.logits, fixture.targets,
                                           fixture.logit_lengths, fixture.target_lengths,
                                           blank=fixture.blank, dtype=dtype, device=device))
    deviation = (classify_empty_batch(fixture.target_lengths, result.loss, result.grad)
                 or classify_impossible_alignment(fixture.expected_loss, result.loss))
    if row.verdict == FAIL and deviation in RNNT_LOSS_BACKENDS[backend_name].deviations:
        row = replace(row, verdict=DEVIATES, detail=f"documented: {deviation}")
    return row


def check_backend_padding(fixture: RNNTFixture, backend_name: str, device: str,
                          dtype: str = "float32") -> CheckResult | None:
    """For a fixture whose padding holds NaN or inf: the backend's gradient on the padding
    is 0 (the loss ignores padding), or a documented deviation. None for other fixtures."""
    logits = np.asarray(fixture.logits)
    valid = rnnt_valid_region(fixture.logit_lengths, fixture.target_lengths,
                              logits.shape[1], logits.shape[2] - 1)[..., None]
    if np.all(np.isfinite(np.where(valid, 0.0, logits))):
        return None
    result, skipped = _run_backend(fixture, backend_name, device, dtype)
    check = f"{fixture.name} [padding gradient, {dtype}, {device}]"
    implementations = f"{backend_name}: gradient on the padding is 0"
    if skipped is not None:  # skipped, or the call raised (reported by check_backend)
        detail = skipped.detail if skipped.verdict == SKIP else "no gradient: the call raised"
        return replace(skipped, check=check, implementations=implementations, verdict=SKIP,
                       detail=detail)
    outside = np.where(valid, 0.0, result.grad)
    tolerance = tolerance_for("exact", "any", "padding_gradient")
    comparison = compare(outside, np.zeros_like(outside), tolerance)
    if comparison.passed:
        return _result(check, implementations, [comparison])
    deviation = classify_padding_gradient(result.grad, valid)
    documented = deviation in RNNT_LOSS_BACKENDS[backend_name].deviations
    detail = describe_padding_gradient(result.grad, valid)
    return CheckResult(check, implementations, comparison.max_abs, None,
                       tolerance.describe(), DEVIATES if documented else FAIL,
                       f"documented: {deviation}; {detail}" if documented else detail)


def rnnt_backend_comparisons(result, logits, targets, logit_lengths, target_lengths, *, blank,
                             dtype, device, reduction="none", clamp=-1.0) -> list[Comparison]:
    """A production RNN-T result against the float64 oracle on the same `dtype`-rounded
    logits: the loss, and the logits gradient on the valid region (t < T_b, u <= U_b: the
    padding's gradient is `check_backend_padding`'s) when every utterance's loss is finite,
    under the (dtype, device) tolerances scaled by `rnnt_magnitudes`."""
    rounded = np.asarray(logits).astype(dtype).astype(np.float64)
    arrays = (rounded, targets, logit_lengths, target_lengths)
    loss, grad = rnnt_loss(*arrays, blank=blank, reduction=reduction, clamp=clamp)
    losses = loss if reduction == "none" else rnnt_loss(*arrays, blank=blank,
                                                        reduction="none")[0]
    magnitudes = rnnt_magnitudes(rounded, logit_lengths, target_lengths, losses)
    comparisons = [compare(result.loss, loss, tolerance_for(dtype, device, "rnnt.loss"),
                           magnitudes)]
    if np.all(np.isfinite(losses)):
        comparisons.append(compare(valid_region_only(result.grad, logit_lengths,
                                                     target_lengths), grad,
                                   tolerance_for(dtype, device, "rnnt.grad"), magnitudes))
    return comparisons


def available_devices() -> list[str]:
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def ctc_oracle(fixture: CTCFixture, implementation="numba"):
    return ctc_loss(fixture.log_probs, fixture.targets, fixture.input_lengths,
                    fixture.target_lengths, blank=fixture.blank, reduction="none",
                    implementation=implementation)


def check_ctc_against_derivation(fixture: CTCFixture) -> CheckResult:
    return derivation_result(fixture, *ctc_oracle(fixture), batch_axis=1)


def check_ctc_spec_vs_numba(fixture: CTCFixture) -> CheckResult:
    return spec_vs_numba_result(fixture, ctc_oracle(fixture, implementation="spec"),
                                ctc_oracle(fixture), "ctc.oracle_spec_vs_numba", batch_axis=1)


def check_ctc_backend(fixture: CTCFixture, device: str, path: str,
                      dtype: str = "float32") -> CheckResult:
    """torch's CTC on the fixture's log-probs used as logits (log_softmax is idempotent)."""
    check = f"{fixture.name} [{dtype}, {device}, {path}]"
    implementations = "torch CTC vs oracle"
    try:
        result = CTC_BACKEND(fixture.log_probs, fixture.targets, fixture.input_lengths,
                             fixture.target_lengths, blank=fixture.blank, reduction="none",
                             device=device, dtype=dtype, path=path)
    except BackendUnavailable as reason:
        return CheckResult(check, implementations, None, None, "-", SKIP, str(reason))
    return _result(check, implementations, ctc_backend_comparisons(
        result, fixture.log_probs, fixture.targets, fixture.input_lengths,
        fixture.target_lengths, blank=fixture.blank, dtype=dtype, device=device))


def ctc_backend_comparisons(result, logits, targets, input_lengths, target_lengths, *, blank,
                            dtype, device, reduction="none",
                            zero_infinity=False) -> list[Comparison]:
    """A production CTC result against the float64 oracle on log_softmax of the same
    `dtype`-rounded `(T, B, C)` logits: the loss, and the logits gradient on valid frames
    when every utterance's loss is finite, scaled by `ctc_magnitudes`."""
    rounded = np.asarray(logits).astype(dtype).astype(np.float64)
    log_probs = log_softmax(rounded)
    arrays = (log_probs, targets, input_lengths, target_lengths)
    loss, grad = ctc_loss(*arrays, blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    losses = loss if reduction == "none" else ctc_loss(*arrays, blank=blank, reduction="none",
                                                       zero_infinity=zero_infinity)[0]
    magnitudes = ctc_magnitudes(rounded, input_lengths, losses)
    comparisons = [compare(result.loss, loss, tolerance_for(dtype, device, "ctc.loss"),
                           magnitudes)]
    if np.all(np.isfinite(losses)):
        comparisons.append(compare(valid_frames_only(result.grad, input_lengths),
                                   ctc_logits_gradient(log_probs, grad, input_lengths),
                                   tolerance_for(dtype, device, "ctc.grad"), magnitudes,
                                   batch_axis=1))
    return comparisons


def valid_frames_only(grad: np.ndarray, input_lengths) -> np.ndarray:
    """`(T, B, C)` gradient with frames past each input length set to 0.

    torch's ctc_loss gives 0 there, but log_softmax's backward turns 0 * exp(NaN) into NaN
    when padding logits hold NaN (see README); the oracle's contract covers valid frames.
    """
    grad = grad.copy()
    frames = np.arange(grad.shape[0])[:, None] >= np.asarray(input_lengths)[None, :]
    grad[frames] = 0.0
    return grad


def check_front_end(preset_name: str, fixture: AudioFixture, n_mels: int | None) -> CheckResult:
    """A reference preset against its production library on one utterance, float64."""
    mels = "default n_mels" if n_mels is None else f"n_mels {n_mels}"
    check = f"features {preset_name} [{mels}] {fixture.name}"
    implementations = f"reference vs lib:{preset_name}"
    try:
        comparison = feature_comparison(preset_name, fixture.signal, fixture.sample_rate, n_mels)
    except ValueError as mismatch:
        return CheckResult(check, implementations, None, None, "-", FAIL, str(mismatch))
    return _result(check, implementations, [comparison])


def check_golden_model_input(name: str, root: Path) -> CheckResult:
    """`features extract` of a golden set's config against the real code's rows."""
    from rnnt_parity.compare.tolerances import spread_tolerance_for
    from rnnt_parity.frontends.goldens import compare_with_golden, load_golden_set

    golden = load_golden_set(name, root)
    made_by = golden.provenance["library"].split(" (")[0]
    made_at = golden.provenance.get("commit") or golden.provenance.get("version") or ""
    implementations = f"features extract vs {made_by} {made_at}"
    tolerance = spread_tolerance_for("float32", "features.golden_model_input").describe()
    check = f"model input {name}"
    try:
        results = compare_with_golden(golden)
    except ValueError as error:
        return CheckResult(check, implementations, None, None, tolerance, FAIL, str(error))
    failed = [r for r in results if not r.passed]
    worst = max(results, key=lambda r: r.max_abs)
    return CheckResult(check, implementations.strip(), worst.max_abs, None, tolerance,
                       FAIL if failed else PASS, "; ".join(r.describe() for r in failed))


def run_checks(fixtures: list[RNNTFixture], backends=None, devices=None,
               ctc_fixtures: list[CTCFixture] = (),
               audio: list[AudioFixture] = (), goldens: Path | None = None
               ) -> Iterator[CheckResult]:
    """Yield every registered check's result, fixture by fixture.

    `backends` filters by name (RNN-T: "torchaudio", "warprnnt", "optimized_transducer",
    "nemo"; CTC: "torch"); front-end
    checks run on every `audio` fixture whatever the backends, and model-input checks on
    every golden set under `goldens`.
    """
    backends = [*RNNT_LOSS_BACKENDS, CTC_BACKEND.name] if backends is None else backends
    devices = available_devices() if devices is None else devices
    for fixture in fixtures:
        yield check_against_derivation(fixture)
        yield check_spec_vs_numba(fixture)
        for backend_name in backends:
            if backend_name not in RNNT_LOSS_BACKENDS:
                continue
            for device in devices:
                yield check_backend(fixture, backend_name, device)
                padding = check_backend_padding(fixture, backend_name, device)
                if padding is not None:
                    yield padding
    for fixture in ctc_fixtures:
        yield check_ctc_against_derivation(fixture)
        yield check_ctc_spec_vs_numba(fixture)
        if CTC_BACKEND.name not in backends:
            continue
        for device in devices:
            for path in CTC_PATHS if device == "cuda" else ("native",):
                yield check_ctc_backend(fixture, device, path)
    for preset_name in PRODUCTION_FRONTENDS:
        for n_mels in N_MELS_VARIANTS:
            for utterance in audio:
                yield check_front_end(preset_name, utterance, n_mels)
    if goldens is not None:
        from rnnt_parity.frontends.goldens import golden_sets

        for name in golden_sets(goldens):
            yield check_golden_model_input(name, goldens)
