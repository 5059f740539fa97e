"""Conformance of a user's RNN-T loss callable: every hand-worked fixture, a hypothesis
search against the oracle, a large batch, a second backward and every execution path, under
the callable's own conventions (detected or given).

Malformed inputs are probed in subprocesses (`rnnt_parity.conform.bad_input`) and tabled;
the table informs, it does not fail the run.

`UserRNNTLoss` puts the callable behind the oracle's conventions: the batch's blank is moved
to the callable's blank by swapping two vocabulary indices (logits' last axis and target
labels; a target never holds blank), log-probs are made with torch's log_softmax when the
callable takes them (so gradients are always w.r.t. logits), lengths get the callable's
dtype, and the loss is compared with the oracle's under the callable's reduction.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from reference_impls.rnnt import rnnt_loss as oracle_rnnt_loss
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.compare.arrays import Comparison, compare, rnnt_magnitudes
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.bad_input import bad_input_table
from rnnt_parity.conform.detect import DetectedConvention, detect_rnnt_convention
from rnnt_parity.conform.loss_checks import (
    check_convention,
    execution_paths,
    expected_gradient,
    gradient_as_taken,
    log_softmax_within,
    read_loss_convention,
    second_backward,
    their_vocabulary,
)
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded
from rnnt_parity.conform.search import describe_case, search
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches, rnnt_valid_region

COMPARABLE_REDUCTIONS = ("none", "sum", "mean")
PRESETS = {
    "torchaudio": DetectedConvention(("int32",), -1, "logits", "mean", "true derivative"),
    "warprnnt": DetectedConvention(("int32",), 0, "logits", "mean", "true derivative"),
    "nemo": DetectedConvention(("int64",), -1, "logits", "mean", "true derivative"),
}
"""Named conventions (blank -1 is the last index): torchaudio.functional.rnnt_loss's,
warprnnt_pytorch.rnnt_loss's (its "mean" is sum / batch, the batch mean) and NeMo's RNNTLoss
wrapper's (blank = num_classes, the last; default reduction "mean_batch", the batch mean;
int64 lengths)."""
LARGE_BATCH = (4, 32, 8, 32)
"""B, T, U, V of the large-batch check: 36,864 logits, past a 2^15 index wrap."""
PATH_BATCH = (3, 12, 5, 10)
"""B, T, U, V of the batch every execution path (thread count, device) computes."""


def read_convention(text: str, loss) -> DetectedConvention:
    """"auto" (probe), a preset name, or a JSON file {"blank", "inputs", "reduction",
    "length_dtypes", "gradient"}."""
    return read_loss_convention(text, loss, PRESETS, detect_rnnt_convention, lambda v: (
        DetectedConvention(tuple(v.get("length_dtypes", ["int32"])), v["blank"], v["inputs"],
                           v["reduction"], v.get("gradient", "true derivative"))))


class UserRNNTLoss:
    """The callable behind the oracle's conventions: __call__ -> (loss, grad w.r.t. logits)."""

    def __init__(self, loss, convention: DetectedConvention, device: str = "cpu",
                 expected_gradient: str | None = None):
        check_convention(convention, ("blank", "inputs", "reduction"), COMPARABLE_REDUCTIONS)
        self.loss, self.convention, self.device = loss, convention, device
        self.expected_gradient = expected_gradient or convention.gradient or "true derivative"
        self.dtype = getattr(torch, convention.length_dtypes[0])

    def forward(self, logits, targets, logit_lengths, target_lengths, blank, device=None):
        """(leaf, output, region): the logits leaf in the callable's vocabulary order and the
        callable's output; `region` = (frames, labels, order) to map a gradient back."""
        device = device or self.device
        logits = np.asarray(logits)
        order, targets = their_vocabulary(targets, target_lengths, blank, self.convention.blank,
                                          logits.shape[-1])
        frames, labels = logits.shape[1], targets.shape[1]
        if not self.convention.accepts_padding:  # trim to the longest utterance
            frames, labels = int(np.max(logit_lengths)), int(np.max(target_lengths))
        leaf = torch.tensor(np.ascontiguousarray(logits[:, :frames, :labels + 1][..., order]),
                            dtype=torch.float32, device=device, requires_grad=True)
        inputs = leaf
        if self.convention.inputs == "log_probs":
            region = torch.as_tensor(rnnt_valid_region(logit_lengths, target_lengths, frames,
                                                  labels), device=device)
            inputs = log_softmax_within(leaf, region[..., None])
        out = self.loss(inputs, torch.tensor(targets[:, :labels], dtype=self.dtype,
                                             device=device),
                        torch.tensor(logit_lengths, dtype=self.dtype, device=device),
                        torch.tensor(target_lengths, dtype=self.dtype, device=device))
        return leaf, out, (frames, labels, order)

    @staticmethod
    def full_gradient(grad: torch.Tensor, shape, region) -> np.ndarray:
        frames, labels, order = region
        full = np.zeros(shape)
        full[:, :frames, :labels + 1] = grad.double().cpu().numpy()[..., order]
        return full

    def __call__(self, logits, targets, logit_lengths, target_lengths, blank, device=None):
        leaf, out, region = self.forward(logits, targets, logit_lengths, target_lengths, blank,
                                         device)
        out.sum().backward()
        return (out.detach().double().cpu().numpy(),
                self.full_gradient(leaf.grad, np.shape(logits), region))


