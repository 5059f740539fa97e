"""Conformance of a user's RNN-T loss callable: every hand-worked fixture, a hypothesis
search against the oracle, a large batch, a second backward, a batch of empty targets, NaN
in the padding and every execution path, under the callable's own conventions (detected or
given). Gradients are compared on the valid region (t < T_b, u <= U_b); what the callable
puts on the padding is the NaN-padding check's.

A failed check that can tell which named deviation (`rnnt_parity.backends.deviations`) its
failure is records it; a convention (a preset, or a file's "deviations") may declare the
deviations a real library is documented to show, and those failures then do not fail the
report, while any other still does.

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
from rnnt_parity.backends.base import valid_region_only
from rnnt_parity.backends.deviations import (
    DEVIATIONS,
    EMPTY_TARGETS_REFUSED,
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
    SECOND_BACKWARD_RESCALES,
    classify_empty_batch,
    classify_padding_gradient,
    classify_refusal,
    describe_padding_gradient,
)
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
    suspected_check,
    their_vocabulary,
)
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded, raised
from rnnt_parity.conform.search import describe_case, search
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches, rnnt_valid_region

COMPARABLE_REDUCTIONS = ("none", "sum", "mean", "mean_over_target_lengths")
""""mean" is the batch mean; "mean_over_target_lengths" is NeMo's reduction="mean" as it
documents it: each loss divided by its target length, then the batch mean (a target of
length 0 divides by 0: an infinite loss, whose gradient is not compared)."""
PRESETS = {
    "torchaudio": DetectedConvention(("int32",), -1, "logits", "mean", "true derivative"),
    "warprnnt": DetectedConvention(
        ("int32",), 0, "logits", "mean", "true derivative",
        deviations=(EMPTY_TARGETS_RETURN_ZERO, NAN_PADDING_GRADIENT, SECOND_BACKWARD_RESCALES)),
    "nemo": DetectedConvention(("int32", "int64"), -1, "logits", "mean", "true derivative",
                               deviations=(NAN_PADDING_GRADIENT,)),
    "optimized_transducer": DetectedConvention(
        ("int32",), 0, "logits", "mean", "true derivative",
        deviations=(EMPTY_TARGETS_REFUSED, SECOND_BACKWARD_RESCALES)),
}
"""Named conventions (blank -1 is the last index), each with the deviations its real
library shows (README, Production backends): torchaudio.functional.rnnt_loss's;
warprnnt_pytorch.rnnt_loss's (its "mean" is sum / batch, the batch mean); NeMo's RNNTLoss
wrapper's (blank = num_classes, the last; default reduction "mean_batch", the batch mean;
int32 or int64 lengths, cast to int64 inside; `rnnt_parity.backends.nemo_rnnt:rnnt_loss`
calls it torchaudio-style); optimized_transducer's `transducer_loss` through
`rnnt_parity.backends.optimized_transducer:rnnt_loss` (which packs the logits)."""
EMPTY_BATCH = (3, 5, 6)
"""B, T, V of the batch of empty targets (frames 5, 4, 3)."""
LARGE_BATCH = (4, 32, 8, 32)
"""B, T, U, V of the large-batch check: 36,864 logits, past a 2^15 index wrap."""
PATH_BATCH = (3, 12, 5, 10)
"""B, T, U, V of the batch every execution path (thread count, device) computes."""


def read_convention(text: str, loss) -> DetectedConvention:
    """"auto" (probe), a preset name, or a JSON file {"blank", "inputs", "reduction",
    "length_dtypes", "gradient"}."""
    return read_loss_convention(text, loss, PRESETS, detect_rnnt_convention, lambda v: (
        DetectedConvention(tuple(v.get("length_dtypes", ["int32"])), v["blank"], v["inputs"],
                           v["reduction"], v.get("gradient", "true derivative"),
                           deviations=known_deviations(v.get("deviations", [])))))


def known_deviations(names) -> tuple[str, ...]:
    """`names` as a tuple; ValueError naming an unknown one and listing the known."""
    unknown = [n for n in names if n not in DEVIATIONS]
    if unknown:
        raise ValueError(f"unknown deviations {unknown}; known: {sorted(DEVIATIONS)}")
    return tuple(names)


class UserRNNTLoss:
    """The callable behind the oracle's conventions: __call__ -> (loss, grad w.r.t. logits)."""

    def __init__(self, loss, convention: DetectedConvention, device: str = "cpu",
                 expected_gradient: str | None = None):
        check_convention(convention, ("blank", "inputs", "reduction"), COMPARABLE_REDUCTIONS)
        self.loss, self.convention, self.device = loss, convention, device
        self.expected_gradient = expected_gradient or convention.gradient or "true derivative"
        self.dtype = getattr(torch, convention.length_dtypes[0])
        self.min_labels = int(convention.reduction == "mean_over_target_lengths")
        """Targets of the fixed batches are at least this long: under the per-target-length
        mean an empty target makes the loss infinite, with no gradient to compare."""

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


