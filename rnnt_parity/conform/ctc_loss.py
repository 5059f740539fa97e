"""Conformance of a user's CTC loss callable: every hand-worked CTC fixture, a hypothesis
search against the oracle (`reference_impls.ctc.ctc_loss`), targets longer than 256 labels,
a second backward, every execution path and the gradient w.r.t. the log-probs as given,
under the callable's own conventions (detected, a preset, or a JSON file).

`UserCTCLoss` puts the callable behind the oracle's conventions, as `UserRNNTLoss` does:
blank moved by swapping two class indices, log_softmax applied in torch when the callable
takes log-probs (so the compared gradient is always w.r.t. logits), its layout and length
dtype, and the loss compared under its reduction.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from reference_impls.ctc import ctc_logits_gradient
from reference_impls.ctc import ctc_loss as oracle_ctc_loss
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.compare.arrays import compare, ctc_magnitudes
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.bad_input import bad_input_table
from rnnt_parity.conform.detect_ctc import (
    LOGITS_GRADIENT,
    CTCConvention,
    arrange,
    detect_ctc_convention,
    utterance_weights,
)
from rnnt_parity.conform.loss_checks import (
    check_convention,
    execution_paths,
    expected_gradient,
    gradient_as_taken,
    log_softmax_within,
    read_loss_convention,
    second_backward,
    suspected_check,
    their_vocabulary,
)
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded
from rnnt_parity.conform.rnnt_loss import compare_loss_and_grad, outcome
from rnnt_parity.conform.search import describe_case, search
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.fixtures import load_ctc_fixtures
from rnnt_parity.strategies import ctc_batches

REDUCTIONS = ("none", "sum", "mean", "batch_mean")
PRESETS = {"torch": CTCConvention(("int64", "int32"), "TBC", 0, "log_probs", "mean",
                                  LOGITS_GRADIENT)}
"""torch.nn.functional.ctc_loss's defaults, its documented gradient deviation included."""
LONG_TARGETS = (2, 700, 300, 20)
"""B, T, S, C of the long-target check: S past cuDNN's 256 limit (pytorch 53505)."""
PATH_BATCH = (3, 16, 5, 8)
"""B, T, S, C of the batch the execution-path, backward and gradient checks use."""


def read_convention(text: str, loss) -> CTCConvention:
    """"auto" (probe), a preset name, or a JSON file with CTCConvention's fields."""
    return read_loss_convention(text, loss, PRESETS, detect_ctc_convention, lambda v: (
        CTCConvention(tuple(v.get("length_dtypes", ["int64"])), v.get("layout", "TBC"),
                      v["blank"], v["inputs"], v["reduction"],
                      v.get("gradient", "true derivative"))))


class UserCTCLoss:
    """The callable behind the oracle's conventions: __call__ -> (loss, grad w.r.t. logits),
    both float64, the gradient `(T, B, C)`."""

    def __init__(self, loss, convention: CTCConvention, device: str = "cpu",
                 expected_gradient: str | None = None):
        check_convention(convention, ("layout", "blank", "inputs", "reduction"), REDUCTIONS)
        self.loss, self.convention, self.device = loss, convention, device
        self.expected_gradient = expected_gradient or convention.gradient or "true derivative"
        self.dtype = getattr(torch, convention.length_dtypes[0])

    def forward(self, log_probs, targets, input_lengths, target_lengths, blank, device=None):
        """(leaf (T, B, C) in the callable's class order, output, order)."""
        device = device or self.device
        log_probs = np.asarray(log_probs)
        order, targets = their_vocabulary(targets, target_lengths, blank, self.convention.blank,
                                          log_probs.shape[-1])
        leaf = torch.tensor(np.ascontiguousarray(log_probs[..., order]), dtype=torch.float32,
                            device=device, requires_grad=True)
        inputs = leaf
        if self.convention.inputs == "log_probs":
            frames = torch.arange(leaf.shape[0], device=device)[:, None] < torch.tensor(
                input_lengths, device=device)[None, :]
            inputs = log_softmax_within(leaf, frames[..., None])
        out = self.loss(arrange(inputs, self.convention.layout),
                        torch.tensor(targets, dtype=self.dtype, device=device),
                        torch.tensor(input_lengths, dtype=self.dtype, device=device),
                        torch.tensor(target_lengths, dtype=self.dtype, device=device))
        return leaf, out, order

    def __call__(self, log_probs, targets, input_lengths, target_lengths, blank, device=None):
        leaf, out, order = self.forward(log_probs, targets, input_lengths, target_lengths,
                                        blank, device)
        out.sum().backward()
        return (out.detach().double().cpu().numpy(),
                leaf.grad.double().cpu().numpy()[..., order])