def oracle_expectation(logits, targets, logit_lengths, target_lengths, blank, reduction):
    """(loss, gradient of the summed output w.r.t. logits, per-utterance magnitudes) that
    a conforming callable with `reduction` returns, from one float64 oracle call."""
    per_utterance, grad_of_sum = oracle_rnnt_loss(
        np.asarray(logits, dtype=np.float32), targets, logit_lengths, target_lengths,
        blank=blank, reduction="none")
    scale = 1.0 / len(per_utterance) if reduction == "mean" else 1.0
    loss = per_utterance if reduction == "none" else np.array(per_utterance.sum() * scale)
    magnitudes = rnnt_magnitudes(logits, logit_lengths, target_lengths, per_utterance)
    return loss, grad_of_sum * scale, magnitudes


def compare_loss_and_grad(loss, grad, expected_loss, expected_grad, magnitudes, quantity: str,
                          device: str = "cpu") -> tuple[Comparison, Comparison]:
    """The loss (scaled per utterance, or by the largest for a reduced loss) and gradient
    under the float32 `quantity`.loss / .grad tolerances (`quantity`: "rnnt" or "ctc")."""
    loss_scale = magnitudes if np.ndim(expected_loss) else np.array(magnitudes.max())
    loss_check = compare(np.reshape(loss, np.shape(expected_loss)), expected_loss,
                         tolerance_for("float32", device, f"{quantity}.loss"), loss_scale)
    grad_check = compare(grad, expected_grad, tolerance_for("float32", device,
                                                            f"{quantity}.grad"),
                         magnitudes, batch_axis=1 if quantity == "ctc" else 0)
    return loss_check, grad_check


def outcome(name, loss_check, grad_check, example=None) -> CheckOutcome:
    wrong = [what for what, check in (("loss", loss_check), ("gradient", grad_check))
             if not check.passed]
    detail = f"{' and '.join(wrong)} differ{'s' if len(wrong) == 1 else ''}" if wrong else ""
    return CheckOutcome(name, not wrong, loss_check.max_abs, grad_check.max_abs, detail,
                        example)


def _compare_batch(user: UserRNNTLoss, name, logits, targets, logit_lengths, target_lengths,
                   blank, device=None) -> CheckOutcome:
    device = device or user.device
    expected_loss, expected_grad, magnitudes = oracle_expectation(
        logits, targets, logit_lengths, target_lengths, blank, user.convention.reduction)
    loss, grad = user(logits, targets, logit_lengths, target_lengths, blank, device)
    return outcome(name, *compare_loss_and_grad(loss, grad, expected_loss, expected_grad,
                                                magnitudes, "rnnt", device))


