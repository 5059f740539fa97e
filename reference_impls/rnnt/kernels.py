"""Fast Numba kernels for the RNN-T loss and its gradient; the spec is `spec.py`.

Three passes, each parallel over the rows it owns (`prange`, both cores here) and without the GIL:

1. `edge_weights`: per lattice node (b, t, u) the two edge weights phi(t, u) and
   label_weight * y(t, u), in float64. Fused, each node's exponentials exp(x_v - max_v x)
   are written into the gradient buffer (they are the softmax up to the node's sum, which is
   kept); the log-softmax itself is never materialised, and the gradient buffer is the only
   logits-sized array.
2. `lattice_alphas_betas`: the forward and backward recursions (Graves 2012, eqs. 16-18) in
   float64, one utterance per thread.
3. `logits_gradient`: the gradient, in place in that buffer, one (b, t) row of `(U+1, V)`
   per iteration: fused, p_v times the node's occupancy is its exponential times one factor
   (no second exp). Padding rows are written as zeros.

The input dtype (float32 or float64) is kept for the per-element work of passes 1 and 3, as
production float32 kernels do: float32 exponentials are `fast_exp.exp_nonpositive` (within
1 ulp, vectorised); everything summed, along a row or the lattice, is float64.

Callers must validate first (`validation.validate_rnnt_batch`): these kernels do not
bounds-check lengths, labels or the blank index.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from reference_impls.fast_exp import exp_nonpositive

ROW_SUMS = {"reassoc"}
"""Numba fastmath flags of the passes that sum a row of V exponentials: reassociation lets
LLVM vectorise the float64 sum (the order of a row's additions changes, not its precision)."""

NEG_INF = -np.inf


@njit(cache=True, inline="always")
def log_add(a, b):
    """log(exp(a) + exp(b)) for a, b in [-inf, inf), exact when either is -inf."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True, inline="always")
def _undefined_log_prob(value):
    """A log-prob the lattice cannot use: NaN, or +inf (a probability of infinity)."""
    return math.isnan(value) or value == np.inf


@njit(cache=True, parallel=True, nogil=True, fastmath=ROW_SUMS)
def edge_weights(inputs, targets, logit_lengths, target_lengths, blank, fused, label_weight,
                 exponentials, row_sums, blank_w, label_w):
    """Fill `blank_w` `(B, T, U+1)` and `label_w` `(B, T, U)` on valid nodes; fused, also
    `exponentials` (the gradient buffer, `inputs`' shape: exp(x_v - max_v x) per node) and
    `row_sums` `(B, T, U+1)` (their sum per node; the log-softmax normaliser is max_v x +
    log of it). Not fused, `row_sums` is 1.

    A row sum is NaN where the node's row holds NaN or +inf, or is all -inf (fused), or where
    a log-prob the lattice reads is NaN or +inf (not fused): the caller reports it.
    """
    batch, max_t, _, vocab = inputs.shape
    for row in prange(batch * max_t):
        b = row // max_t
        t = row - b * max_t
        if t >= logit_lengths[b]:
            continue
        num_labels = target_lengths[b]
        for u in range(num_labels + 1):
            x = inputs[b, t, u]
            if fused:
                peak = x[0]
                undefined = False
                for v in range(vocab):
                    peak = x[v] if x[v] > peak else peak
                    undefined |= math.isnan(x[v]) | (x[v] == np.inf)
                undefined |= peak == -np.inf
                e = exponentials[b, t, u]
                total = 0.0
                for v in range(vocab):
                    e[v] = exp_nonpositive(x[v] - peak)
                    total += e[v]
                norm = float(peak) + math.log(total)
                row_sums[b, t, u] = np.nan if undefined else total
            else:
                norm = 0.0
                row_sums[b, t, u] = 1.0
            blank_w[b, t, u] = x[blank] - norm
            if u < num_labels:
                label_w[b, t, u] = label_weight * (x[targets[b, u]] - norm)
            if not fused:
                undefined = _undefined_log_prob(blank_w[b, t, u])
                if u < num_labels:
                    undefined = undefined or _undefined_log_prob(label_w[b, t, u])
                if undefined:
                    row_sums[b, t, u] = np.nan


@njit(cache=True, parallel=True, nogil=True)
def lattice_alphas_betas(blank_w, label_w, logit_lengths, target_lengths, alphas, betas,
                         log_likelihood):
    """Fill `alphas`, `betas` `(B, T, U+1)` on valid nodes and `log_likelihood` `(B,)`."""
    for b in prange(blank_w.shape[0]):
        last_t = logit_lengths[b] - 1
        last_u = target_lengths[b]
        for t in range(last_t + 1):
            for u in range(last_u + 1):
                if t == 0 and u == 0:
                    alphas[b, 0, 0] = 0.0
                    continue
                from_blank = alphas[b, t - 1, u] + blank_w[b, t - 1, u] if t > 0 else NEG_INF
                from_label = alphas[b, t, u - 1] + label_w[b, t, u - 1] if u > 0 else NEG_INF
                alphas[b, t, u] = log_add(from_blank, from_label)
        for t in range(last_t, -1, -1):
            for u in range(last_u, -1, -1):
                if t == last_t and u == last_u:
                    betas[b, t, u] = blank_w[b, t, u]
                    continue
                via_blank = betas[b, t + 1, u] + blank_w[b, t, u] if t < last_t else NEG_INF
                via_label = betas[b, t, u + 1] + label_w[b, t, u] if u < last_u else NEG_INF
                betas[b, t, u] = log_add(via_blank, via_label)
        log_likelihood[b] = betas[b, 0, 0]


@njit(cache=True, parallel=True, nogil=True)
def logits_gradient(targets, logit_lengths, target_lengths, blank, fused, label_weight,
                    row_sums, blank_w, label_w, alphas, betas, log_likelihood, clamp, scale,
                    grad):
    """Turn `grad` (fused: the exponentials of `edge_weights`) into the gradient of
    `scale[b] * loss[b]` w.r.t. the inputs, in place.

    Per node: blank_occ and label_occ as in `spec.lattice_occupancy`; d loss / d lp is
    -blank_occ at blank and -label_weight * label_occ at the label. Fused, the gradient
    w.r.t. logit k is p_k * (blank_occ + label_weight * label_occ) minus those two terms,
    p_k * occupancy being exponential_k * (occupancy / row sum).
    `clamp > 0` clips each element of the unscaled gradient to [-clamp, clamp] (torchaudio).
    """
    batch, max_t, max_u1, vocab = grad.shape
    for row in prange(batch * max_t):
        b = row // max_t
        t = row - b * max_t
        last_t = logit_lengths[b] - 1
        last_u = target_lengths[b]
        cast = np.empty(1, dtype=grad.dtype)
        for u in range(max_u1):
            out = grad[b, t, u]
            if t > last_t or u > last_u:
                out[:] = 0.0
                continue
            if t < last_t:
                next_beta = betas[b, t + 1, u]
            elif u == last_u:
                next_beta = 0.0
            else:
                next_beta = NEG_INF
            base = alphas[b, t, u] - log_likelihood[b]
            blank_occ = math.exp(base + blank_w[b, t, u] + next_beta)
            label_term = 0.0
            label = -1
            if u < last_u:
                label = targets[b, u]
                label_term = label_weight * math.exp(base + label_w[b, t, u] + betas[b, t, u + 1])
            if fused:
                cast[0] = (blank_occ + label_term) / row_sums[b, t, u]
                factor = cast[0]
                for v in range(vocab):
                    out[v] = out[v] * factor
            else:
                out[:] = 0.0
            out[blank] -= blank_occ
            if label >= 0:
                out[label] -= label_term
            factor = scale[b]
            if clamp > 0.0:
                for v in range(vocab):
                    out[v] = min(max(out[v], -clamp), clamp) * factor
            elif factor != 1.0:
                for v in range(vocab):
                    out[v] = out[v] * factor