def reduction_weights(reduction: str, target_lengths, batch: int) -> np.ndarray:
    """`(B,)` weights w_b with reduced loss = sum_b w_b L_b ("none": the gradient of the sum)."""
    if reduction == "mean":
        return np.full(batch, 1.0 / batch)
    if reduction == "mean_over_target_lengths":
        with np.errstate(divide="ignore"):
            return 1.0 / (batch * np.asarray(target_lengths, dtype=np.float64))
    return np.ones(batch)


def oracle_expectation(logits, targets, logit_lengths, target_lengths, blank, reduction):
    """(loss, gradient of the summed output w.r.t. logits, per-utterance magnitudes) that
    a conforming callable with `reduction` returns, from one float64 oracle call. The
    gradient is None where the expected loss is not finite (nothing to compare)."""
    per_utterance, grad_of_sum = oracle_rnnt_loss(
        np.asarray(logits, dtype=np.float32), targets, logit_lengths, target_lengths,
        blank=blank, reduction="none")
    weights = reduction_weights(reduction, target_lengths, len(per_utterance))
    with np.errstate(invalid="ignore"):
        loss = per_utterance if reduction == "none" else np.array(np.sum(per_utterance
                                                                         * weights))
        grad = grad_of_sum * weights[:, None, None, None]
    magnitudes = rnnt_magnitudes(logits, logit_lengths, target_lengths, per_utterance)
    return loss, grad if np.all(np.isfinite(loss)) else None, magnitudes


def compare_loss_and_grad(loss, grad, expected_loss, expected_grad, magnitudes, quantity: str,
                          device: str = "cpu") -> tuple[Comparison, Comparison | None]:
    """The loss (scaled per utterance, or by the largest for a reduced loss) and gradient
    under the float32 `quantity`.loss / .grad tolerances (`quantity`: "rnnt" or "ctc"); no
    gradient comparison (None) when `expected_grad` is None."""
    loss_scale = magnitudes if np.ndim(expected_loss) else np.array(magnitudes.max())
    loss_check = compare(np.reshape(loss, np.shape(expected_loss)), expected_loss,
                         tolerance_for("float32", device, f"{quantity}.loss"), loss_scale)
    grad_check = None if expected_grad is None else compare(
        grad, expected_grad, tolerance_for("float32", device, f"{quantity}.grad"),
        magnitudes, batch_axis=1 if quantity == "ctc" else 0)
    return loss_check, grad_check


def outcome(name, loss_check, grad_check, example=None) -> CheckOutcome:
    """The check's verdict; a failure says what differs, where, the two values there, and
    names NaN, infinities and (in a batch with NaN padding) the padding as the cause."""
    wrong = [difference(what, check, name) for what, check in (
        ("loss", loss_check), ("gradient", grad_check)) if check is not None and not check.passed]
    return CheckOutcome(name, not wrong, loss_check.max_abs,
                        None if grad_check is None else grad_check.max_abs, "; ".join(wrong),
                        example)