def _oracle_answer(reduction: str, log_probs32, targets, input_lengths, target_lengths, blank):
    """The oracle on float32 log-probs `(T, B, C)`: (the loss under `reduction`, the
    per-utterance losses, the true gradient of their sum, each utterance's weight in the
    reduction)."""
    per_utterance, true_grad = oracle_ctc_loss(log_probs32, targets, input_lengths,
                                               target_lengths, blank=blank, reduction="none")
    weights = utterance_weights(reduction, np.asarray(target_lengths))
    expected_loss = per_utterance if reduction == "none" else np.array(
        (per_utterance * weights).sum())
    return expected_loss, per_utterance, true_grad, weights


def _compare_batch(user: UserCTCLoss, name, log_probs, targets, input_lengths, target_lengths,
                   blank, device=None) -> CheckOutcome:
    """The callable against the oracle on one batch: loss, and gradient on valid frames."""
    device = device or user.device
    log_probs32 = np.asarray(log_probs, dtype=np.float32)
    expected_loss, per_utterance, true_grad, weights = _oracle_answer(
        user.convention.reduction, log_probs32, targets, input_lengths, target_lengths, blank)
    expected_grad = ctc_logits_gradient(log_probs32, true_grad * weights[None, :, None],
                                        input_lengths)
    magnitudes = ctc_magnitudes(log_probs32, input_lengths, per_utterance)
    loss, grad = user(log_probs32, targets, input_lengths, target_lengths, blank, device)
    valid = np.arange(grad.shape[0])[:, None, None] < np.asarray(input_lengths)[None, :, None]
    return outcome(name, *compare_loss_and_grad(loss, np.where(valid, grad, 0.0),
                                                expected_loss, expected_grad, magnitudes,
                                                "ctc", device))


def random_ctc_batch(batch: int, frames: int, labels: int, classes: int, seed: int = 0,
                     full_lengths: bool = False):
    """A deterministic (log_probs (T, B, C) float32, targets, input_lengths, target_lengths,
    blank 0) batch whose targets fit their frames (no two equal labels in a row)."""
    rng = np.random.default_rng(seed)
    log_probs = log_softmax(rng.standard_normal((frames, batch, classes)) * 2).astype(
        np.float32)
    steps = rng.integers(1, classes - 1, (batch, labels))
    targets = (np.cumsum(steps, axis=1) % (classes - 1)) + 1  # adjacent labels differ
    input_lengths = np.full(batch, frames) if full_lengths else np.concatenate(
        [[frames], rng.integers(labels, frames + 1, batch - 1)])
    target_lengths = np.concatenate([[labels], rng.integers(0, labels + 1, batch - 1)])
    return log_probs, targets, input_lengths, target_lengths, 0


def run_fixtures(user: UserCTCLoss) -> list[CheckOutcome]:
    out = []
    for fixture in load_ctc_fixtures():
        if not fixture.loss_is_finite:
            continue
        name = f"fixture {fixture.name}"
        out.append(guarded(name, lambda f=fixture, n=name: _compare_batch(
            user, n, f.log_probs, f.targets, f.input_lengths, f.target_lengths, f.blank)))
    return out


def run_property(user: UserCTCLoss, profile: str = "ci", target: str = "") -> CheckOutcome:
    """Random float32 batches whose targets fit their frames, against the oracle; a shrunk
    failure comes with `replay`, the call as the callable received it (`target` names the
    callable)."""
    return search("property: random batches vs the oracle",
                  ctc_batches(dtype=np.float32, feasible=True),
                  lambda case: _compare_batch(user, "", *case.arrays(), case.blank),
                  lambda case: {**describe_case(case), "replay": replay(user, target, case)},
                  profile)


