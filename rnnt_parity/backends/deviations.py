"""Named deviations: what a real production RNN-T loss does that the function it claims to
compute does not, each found by running the real library (see README, Production backends).

A deviation is a name, not a tolerance: a check that finds one says which (`classify_*`
below), a backend lists the ones its library is documented to show, and `rnnt-parity check`,
the conformance kit and the known-bug catalogue report a documented deviation by its name
instead of failing, while any other difference still fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Deviation:
    name: str
    what: str
    cause: str


EMPTY_TARGETS_RETURN_ZERO = "all-empty targets return 0"
EMPTY_TARGETS_REFUSED = "all-empty targets refused"
NAN_PADDING_GRADIENT = "NaN padding gives a NaN gradient"
PADDING_LABELS_REFUSED = "out-of-range padding labels refused"
IMPOSSIBLE_ALIGNMENT_NAN = "impossible alignment gives a NaN loss"
SECOND_BACKWARD_RESCALES = "second backward rescales the gradient"

DEVIATIONS: dict[str, Deviation] = {d.name: d for d in (
    Deviation(EMPTY_TARGETS_RETURN_ZERO,
              "a batch whose every target is empty gets loss 0 and gradient 0, silently "
              "(its loss is -sum_t log p(blank))",
              "warp-transducer: the C call reports an error status for the null label "
              "pointer of a width-0 labels tensor, and the binding ignores it"),
    Deviation(EMPTY_TARGETS_REFUSED,
              "a batch whose every target is empty raises instead of returning its loss",
              "optimized_transducer: max() of an empty targets tensor"),
    Deviation(NAN_PADDING_GRADIENT,
              "NaN in padding (frames past T_b, labels past U_b) gives NaN in the gradient "
              "there; the loss and the gradient on the valid region are right",
              "log_softmax applied in Python over the whole tensor: its backward turns the "
              "kernel's 0 into 0 * exp(NaN) = NaN (warp-transducer and NeMo on the CPU)"),
    Deviation(PADDING_LABELS_REFUSED,
              "a batch whose valid labels are in range is refused because a padding label "
              "(past U_b) is not: padding is read",
              "optimized_transducer range-checks targets.max() over the whole targets tensor"),
    Deviation(IMPOSSIBLE_ALIGNMENT_NAN,
              "an utterance no alignment can produce (every alignment holds a log-prob of "
              "-inf) gets loss NaN instead of +inf",
              "NeMo's numba kernel log-adds -inf with -inf (-inf - -inf = NaN)"),
    Deviation(SECOND_BACKWARD_RESCALES,
              "a second backward through the same graph returns the first gradient times the "
              "upstream gradient again",
              "backward multiplies the saved gradient in place (ctx.grads.mul_) and returns it"),
)}


def describe(name: str) -> str:
    """"NAME: what" for a known deviation (the name alone for an unknown one)."""
    found = DEVIATIONS.get(name)
    return f"{name}: {found.what}" if found else name


def all_targets_empty(target_lengths) -> bool:
    return bool(np.all(np.asarray(target_lengths) == 0))


def classify_empty_batch(target_lengths, loss, grad) -> str | None:
    """EMPTY_TARGETS_RETURN_ZERO when every target is empty and the answer is all zeros."""
    if not all_targets_empty(target_lengths):
        return None
    zeros = not np.any(np.asarray(loss)) and (grad is None or not np.any(np.asarray(grad)))
    return EMPTY_TARGETS_RETURN_ZERO if zeros else None


def classify_impossible_alignment(expected_losses, loss) -> str | None:
    """IMPOSSIBLE_ALIGNMENT_NAN when every utterance whose expected loss is +inf got NaN
    (and there is one)."""
    expected, loss = np.asarray(expected_losses), np.asarray(loss)
    impossible = np.isposinf(expected)
    if loss.shape != expected.shape or not impossible.any():
        return None
    return IMPOSSIBLE_ALIGNMENT_NAN if np.all(np.isnan(loss[impossible])) else None


def classify_refusal(targets, target_lengths, vocab: int) -> str | None:
    """The documented deviation a refusal of this (well-formed) batch is: every target
    empty (EMPTY_TARGETS_REFUSED), or valid labels in range but a padding label not
    (PADDING_LABELS_REFUSED); None for any other batch."""
    if all_targets_empty(target_lengths):
        return EMPTY_TARGETS_REFUSED
    targets = np.asarray(targets)
    valid = np.arange(targets.shape[1])[None, :] < np.asarray(target_lengths)[:, None]
    in_range = (targets >= 0) & (targets < vocab)
    if np.all(in_range[valid]) and not np.all(in_range):
        return PADDING_LABELS_REFUSED
    return None


def padding_gradient(grad, valid) -> np.ndarray:
    """The gradient's entries outside `valid` (a bool mask broadcastable to `grad`)."""
    grad = np.asarray(grad)
    return grad[~np.broadcast_to(valid, grad.shape)]


def classify_padding_gradient(grad, valid) -> str | None:
    """NAN_PADDING_GRADIENT when the gradient outside `valid` holds a non-finite value."""
    outside = padding_gradient(grad, valid)
    return NAN_PADDING_GRADIENT if not np.all(np.isfinite(outside)) else None


def describe_padding_gradient(grad, valid) -> str:
    """How many padding entries are non-finite or non-zero, for a report."""
    outside = padding_gradient(grad, valid)
    finite = outside[np.isfinite(outside)]
    return (f"{int(np.sum(~np.isfinite(outside)))} of {outside.size} padding entries "
            f"non-finite, largest finite |value| {np.max(np.abs(finite), initial=0.0):.3g}")