def difference(what: str, check: Comparison, check_name: str) -> str:
    """"gradient differs at [b,t,u,v]: x where the oracle has y (NaN: ...)"."""
    at = ",".join(str(i) for i in check.largest_index)
    text = (f"{what} differs at [{at}]: {check.actual_there:.9g} where the oracle has "
            f"{check.expected_there:.9g} (limit {check.limit_there:.3g})")
    if np.isnan(check.actual_there):
        cause = (": the batch's padding holds NaN, so the callable reads its padding"
                 if "NaN in the padding" in check_name or "nan_padding" in check_name else "")
        return f"{text}, NaN{cause}"
    if np.isinf(check.actual_there):
        return f"{text}, infinite"
    return text


def _compare_batch(user: UserRNNTLoss, name, logits, targets, logit_lengths, target_lengths,
                   blank, device=None) -> CheckOutcome:
    """The callable against the oracle on one batch: loss, and gradient on the valid
    region. A failure on a batch of empty targets (or a refusal of a well-formed batch)
    records the named deviation it is, if it is one."""
    device = device or user.device
    expected_loss, expected_grad, magnitudes = oracle_expectation(
        logits, targets, logit_lengths, target_lengths, blank, user.convention.reduction)
    try:
        loss, grad = user(logits, targets, logit_lengths, target_lengths, blank, device)
    except Exception as error:  # the implementation under test may raise anything
        refused = raised(name, error)
        refused.deviation = classify_refusal(targets, target_lengths, np.shape(logits)[-1])
        return refused
    result = outcome(name, *compare_loss_and_grad(
        loss, valid_region_only(grad, logit_lengths, target_lengths), expected_loss,
        expected_grad, magnitudes, "rnnt", device))
    if not result.passed:
        result.deviation = classify_empty_batch(target_lengths, loss, grad)
    return result


