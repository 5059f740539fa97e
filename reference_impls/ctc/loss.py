"""The CTC loss oracle with torch.nn.functional.ctc_loss's conventions.

* `log_probs` `(T, B, C)` (`batch_first=True`: `(B, T, C)`), float32 or float64; targets
  `(B, S)` padded or 1-D concatenated; `blank=0`.
* `reduction="mean"` divides each utterance's loss by its target length (clamped to at
  least 1) and then averages over the batch, exactly as torch does (torch issues 19838,
  69016: users expect a plain batch mean). "sum" sums; "none" returns `(B,)`.
* The gradient is the true derivative of the reduced loss w.r.t. `log_probs` (for "none",
  of the sum). torch returns exp(log_probs) - occupancy instead, which is the gradient
  w.r.t. the logits when log_probs = log_softmax(logits), not d/d log_probs (torch issue
  52241); `ctc_logits_gradient` converts the true one into that.
* Frames beyond `input_lengths[b]` and labels beyond `target_lengths[b]` are ignored,
  whatever they hold; the gradient there is 0.
* A target with no alignment (T shorter than S plus the blanks its repeats need) has loss
  +inf and a NaN gradient, or loss 0 and gradient 0 with `zero_infinity=True`.
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_reduction
from reference_impls.ctc import kernels, spec
from reference_impls.ctc.validation import CTCBatch, report_undefined_frames, validate_ctc_batch

IMPLEMENTATIONS = ("numba", "spec")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False, *, batch_first=False, implementation="numba"):
    """CTC loss (Graves et al. 2006) and its gradient w.r.t. `log_probs`.

    Args:
        log_probs: `(T, B, C)` log-probabilities, float32 or float64 (`(B, T, C)` if
            `batch_first`).
        targets: `(B, S)` padded or `(sum(target_lengths),)` concatenated integer labels.
        input_lengths: `(B,)` integers in `[1, T]`.
        target_lengths: `(B,)` integers in `[0, S]`.
        blank: blank index (default 0).
        reduction: "none" | "sum" | "mean" (per-target-length, then batch mean: torch's).
        zero_infinity: report an infeasible utterance as loss 0 with gradient 0.
        batch_first: `log_probs` (and the returned gradient) are `(B, T, C)`.
        implementation: "numba" (gradient in the input dtype, lattice in float64) or "spec".

    Returns:
        `(loss, grad)`: float64 loss (`(B,)` for "none", 0-d otherwise) and the gradient of
        the reduced loss w.r.t. `log_probs`, in its layout.

    Raises:
        TypeError, ValueError: on malformed input, naming the argument and batch index.
    """
    batch = validate_ctc_batch(log_probs, targets, input_lengths, target_lengths, blank,
                               batch_first=batch_first)
    reduction = check_reduction(reduction)
    if not isinstance(zero_infinity, (bool, np.bool_)):
        raise TypeError(f"zero_infinity must be a bool, got {type(zero_infinity).__name__}")
    report_undefined_frames(batch.log_probs, batch)
    divisors = np.maximum(batch.target_lengths, 1).astype(np.float64)
    if reduction == "mean":
        scale = 1.0 / (divisors * batch.batch_size)
    else:
        scale = np.ones(batch.batch_size)

    if implementation == "numba":
        losses, grad = _numba_loss_and_grad(batch, scale)
    elif implementation == "spec":
        losses, grad = _spec_loss_and_grad(batch, scale)
    else:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")

    for b in np.flatnonzero(np.isposinf(losses)):
        grad[: batch.input_lengths[b], b] = 0.0 if zero_infinity else np.nan
        if zero_infinity:
            losses[b] = 0.0
    if batch_first:
        grad = np.ascontiguousarray(grad.transpose(1, 0, 2))
    if reduction == "none":
        return losses, grad
    if reduction == "sum":
        return np.asarray(losses.sum()), grad
    return np.asarray(np.mean(losses / divisors)), grad


def ctc_logits_gradient(log_probs, grad_log_probs, input_lengths, *, batch_first=False):
    """Gradient w.r.t. logits, given the gradient w.r.t. log_probs = log_softmax(logits).

    g_z = g_lp - softmax(z) * sum_k g_lp, on valid frames; 0 on padding frames.
    This is what torch's ctc_loss returns as its "log_probs" gradient (torch issue 52241).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    grad = np.asarray(grad_log_probs, dtype=np.float64)
    if batch_first:
        log_probs, grad = log_probs.transpose(1, 0, 2), grad.transpose(1, 0, 2)
    frames = np.arange(log_probs.shape[0])[:, None] < np.asarray(input_lengths)[None, :]
    with np.errstate(invalid="ignore"):
        result = grad - np.exp(log_probs) * grad.sum(axis=-1, keepdims=True)
    result[~frames] = 0.0
    return np.ascontiguousarray(result.transpose(1, 0, 2)) if batch_first else result


def _numba_loss_and_grad(batch: CTCBatch, scale):
    """Scaled kernels first; the utterances they flag are redone in log space."""
    max_t, batch_size, _ = batch.log_probs.shape
    num_states = 2 * batch.target_lengths + 1
    extended = np.full((batch_size, int(num_states.max())), batch.blank, dtype=np.int64)
    for b in range(batch_size):
        extended[b, 1: num_states[b]: 2] = batch.targets[b, : batch.target_lengths[b]]
    lattice_shape = (batch_size, max_t, extended.shape[1])
    emissions, alphas, betas = np.zeros(lattice_shape), np.zeros(lattice_shape), np.zeros(
        lattice_shape)
    log_likelihood = np.full(batch_size, -np.inf)
    needs_log_space = np.zeros(batch_size, dtype=np.bool_)
    lattice = (batch.log_probs, extended, num_states, batch.input_lengths)
    kernels.ctc_scaled_forward_backward(*lattice, emissions, alphas, betas, log_likelihood,
                                        needs_log_space)
    grad = np.empty_like(batch.log_probs)  # every (t, b, c) is written by one of the kernels
    kernels.ctc_scaled_gradient(*lattice, emissions, alphas, betas, log_likelihood, scale,
                                needs_log_space, grad)
    if needs_log_space.any():
        kernels.ctc_alphas_betas(*lattice, needs_log_space, alphas, betas, log_likelihood)
        kernels.ctc_log_probs_gradient(*lattice, needs_log_space, alphas, betas, log_likelihood,
                                       scale, grad)
    return -log_likelihood, grad


def _spec_loss_and_grad(batch: CTCBatch, scale):
    losses = np.empty(batch.batch_size)
    grad = np.zeros(batch.log_probs.shape)
    for b in range(batch.batch_size):
        t_len = batch.input_lengths[b]
        with np.errstate(invalid="ignore", over="ignore"):
            losses[b], utterance_grad = spec.utterance_loss_and_grad(
                batch.log_probs[:t_len, b], batch.targets[b, : batch.target_lengths[b]],
                batch.blank)
        grad[:t_len, b] = scale[b] * utterance_grad
    return losses, grad
