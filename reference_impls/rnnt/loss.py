"""The RNN-T loss oracle: validation, dispatch to the spec or the Numba kernels, reduction.

Conventions (torchaudio's, so that users' habits carry over):

* `logits` is `(B, T, U+1, V)`; `targets` `(B, U)` with `U = logits.shape[2] - 1`; lengths
  `(B,)`. Everything outside an utterance's valid region `[:logit_lengths[b],
  :target_lengths[b] + 1]` (and labels beyond `target_lengths[b]`) is ignored, whatever it
  holds, NaN included.
* `blank=-1` (last index) by default; negative indices count from the end.
* `fused_log_softmax=True`: `logits` are unnormalised and log_softmax is applied inside; the
  gradient is w.r.t. the logits. `False`: `logits` are log-probs, used as given (raw logits
  here give a meaningless, possibly negative, loss, as in torchaudio); the gradient is the
  true derivative w.r.t. those log-probs.
* `reduction`: "none" returns `(B,)` losses, "sum" their sum, "mean" their batch mean (not
  divided by target length). The returned gradient is that of the reduced loss; for "none"
  it is the gradient of the sum.
* `clamp > 0` clips each element of an utterance's gradient to `[-clamp, clamp]` before the
  reduction's scaling, as torchaudio's kernel does; `clamp <= 0` disables it.
* An utterance with no possible alignment (P(y | x) = 0, e.g. -inf log-probs) has loss +inf
  and a NaN gradient over its valid region (the derivative is undefined there).

FastEmit (Yu et al. 2021, "FastEmit: Low-latency Streaming ASR with Sequence-level Emission
Regularization"): the paper scales the gradient of every label emission by (1 + lambda). That
field is not the gradient of any function (its Jacobian is not symmetric), and NeMo reports
(1 + lambda) * NLL as the cost while returning that gradient, so value and gradient disagree.
This oracle instead defines a function and returns its exact gradient:

    loss_lambda = -log sum over alignments of  prod phi(t, u) * prod y(t, u) ** (1 + lambda)

i.e. the lattice with each label log-prob weighted by (1 + lambda). Its gradient w.r.t. each
label log-prob is -(1 + lambda) * (label occupancy in that lattice), the paper's (1 + lambda)
scaling with occupancies of the weighted lattice; at lambda = 0 it is the RNN-T loss, and the
two gradients agree to first order in lambda. Finite differences check value against gradient.
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_finite_scalar, check_reduction
from reference_impls.rnnt import kernels, spec
from reference_impls.rnnt.validation import (
    RNNTBatch,
    report_undefined_rows,
    validate_rnnt_batch,
)

IMPLEMENTATIONS = ("numba", "spec")


def rnnt_loss(logits, targets, logit_lengths, target_lengths, blank=-1, clamp=-1.0,
              reduction="mean", fused_log_softmax=True, fastemit_lambda=0.0, *,
              implementation="numba"):
    """RNN-T loss (Graves 2012) and its gradient, with torchaudio's argument conventions.

    Args:
        logits: `(B, T, U+1, V)` float32 or float64 array (log-probs if not fused).
        targets: `(B, U)` integer labels; `U` must equal `logits.shape[2] - 1`.
        logit_lengths: `(B,)` integers in `[1, T]`.
        target_lengths: `(B,)` integers in `[0, U]`.
        blank: blank index (default -1, the last).
        clamp: clip each element of an utterance's gradient to `[-clamp, clamp]` if > 0.
        reduction: "none" | "sum" | "mean" (batch mean).
        fused_log_softmax: apply log_softmax to `logits` inside the loss.
        fastemit_lambda: FastEmit weight >= 0 (see the module docstring for the convention).
        implementation: "numba" (fast; gradient in the input dtype, lattice in float64) or
            "spec" (readable NumPy, float64 throughout).

    Returns:
        `(loss, grad)`: loss is a float64 array, `(B,)` for "none" and 0-d otherwise; grad
        has the shape of `logits` and is the gradient of the reduced loss w.r.t. `logits`
        (w.r.t. the logits when fused, the log-probs when not).

    Raises:
        TypeError, ValueError: on malformed input, naming the argument and batch index.
    """
    batch = validate_rnnt_batch(logits, targets, logit_lengths, target_lengths, blank)
    clamp = check_finite_scalar(clamp, "clamp")
    reduction = check_reduction(reduction)
    label_weight = 1.0 + check_finite_scalar(fastemit_lambda, "fastemit_lambda", minimum=0.0)
    if not isinstance(fused_log_softmax, (bool, np.bool_)):
        raise TypeError(f"fused_log_softmax must be a bool, got {type(fused_log_softmax).__name__}")
    fused = bool(fused_log_softmax)
    scale = np.full(batch.batch_size, 1.0 / batch.batch_size if reduction == "mean" else 1.0)

    if implementation == "numba":
        losses, grad = _numba_loss_and_grad(batch, fused, label_weight, clamp, scale)
    elif implementation == "spec":
        losses, grad = _spec_loss_and_grad(batch, fused, label_weight, clamp, scale)
    else:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")

    for b in np.flatnonzero(np.isposinf(losses)):
        grad[b, : batch.logit_lengths[b], : batch.target_lengths[b] + 1] = np.nan
    if reduction == "none":
        return losses, grad
    total = losses.sum()
    return np.asarray(total / batch.batch_size if reduction == "mean" else total), grad


def _numba_loss_and_grad(batch: RNNTBatch, fused, label_weight, clamp, scale):
    grad = np.empty_like(batch.logits)
    node_values = np.zeros(batch.logits.shape[:3])
    kernels.softmax_numerators(batch.logits, batch.targets, batch.logit_lengths,
                               batch.target_lengths, batch.blank, fused, grad, node_values)
    if np.isnan(node_values).any():
        report_undefined_rows(node_values, batch)
    log_likelihood = np.empty(batch.batch_size)
    in_log_space = np.empty(batch.batch_size, dtype=np.bool_)
    kernels.gradient_factors(batch.logits, batch.targets, batch.logit_lengths,
                             batch.target_lengths, batch.blank, fused, label_weight, grad,
                             node_values, log_likelihood, in_log_space)
    kernels.finish_gradient(batch.targets, batch.logit_lengths, batch.target_lengths,
                            batch.blank, fused, node_values, clamp, scale, grad)
    return -log_likelihood, grad


def _spec_loss_and_grad(batch: RNNTBatch, fused, label_weight, clamp, scale):
    report_undefined_rows(_spec_undefined_nodes(batch, fused), batch)
    losses = np.empty(batch.batch_size)
    grad = np.zeros(batch.logits.shape)
    for b in range(batch.batch_size):
        t_len, u_len = batch.logit_lengths[b], batch.target_lengths[b]
        valid = batch.logits[b, :t_len, : u_len + 1]
        with np.errstate(invalid="ignore", over="ignore"):
            losses[b], utterance_grad = spec.utterance_loss_and_grad(
                valid, batch.targets[b, :u_len], batch.blank, fused, label_weight)
        if clamp > 0:
            utterance_grad = np.clip(utterance_grad, -clamp, clamp)
        grad[b, :t_len, : u_len + 1] = scale[b] * utterance_grad
    return losses, grad


def _spec_undefined_nodes(batch: RNNTBatch, fused) -> np.ndarray:
    """`(B, T, U+1)` markers, NaN on valid nodes whose log-probs are undefined (see kernels)."""
    markers = np.zeros(batch.logits.shape[:3])
    for b in range(batch.batch_size):
        t_len, u_len = batch.logit_lengths[b], batch.target_lengths[b]
        valid = batch.logits[b, :t_len, : u_len + 1].astype(np.float64)
        if fused:
            undefined = (np.isnan(valid).any(-1) | np.isposinf(valid).any(-1)
                         | np.isneginf(valid).all(-1))
        else:
            read = np.full(valid.shape[:2] + (2,), -np.inf)
            read[:, :, 0] = valid[:, :, batch.blank]
            for u in range(u_len):
                read[:, u, 1] = valid[:, u, batch.targets[b, u]]
            undefined = (np.isnan(read) | np.isposinf(read)).any(-1)
        markers[b, :t_len, : u_len + 1][undefined] = np.nan
    return markers