def random_batch(batch: int, frames: int, labels: int, vocab: int, seed: int = 0,
                 min_labels: int = 0):
    """A deterministic (logits, targets, logit_lengths, target_lengths, blank) batch in the
    oracle's conventions: blank 0, the first utterance full length, logits of scale 2, every
    target at least `min_labels` long."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((batch, frames, labels + 1, vocab)) * 2).astype(np.float32)
    targets = rng.integers(1, vocab, (batch, labels))
    logit_lengths = np.concatenate([[frames], rng.integers(1, frames + 1, batch - 1)])
    target_lengths = np.concatenate([[labels], rng.integers(min_labels, labels + 1,
                                                            batch - 1)])
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


def run_property(user: UserRNNTLoss, profile: str = "ci", target: str = "") -> CheckOutcome:
    """Random float32 batches (full-length first utterance, at least one label: a batch
    of empty targets is `run_empty_targets`'s) against the oracle; a shrunk failure comes
    with `replay`, the call as the callable received it (`target` names the callable)."""
    return search("property: random batches vs the oracle",
                  rnnt_batches(dtype=np.float32, full_lengths=True).filter(
                      lambda case: int(np.max(case.target_lengths)) > 0),
                  lambda case: _compare_batch(user, "", *case.arrays(), case.blank),
                  lambda case: {**describe_case(case), "replay": replay(user, target, case)},
                  profile)


def replay(user: UserRNNTLoss, target: str, case) -> str:
    """A Python snippet that makes the call the callable received for `case`: in its own
    vocabulary order (its blank), length dtype, inputs (log-probs made by log_softmax when
    it takes them) and trimming, with the oracle's answer beside it."""
    logits, targets, logit_lengths, target_lengths = case.arrays()
    order, theirs = their_vocabulary(targets, target_lengths, case.blank,
                                     user.convention.blank, logits.shape[-1])
    frames, labels = logits.shape[1], theirs.shape[1]
    if not user.convention.accepts_padding:
        frames, labels = int(np.max(logit_lengths)), int(np.max(target_lengths))
    x = np.ascontiguousarray(logits[:, :frames, :labels + 1][..., order]).astype(np.float32)
    expected = oracle_expectation(logits, targets, logit_lengths, target_lengths, case.blank,
                                  user.convention.reduction)[0]
    dtype = f"torch.{user.convention.length_dtypes[0]}"
    take = ("torch.log_softmax(x, dim=-1)" if user.convention.inputs == "log_probs" else "x")
    return "\n".join([
        "import torch",
        "from rnnt_parity.conform.targets import load_callable",
        "",
        f"loss = load_callable({target!r})",
        f"x = torch.tensor({x.tolist()!r}, dtype=torch.float32)  # (B, T, U+1, V), blank "
        f"{user.convention.blank}",
        f"targets = torch.tensor({theirs[:, :labels].tolist()!r}, dtype={dtype})",
        f"logit_lengths = torch.tensor({np.asarray(logit_lengths).tolist()!r}, dtype={dtype})",
        f"target_lengths = torch.tensor({np.asarray(target_lengths).tolist()!r}, "
        f"dtype={dtype})",
        f"print(loss({take}, targets, logit_lengths, target_lengths))",
        f"# the oracle ({user.convention.reduction}): {np.round(expected, 7).tolist()}"])


def run_empty_targets(user: UserRNNTLoss) -> CheckOutcome:
    """Every target of the batch empty (labels of width 0): the loss is -sum_t log p(blank)
    per utterance, as the oracle's; warp-transducer returns 0 silently, optimized_transducer
    raises."""
    name = "a batch of empty targets gets the oracle's loss"
    rng = np.random.default_rng(6)
    batch, frames, vocab = EMPTY_BATCH
    logits = (rng.standard_normal((batch, frames, 1, vocab)) * 2).astype(np.float32)
    lengths = np.arange(frames, frames - batch, -1)
    result = guarded(name, lambda: _compare_batch(
        user, name, logits, np.zeros((batch, 0), dtype=np.int64), lengths,
        np.zeros(batch, dtype=np.int64), 0))
    if result.deviation == EMPTY_TARGETS_RETURN_ZERO:
        result.detail = "loss 0 and gradient 0, silently (the loss is -sum_t log p(blank))"
    return result


def run_nan_padding(user: UserRNNTLoss) -> CheckOutcome:
    """A batch whose padding (t >= T_b or u > U_b) holds NaN: the loss and the gradient on
    the valid region are the oracle's, and the gradient on the padding is 0."""
    name = "NaN in the padding: the gradient there is 0"
    logits, targets, _, _, blank = random_batch(*PATH_BATCH, seed=5)
    batch, frames, labels = logits.shape[0], logits.shape[1], logits.shape[2] - 1
    logit_lengths = np.array([frames, *(frames - 3 * np.arange(1, batch))])
    target_lengths = np.array([labels, *np.maximum(labels - 2 * np.arange(1, batch), 1)])
    valid = rnnt_valid_region(logit_lengths, target_lengths, frames, labels)[..., None]
    logits = np.where(valid, logits, np.nan).astype(np.float32)

    def run() -> CheckOutcome:
        expected_loss, expected_grad, magnitudes = oracle_expectation(
            logits, targets, logit_lengths, target_lengths, blank, user.convention.reduction)
        loss, grad = user(logits, targets, logit_lengths, target_lengths, blank)
        result = outcome(name, *compare_loss_and_grad(
            loss, valid_region_only(grad, logit_lengths, target_lengths), expected_loss,
            expected_grad, magnitudes, "rnnt", user.device))
        padding = np.where(valid, 0.0, grad)
        if result.passed and not compare(padding, np.zeros_like(padding), tolerance_for(
                "exact", "any", "padding_gradient")).passed:
            result.passed = False
            result.deviation = classify_padding_gradient(grad, valid)
            result.detail = (f"gradient on the padding: {describe_padding_gradient(grad, valid)}"
                             "; the loss and the valid region agree with the oracle")
        return result

    return guarded(name, run)


def run_large_batch(user: UserRNNTLoss) -> CheckOutcome:
    """A batch of 36,864 logits: an index that wraps (int32 past 2^31, simulated smaller by
    the catalogue) reads the wrong logits here."""
    name = "large batch (B, T, U, V = {}, {}, {}, {})".format(*LARGE_BATCH)
    return guarded(name, lambda: _compare_batch(user, name, *random_batch(
        *LARGE_BATCH, seed=1, min_labels=user.min_labels)))


def run_second_backward(user: UserRNNTLoss) -> CheckOutcome:
    batch = random_batch(*PATH_BATCH, seed=2, min_labels=user.min_labels)
    return second_backward(lambda: user.forward(*batch)[:2])


def run_execution_paths(user: UserRNNTLoss) -> CheckOutcome:
    batch = random_batch(*PATH_BATCH, seed=3, min_labels=user.min_labels)
    return execution_paths(lambda device: _compare_batch(user, "", *batch, device=device),
                           user.device)


def run_gradient_as_taken(user: UserRNNTLoss) -> CheckOutcome | None:
    """For a callable taking log-probs: its gradient w.r.t. the log-probs it was given is the
    true derivative of its loss (None for a logits-taking callable: the search covers it)."""
    if user.convention.inputs != "log_probs":
        return None
    logits, targets, logit_lengths, target_lengths, _ = random_batch(
        *PATH_BATCH, seed=4, min_labels=user.min_labels)
    log_probs = log_softmax(logits).astype(np.float32)
    blank = user.convention.blank % log_probs.shape[-1]
    targets = np.where(targets == blank, (blank + 1) % log_probs.shape[-1], targets)
    per_utterance, grad_of_sum = oracle_rnnt_loss(
        log_probs, targets, logit_lengths, target_lengths, blank=blank, reduction="none",
        fused_log_softmax=False)
    scale = reduction_weights(user.convention.reduction, target_lengths,
                              len(per_utterance))[:, None, None, None]
    magnitudes = rnnt_magnitudes(log_probs, logit_lengths, target_lengths, per_utterance)

    def run():
        leaf = torch.tensor(log_probs, requires_grad=True)
        user.loss(leaf, *(torch.tensor(a, dtype=user.dtype)
                          for a in (targets, logit_lengths, target_lengths))).sum().backward()
        return leaf.grad.double().numpy()

    return gradient_as_taken(
        "gradient w.r.t. the log-probs as given is the expected one",
        user.expected_gradient, run,
        lambda grad: compare(valid_region_only(grad, logit_lengths, target_lengths),
                             grad_of_sum * scale, tolerance_for("float32", "cpu", "rnnt.grad"),
                             magnitudes))


def conform_rnnt_loss(target: str, convention: str = "auto", profile: str = "ci",
                      device: str = "cpu", bad_input: bool = True) -> ConformanceReport:
    loss = load_callable(target)
    found = read_convention(convention, loss)
    report = ConformanceReport("RNN-T loss", target, asdict(found))
    user = UserRNNTLoss(loss, found, device, expected_gradient(convention))
    report.checks += suspected_check(found.suspected)
    report.checks += run_fixtures(user)
    report.checks.append(run_property(user, profile, target))
    report.checks.append(run_large_batch(user))
    report.checks.append(run_second_backward(user))
    report.checks.append(run_empty_targets(user))
    report.checks.append(run_nan_padding(user))
    report.checks.append(run_execution_paths(user))
    as_taken = run_gradient_as_taken(user)
    if as_taken is not None:
        report.checks.append(as_taken)
    report.declare(found.deviations)
    if bad_input:
        report.bad_input = bad_input_table("rnnt", target, asdict(found))
    return report
