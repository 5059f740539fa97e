"""`rnnt-parity check`'s backend rows: parity on the valid region, the padding's gradient as a
row of its own, and a difference a backend documents reported as "deviates", by name, while
any other still fails."""

from __future__ import annotations

import pytest
import torch

from rnnt_parity.backends import RNNT_LOSS_BACKENDS
from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_REFUSED,
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
)
from rnnt_parity.backends.torchaudio_rnnt import TorchaudioRNNTLoss
from rnnt_parity.checks import DEVIATES, FAIL, PASS, check_backend, check_backend_padding
from rnnt_parity.fixtures import load_rnnt_fixtures

FIXTURES = {f.name: f for f in load_rnnt_fixtures()}
EMPTY, PADDED = FIXTURES["empty_target_only_blanks"], FIXTURES["padded_batch_nan_padding"]


class ZeroForEmptyTargets(TorchaudioRNNTLoss):
    """torchaudio, but a batch of empty targets gets 0 (warp-transducer's behaviour)."""

    name = "zero_for_empty"

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        loss, grad = super()._run(logits, targets, logit_lengths, target_lengths, blank,
                                  reduction, clamp)
        if int(target_lengths.max()) == 0:
            return loss * 0, grad * 0
        return loss, grad


class RefusesEmptyTargets(TorchaudioRNNTLoss):
    name = "refuses_empty"

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        if int(target_lengths.max()) == 0:
            raise RuntimeError("max(): empty")
        return super()._run(logits, targets, logit_lengths, target_lengths, blank, reduction,
                            clamp)


class NaNOnPadding(TorchaudioRNNTLoss):
    """torchaudio after a log_softmax over the whole tensor (warp-transducer on the CPU)."""

    name = "nan_on_padding"

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        loss, grad = super()._run(logits, targets, logit_lengths, target_lengths, blank,
                                  reduction, clamp)
        return loss, torch.where(torch.isnan(logits), torch.nan, grad)


@pytest.fixture
def register(monkeypatch):
    def add(backend_class, deviations):
        backend = backend_class()
        backend.deviations = deviations
        monkeypatch.setitem(RNNT_LOSS_BACKENDS, backend.name, backend)
        return backend.name
    return add


@pytest.mark.parametrize("backend_class, deviation", [
    (ZeroForEmptyTargets, EMPTY_TARGETS_RETURN_ZERO), (RefusesEmptyTargets, EMPTY_TARGETS_REFUSED)])
def test_a_documented_deviation_is_reported_as_deviating_by_name(register, backend_class,
                                                                 deviation):
    row = check_backend(EMPTY, register(backend_class, (deviation,)), "cpu")
    assert row.verdict == DEVIATES and row.detail.startswith(f"documented: {deviation}")


@pytest.mark.parametrize("backend_class", [ZeroForEmptyTargets, RefusesEmptyTargets])
def test_the_same_difference_undocumented_fails(register, backend_class):
    assert check_backend(EMPTY, register(backend_class, ()), "cpu").verdict == FAIL


def test_a_documented_deviation_never_excuses_another_difference(register):
    """Documenting "all-empty targets return 0" does not pass a wrong non-empty batch."""
    class Wrong(ZeroForEmptyTargets):
        name = "wrong"

        def _run(self, *args):
            loss, grad = super()._run(*args)
            return loss * 1.01, grad

    name = register(Wrong, (EMPTY_TARGETS_RETURN_ZERO,))
    assert check_backend(FIXTURES["single_frame_T1"], name, "cpu").verdict == FAIL


def test_parity_is_judged_on_the_valid_region_and_the_padding_gets_a_row_of_its_own(register):
    name = register(NaNOnPadding, ())
    assert check_backend(PADDED, name, "cpu").verdict == PASS
    padding = check_backend_padding(PADDED, name, "cpu")
    assert padding.verdict == FAIL and "non-finite" in padding.detail


def test_a_documented_nan_padding_gradient_deviates_by_name(register):
    padding = check_backend_padding(PADDED, register(NaNOnPadding, (NAN_PADDING_GRADIENT,)),
                                    "cpu")
    assert padding.verdict == DEVIATES
    assert padding.detail.startswith(f"documented: {NAN_PADDING_GRADIENT}")


def test_torchaudio_leaves_the_nan_paddings_gradient_0():
    assert check_backend_padding(PADDED, "torchaudio", "cpu").verdict == PASS


def test_only_fixtures_with_non_finite_padding_get_a_padding_row():
    assert check_backend_padding(FIXTURES["single_frame_T1"], "torchaudio", "cpu") is None
