"""The TDT loss oracle: validation, dispatch to the spec or the Numba kernel, omega, clamp,
reduction.

Conventions (NeMo's TDT loss, with torchaudio's argument habits):
* `logits` is `(B, T, U+1, V + D)`: the first V columns token logits (blank among them;
  `blank` indexes the token part, negative from its end: NeMo's blank is the last token
  column, blank=-1), the last D = len(durations) duration logits, in `durations`' order.
  Each part is log-softmaxed on its own (`fused_log_softmax=True`), as NeMo does; with
  False both parts are log-probs, used as given, and the gradient is w.r.t. them.
* `durations`: distinct non-negative ints (e.g. [0, 1, 2, 3, 4]); a blank never takes
  duration 0 (see `spec`).
* `sigma`: subtracted from every arc's log-weight (NeMo's logit under-normalisation).
* `omega`: the loss is (1 - omega) * TDT + omega * RNN-T, the RNN-T loss (Graves 2012) of
  the token part alone, with no sigma and no gradient to the durations. NeMo instead draws,
  once per call, the RNN-T loss with probability omega and the TDT loss otherwise: this is
  that draw's expectation, a function whose exact gradient can be checked.
* `clamp > 0` clips each element of an utterance's token-logit gradient to
  [-clamp, clamp] before the reduction's scaling, as NeMo does; duration gradients are never
  clamped (NeMo's neither).
* `reduction`: "none" `(B,)`, "sum", or "mean" (batch mean, NeMo's mean_batch); the gradient
  is that of the reduced loss ("none": of the sum).
* Padding (t >= logit_lengths[b], u > target_lengths[b]) is ignored, NaN included; its
  gradient is 0. An utterance with no alignment of positive weight has loss +inf and a NaN
  gradient over its valid region (NeMo reports about 1e4 there).
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_finite_scalar, check_reduction
from reference_impls.rnnt import rnnt_loss
from reference_impls.tdt import kernels, spec
from reference_impls.tdt.validation import (
    TDTBatch,
    check_probability,
    report_undefined_nodes,
    undefined_node_markers,
    validate_tdt_batch,
)

IMPLEMENTATIONS = ("numba", "spec")


def tdt_loss(logits, targets, logit_lengths, target_lengths, durations, blank=-1, sigma=0.0,
             omega=0.0, clamp=-1.0, reduction="mean", fused_log_softmax=True, *,
             implementation="numba"):
    """TDT loss (Xu et al. 2023) and its exact gradient; conventions in the module docstring.

    Args:
        logits: `(B, T, U+1, V + D)` float32 or float64.
        targets: `(B, U)` integer labels in `[0, V)`, none equal to blank.
        logit_lengths: `(B,)` integers in `[1, T]`.
        target_lengths: `(B,)` integers in `[0, U]`.
        durations: D distinct non-negative ints, at least one positive.
        blank: blank index in the token part (default -1, its last column).
        sigma, omega, clamp: see the module docstring (omega in [0, 1]).
        reduction: "none" | "sum" | "mean".
        fused_log_softmax: log_softmax the token and the duration part inside.
        implementation: "numba" (`kernels`, one utterance per thread) or "spec" (the
            readable loops of `spec`); both float64 throughout, within 1e-12 of each other.

    Returns:
        `(loss, grad)`: float64 loss (`(B,)` for "none", else 0-d) and the float64
        gradient of the reduced loss w.r.t. `logits`, of its shape.

    Raises:
        TypeError, ValueError: on malformed input, naming the argument (and batch index).
    """
    batch = validate_tdt_batch(logits, targets, logit_lengths, target_lengths, durations,
                               blank)
    sigma = check_finite_scalar(sigma, "sigma")
    omega = check_probability(omega, "omega")
    clamp = check_finite_scalar(clamp, "clamp")
    reduction = check_reduction(reduction)
    if not isinstance(fused_log_softmax, (bool, np.bool_)):
        raise TypeError(f"fused_log_softmax must be a bool, got {type(fused_log_softmax).__name__}")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    fused = bool(fused_log_softmax)
    losses, grad = np.zeros(batch.logits.shape[0]), np.zeros(batch.logits.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        if omega < 1.0:
            tdt_part = _numba_tdt if implementation == "numba" else _spec_tdt
            losses, grad = tdt_part(batch, sigma, fused)
            if omega > 0.0:
                losses, grad = (1.0 - omega) * losses, (1.0 - omega) * grad
        if omega > 0.0:
            rnnt, rnnt_grad = rnnt_loss(
                np.ascontiguousarray(batch.logits[..., :batch.vocab], dtype=np.float64),
                batch.targets, batch.logit_lengths, batch.target_lengths, batch.blank,
                reduction="none", fused_log_softmax=fused, implementation=implementation)
            losses = losses + omega * rnnt
            grad[..., :batch.vocab] += omega * rnnt_grad
    for b in np.flatnonzero(np.isposinf(losses)):
        grad[b, :batch.logit_lengths[b], :batch.target_lengths[b] + 1] = np.nan
    if clamp > 0:
        tokens = grad[..., :batch.vocab]
        np.clip(tokens, -clamp, clamp, out=tokens)
    size = batch.logits.shape[0]
    if reduction == "mean":
        grad /= size
    if reduction == "none":
        return losses, grad
    total = losses.sum()
    return np.asarray(total / size if reduction == "mean" else total), grad


def _numba_tdt(batch: TDTBatch, sigma, fused):
    """(B,) TDT losses and the (B, T, U+1, V + D) float64 gradient of their sum. The kernel
    reads float64 (its arithmetic is float64 whatever the input), so that it is compiled
    once, not once per input dtype."""
    log_likelihood = np.empty(batch.logits.shape[0])
    grad = np.zeros(batch.logits.shape)
    markers = np.zeros(batch.logits.shape[:3])
    kernels.tdt_utterances(np.ascontiguousarray(batch.logits, dtype=np.float64), batch.targets,
                           batch.logit_lengths, batch.target_lengths,
                           np.array(batch.durations, dtype=np.int64), batch.blank, sigma, fused,
                           log_likelihood, grad, markers)
    if np.isnan(log_likelihood).any():
        report_undefined_nodes(markers, batch)
    return -log_likelihood, grad


def _spec_tdt(batch: TDTBatch, sigma, fused):
    """`_numba_tdt` by the spec, utterance by utterance."""
    report_undefined_nodes(undefined_node_markers(batch, fused), batch)
    losses, grad = np.empty(batch.logits.shape[0]), np.zeros(batch.logits.shape)
    for b in range(batch.logits.shape[0]):
        t_len, u_len = batch.logit_lengths[b], batch.target_lengths[b]
        losses[b], grad[b, :t_len, :u_len + 1] = spec.utterance_loss_and_grad(
            batch.logits[b, :t_len, :u_len + 1].astype(np.float64), batch.targets[b, :u_len],
            batch.blank, batch.durations, sigma, fused)
    return losses, grad