def replay(user: UserCTCLoss, target: str, case) -> str:
    """A Python snippet that makes the call the callable received for `case`: in its own
    class order (its blank), layout, length dtype and inputs (the log-probs, which a
    logits-taking loss normalises again to the same values), with the oracle's answer
    beside it."""
    log_probs, targets, input_lengths, target_lengths = case.arrays()
    order, theirs = their_vocabulary(targets, target_lengths, case.blank,
                                     user.convention.blank, log_probs.shape[-1])
    x = np.ascontiguousarray(log_probs[..., order]).astype(np.float32)
    layout = user.convention.layout
    x = x if layout == "TBC" else np.ascontiguousarray(x.transpose(1, 0, 2))
    expected = _oracle_answer(user.convention.reduction, np.asarray(log_probs, dtype=np.float32),
                              targets, input_lengths, target_lengths, case.blank)[0]
    dtype = f"torch.{user.convention.length_dtypes[0]}"
    shape = "(T, B, C)" if layout == "TBC" else "(B, T, C)"
    return "\n".join([
        "import torch",
        "from rnnt_parity.conform.targets import load_callable",
        "",
        f"loss = load_callable({target!r})",
        f"x = torch.tensor({x.tolist()!r}, dtype=torch.float32)  # {shape} log-probs, blank "
        f"{user.convention.blank}",
        f"targets = torch.tensor({theirs.tolist()!r}, dtype={dtype})",
        f"input_lengths = torch.tensor({np.asarray(input_lengths).tolist()!r}, dtype={dtype})",
        f"target_lengths = torch.tensor({np.asarray(target_lengths).tolist()!r}, "
        f"dtype={dtype})",
        "print(loss(x, targets, input_lengths, target_lengths))",
        f"# the oracle ({user.convention.reduction}): {np.round(expected, 7).tolist()}"])


def run_long_targets(user: UserCTCLoss) -> CheckOutcome:
    name = "targets of 300 labels (B, T, S, C = {}, {}, {}, {})".format(*LONG_TARGETS)
    return guarded(name, lambda: _compare_batch(
        user, name, *random_ctc_batch(*LONG_TARGETS, seed=1, full_lengths=True)))


def run_gradient_as_taken(user: UserCTCLoss) -> CheckOutcome | None:
    """For a callable taking log-probs: its gradient w.r.t. them is the expected one
    (the true derivative, or what the convention declares)."""
    if user.convention.inputs != "log_probs":
        return None
    log_probs, targets, input_lengths, target_lengths, _ = random_ctc_batch(*PATH_BATCH,
                                                                             seed=4)
    blank = user.convention.blank % log_probs.shape[-1]
    targets = np.where(targets == blank, 0, targets)  # label 0 takes blank's place
    per_utterance, true_grad = oracle_ctc_loss(log_probs, targets, input_lengths,
                                               target_lengths, blank=blank, reduction="none")
    true_grad = true_grad * utterance_weights(user.convention.reduction,
                                              target_lengths)[None, :, None]
    magnitudes = ctc_magnitudes(log_probs, input_lengths, per_utterance)
    tolerance = tolerance_for("float32", "cpu", "ctc.grad")

    def run():
        leaf = arrange(torch.tensor(log_probs), user.convention.layout).clone().requires_grad_()
        user.loss(leaf, *(torch.tensor(a, dtype=user.dtype) for a in (
            targets, input_lengths, target_lengths))).sum().backward()
        return arrange(leaf.grad, user.convention.layout).double().numpy()

    return gradient_as_taken(
        "gradient w.r.t. the log-probs as given is the expected one", user.expected_gradient,
        run, lambda grad: compare(grad, true_grad, tolerance, magnitudes, batch_axis=1),
        lambda grad: compare(grad, ctc_logits_gradient(log_probs, true_grad, input_lengths),
                             tolerance, magnitudes, batch_axis=1))


def conform_ctc_loss(target: str, convention: str = "auto", profile: str = "ci",
                     device: str = "cpu", bad_input: bool = True) -> ConformanceReport:
    loss = load_callable(target)
    found = read_convention(convention, loss)
    report = ConformanceReport("CTC loss", target, asdict(found))
    user = UserCTCLoss(loss, found, device, expected_gradient(convention))
    report.checks += suspected_check(found.suspected)
    report.checks += run_fixtures(user)
    report.checks.append(run_property(user, profile, target))
    report.checks.append(run_long_targets(user))
    batch = random_ctc_batch(*PATH_BATCH, seed=2)
    report.checks.append(second_backward(lambda: user.forward(*batch)[:2]))
    paths_batch = random_ctc_batch(*PATH_BATCH, seed=3)
    report.checks.append(execution_paths(
        lambda device: _compare_batch(user, "", *paths_batch, device=device), device))
    as_taken = run_gradient_as_taken(user)
    if as_taken is not None:
        report.checks.append(as_taken)
    if bad_input:
        report.bad_input = bad_input_table("ctc", target, asdict(found))
    return report