def random_batch(batch: int, frames: int, labels: int, vocab: int, seed: int = 0):
    """A deterministic (logits, targets, logit_lengths, target_lengths, blank) batch in the
    oracle's conventions: blank 0, the first utterance full length, logits of scale 2."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((batch, frames, labels + 1, vocab)) * 2).astype(np.float32)
    targets = rng.integers(1, vocab, (batch, labels))
    logit_lengths = np.concatenate([[frames], rng.integers(1, frames + 1, batch - 1)])
    target_lengths = np.concatenate([[labels], rng.integers(0, labels + 1, batch - 1)])
    return logits, targets, logit_lengths, target_lengths, 0


def run_fixtures(user: UserRNNTLoss) -> list[CheckOutcome]:
    out = []
    for fixture in load_rnnt_fixtures():
        if fixture.fastemit_lambda or not fixture.loss_is_finite:
            continue
        name = f"fixture {fixture.name}"
        out.append(guarded(name, lambda f=fixture, n=name: _compare_batch(
            user, n, f.logits, f.targets, f.logit_lengths, f.target_lengths, f.blank)))
    return out


def run_property(user: UserRNNTLoss, profile: str = "ci") -> CheckOutcome:
    """Random float32 batches (full-length first utterance) against the oracle."""
    return search("property: random batches vs the oracle",
                  rnnt_batches(dtype=np.float32, full_lengths=True),
                  lambda case: _compare_batch(user, "", *case.arrays(), case.blank),
                  describe_case, profile)


def run_large_batch(user: UserRNNTLoss) -> CheckOutcome:
    """A batch of 36,864 logits: an index that wraps (int32 past 2^31, simulated smaller by
    the catalogue) reads the wrong logits here."""
    name = "large batch (B, T, U, V = {}, {}, {}, {})".format(*LARGE_BATCH)
    return guarded(name, lambda: _compare_batch(user, name, *random_batch(*LARGE_BATCH,
                                                                         seed=1)))


def run_second_backward(user: UserRNNTLoss) -> CheckOutcome:
    batch = random_batch(*PATH_BATCH, seed=2)
    return second_backward(lambda: user.forward(*batch)[:2])


def run_execution_paths(user: UserRNNTLoss) -> CheckOutcome:
    batch = random_batch(*PATH_BATCH, seed=3)
    return execution_paths(lambda device: _compare_batch(user, "", *batch, device=device),
                           user.device)


def run_gradient_as_taken(user: UserRNNTLoss) -> CheckOutcome | None:
    """For a callable taking log-probs: its gradient w.r.t. the log-probs it was given is the
    true derivative of its loss (None for a logits-taking callable: the search covers it)."""
    if user.convention.inputs != "log_probs":
        return None
    logits, targets, logit_lengths, target_lengths, _ = random_batch(*PATH_BATCH, seed=4)
    log_probs = log_softmax(logits).astype(np.float32)
    blank = user.convention.blank % log_probs.shape[-1]
    targets = np.where(targets == blank, (blank + 1) % log_probs.shape[-1], targets)
    per_utterance, grad_of_sum = oracle_rnnt_loss(
        log_probs, targets, logit_lengths, target_lengths, blank=blank, reduction="none",
        fused_log_softmax=False)
    scale = 1.0 / len(per_utterance) if user.convention.reduction == "mean" else 1.0
    magnitudes = rnnt_magnitudes(log_probs, logit_lengths, target_lengths, per_utterance)

    def run():
        leaf = torch.tensor(log_probs, requires_grad=True)
        user.loss(leaf, *(torch.tensor(a, dtype=user.dtype)
                          for a in (targets, logit_lengths, target_lengths))).sum().backward()
        return leaf.grad.double().numpy()

    return gradient_as_taken(
        "gradient w.r.t. the log-probs as given is the expected one",
        user.expected_gradient, run,
        lambda grad: compare(grad, grad_of_sum * scale,
                             tolerance_for("float32", "cpu", "rnnt.grad"), magnitudes))


def conform_rnnt_loss(target: str, convention: str = "auto", profile: str = "ci",
                      device: str = "cpu") -> ConformanceReport:
    loss = load_callable(target)
    found = read_convention(convention, loss)
    report = ConformanceReport("RNN-T loss", target, asdict(found))
    user = UserRNNTLoss(loss, found, device, expected_gradient(convention))
    report.checks += run_fixtures(user)
    report.checks.append(run_property(user, profile))
    report.checks.append(run_large_batch(user))
    report.checks.append(run_second_backward(user))
    report.checks.append(run_execution_paths(user))
    as_taken = run_gradient_as_taken(user)
    if as_taken is not None:
        report.checks.append(as_taken)
    report.bad_input = bad_input_table("rnnt", target, asdict(found))
    return report
