"""Fast Numba kernels for the RNN-T loss and its gradient; the spec is `spec.py`.

Three kernels. The gradient buffer (the logits' shape and dtype) is the only logits-sized
array; besides it one float64 value per lattice node, `node_values` `(B, T, U+1)`, carries
what one kernel hands the next.

1. `softmax_numerators` (parallel over (b, t) rows): fused, each node's exponentials
   e_v = exp(x_v - max x) into the gradient buffer and their sum (the softmax's denominator)
   into `node_values`. Not fused (log-probs given) there is nothing to do but flag NaN.
2. `gradient_factors` (parallel over utterances): the lattice, in one of two forms of the
   same recursions (Graves 2012, eqs. 16-18), each leaving per node the factor
   c = (blank_occ + label_weight * label_occ) / denominator in `node_values` and the final
   gradient at the blank and at the label in the gradient buffer:

   * Scaled (the fast path, fused only): linear space, every row t of the forward and
     backward variables renormalised by its largest value (Rabiner 1989's scaling; the CTC
     kernels do the same per frame). Edge weights are e_blank / denominator and
     (e_label / denominator) ** label_weight, read from the buffer: no exp or log per node.
     The occupancies of the blank edges leaving row t sum to 1 (every alignment leaves each
     frame by exactly one blank), so each row's normaliser is the reciprocal of that sum.
   * Log space: log-adds throughout, in float64, on the scaled form's edge weights as logs,
     log(e / denominator) (x - max x - log denominator where e underflowed). Used for the
     utterances the scaled form flags: a zero or subnormal exponential on an edge (in
     float32 a log-prob more than 87 below its node's peak, or -inf), or a forward, backward
     or blank-occupancy value below SMALLEST_SAFE_VALUE (forward and backward mass that
     barely overlap), where linear space would lose the answer to underflow; and every
     utterance when not fused (the log-probs themselves).
3. `finish_gradient` (parallel over (b, t) rows): p_v * occupancy is e_v * c, so each row is
   multiplied by its factor (the blank and label entries kept), clamped and scaled; padding
   is zeroed.

The input dtype (float32 or float64) is kept for the per-element work of kernels 1 and 3, as
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
"""Numba fastmath flags of the kernels that sum a row of V exponentials: reassociation lets
LLVM vectorise the float64 sum (the order of a row's additions changes, not its precision)."""

NEG_INF = -np.inf

SMALLEST_SAFE_VALUE = 1e-250
"""A scaled forward, backward or blank-occupancy value below this sends the utterance to log
space: a product under it may have lost digits to float64's subnormal range (2.2e-308)."""

SMALLEST_NORMAL = 2.2250738585072014e-308
"""float64's smallest normal number: an edge's exponential under it (zero, or a float64
subnormal) has lost its relative precision, so the scaled form cannot use it."""


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


@njit(cache=True, inline="always", fastmath=ROW_SUMS)
def _denominator(e):
    """The float64 sum of a node's exponentials (one function, so every kernel that needs
    the softmax's denominator gets the same bits)."""
    total = 0.0
    for v in range(e.shape[0]):
        total += e[v]
    return total


@njit(cache=True, inline="always")
def _peak(x):
    """max x, and whether the row is undefined (holds NaN or +inf, or is all -inf)."""
    peak = x[0]
    undefined = False
    for v in range(x.shape[0]):
        peak = x[v] if x[v] > peak else peak
        undefined |= math.isnan(x[v]) | (x[v] == np.inf)
    return peak, undefined or peak == NEG_INF


LANES = 8
"""Running maxima `_peak_in_lanes` keeps: LLVM vectorises a maximum over V only as LANES
explicit ones (a single running maximum stays scalar), 2.5x faster at V = 1024."""


@njit(cache=True, inline="always")
def _peak_in_lanes(x, lanes):
    """`_peak(x)` for long rows, `lanes` a scratch array of LANES: the maximum taken in
    LANES interleaved running maxima, and NaN or an infinity found through the sum of
    x * 0 (NaN exactly then), the slow check made only for such a row."""
    vocab = x.shape[0]
    lanes[:] = x[0]
    for start in range(0, vocab - LANES + 1, LANES):
        for k in range(LANES):
            lanes[k] = x[start + k] if x[start + k] > lanes[k] else lanes[k]
    peak = lanes[0]
    for k in range(LANES):
        peak = lanes[k] if lanes[k] > peak else peak
    for v in range(vocab // LANES * LANES, vocab):
        peak = x[v] if x[v] > peak else peak
    infinities = x[0] * 0.0
    for v in range(vocab):
        infinities += x[v] * 0.0
    if math.isnan(infinities):
        return _peak(x)
    return peak, False


@njit(cache=True, inline="always")
def _peak_and_exponentials(x, e, lanes):
    """Write exp(x_v - max x) into `e`; return `_peak(x)` (`lanes`: see `_peak_in_lanes`)."""
    peak, undefined = _peak_in_lanes(x, lanes)
    for v in range(x.shape[0]):
        e[v] = exp_nonpositive(x[v] - peak)
    return peak, undefined


FLAT_BELOW_VOCAB = 64
"""Under this vocabulary a (b, t) row's exponentials are taken in one loop over all its nodes
(each value minus its node's peak): a loop per node of fewer than 64 values spends most of
its time in the scalar remainder the vectorised loop leaves."""


@njit(cache=True, nogil=True, fastmath=ROW_SUMS)
def _flat_row_exponentials(x, e, nodes, node_values_row):
    """`_peak_and_exponentials` for the first `nodes` nodes of a (b, t) row `x` `(U+1, V)`,
    in one flat loop; each node's denominator, or NaN, into `node_values_row`."""
    vocab = x.shape[1]
    size = nodes * vocab
    flat_x = x.reshape(x.size)
    flat_e = e.reshape(e.size)
    shifts = np.empty(size, dtype=x.dtype)
    for u in range(nodes):
        peak, undefined = _peak(x[u])
        shifts[u * vocab:(u + 1) * vocab] = peak
        node_values_row[u] = np.nan if undefined else 0.0
    for i in range(size):
        flat_e[i] = exp_nonpositive(flat_x[i] - shifts[i])
    for u in range(nodes):
        if node_values_row[u] == 0.0:
            node_values_row[u] = _denominator(e[u])


@njit(cache=True, parallel=True, nogil=True, fastmath=ROW_SUMS)
def softmax_numerators(inputs, targets, logit_lengths, target_lengths, blank, fused,
                       exponentials, node_values):
    """Fused: fill `exponentials` (the gradient buffer) with exp(x_v - max_v x) and
    `node_values` `(B, T, U+1)` with their sum, on valid nodes. Not fused: `node_values` is 1.

    A node's value is NaN where its row holds NaN or +inf, or is all -inf (fused), or where
    a log-prob the lattice reads is NaN or +inf (not fused): the caller reports it.
    """
    batch, max_t, _, vocab = inputs.shape
    for row in prange(batch * max_t):
        b = row // max_t
        t = row - b * max_t
        if t >= logit_lengths[b]:
            continue
        num_labels = target_lengths[b]
        if fused and vocab < FLAT_BELOW_VOCAB:
            _flat_row_exponentials(inputs[b, t], exponentials[b, t], num_labels + 1,
                                   node_values[b, t])
            continue
        lanes = np.empty(LANES, dtype=inputs.dtype)
        for u in range(num_labels + 1):
            x = inputs[b, t, u]
            if fused:
                e = exponentials[b, t, u]
                undefined = _peak_and_exponentials(x, e, lanes)[1]
                node_values[b, t, u] = np.nan if undefined else _denominator(e)
            else:
                undefined = _undefined_log_prob(x[blank])
                if u < num_labels:
                    undefined = undefined or _undefined_log_prob(x[targets[b, u]])
                node_values[b, t, u] = np.nan if undefined else 1.0


@njit(cache=True, inline="always")
def _finish_node(out, cast, factor, blank, blank_value, label, label_value, fused, clamp,
                 scale):
    """Write a valid node's final gradient row: fused, e_v * factor (the row holds e on
    entry), else 0; `blank_value` at blank and `label_value` at `label` (< 0: none); each
    clipped to [-clamp, clamp] if clamp > 0, then times `scale`. `cast` is a scratch array
    of one element of the row's dtype (the row is multiplied in that dtype)."""
    now = 1.0 if clamp > 0.0 else scale
    if fused:
        cast[0] = factor * now
        row_factor = cast[0]
        for v in range(out.shape[0]):
            out[v] = out[v] * row_factor
    else:
        out[:] = 0.0
    out[blank] = blank_value * now
    if label >= 0:
        out[label] = label_value * now
    if clamp > 0.0:
        cast[0] = scale
        after_clamp = cast[0]
        for v in range(out.shape[0]):
            out[v] = min(max(out[v], -clamp), clamp) * after_clamp


@njit(cache=True, inline="always")
def _edge_weights(e, denominator, blank, label, label_weight):
    """The blank and (label_weight-powered) label edge weights of a node, and whether either
    exponential is under SMALLEST_NORMAL (`label` < 0: the node has no label edge)."""
    blank_e = e[blank] * 1.0
    blank_weight = blank_e / denominator
    if label < 0:
        return blank_weight, 0.0, blank_e < SMALLEST_NORMAL
    label_e = e[label] * 1.0
    label_prob = label_e / denominator
    label_weight_value = label_prob if label_weight == 1.0 else label_prob ** label_weight
    underflow = (blank_e < SMALLEST_NORMAL) | (label_e < SMALLEST_NORMAL)
    return blank_weight, label_weight_value, underflow


@njit(cache=True, nogil=True, fastmath=ROW_SUMS)
def _scaled_forward(b, grad, targets, last_t, last_u, blank, label_weight, node_values):
    """Scaled forward pass of utterance b: `node_values[b]` holds the denominators on entry
    and alpha-hat (each row's alphas over the row's largest) on valid nodes on exit. Returns
    log P(y | x) and last_t + 1, or, flagged, NaN and the flagged row (the rows from it on
    still hold their denominators)."""
    row = np.empty(last_u + 1)
    down = np.empty(last_u + 1)
    log_scale = 0.0
    for t in range(last_t + 1):
        left = 0.0
        peak = 0.0
        for u in range(last_u + 1):
            label = targets[b, u] if u < last_u else -1
            blank_weight, label_weight_value, underflow = _edge_weights(
                grad[b, t, u], node_values[b, t, u], blank, label, label_weight)
            alpha = left + (down[u] if t > 0 else (1.0 if u == 0 else 0.0))
            if underflow or alpha < SMALLEST_SAFE_VALUE:
                return np.nan, t
            row[u] = alpha
            down[u] = alpha * blank_weight
            left = alpha * label_weight_value
            peak = max(peak, alpha)
        inverse = 1.0 / peak
        for u in range(last_u + 1):
            node_values[b, t, u] = row[u] * inverse
            down[u] *= inverse
        log_scale += math.log(peak)
    return math.log(down[last_u]) + log_scale, last_t + 1


@njit(cache=True, nogil=True, fastmath=ROW_SUMS)
def _scaled_backward(b, grad, targets, last_t, last_u, blank, label_weight, node_values):
    """Scaled backward pass of utterance b, writing its nodes' factors c and final blank and
    label gradients row by row from the last. Returns False if flagged (the rows after the
    flagged one are written, so their exponentials at blank and label are gone)."""
    after = np.zeros(last_u + 1)
    after[last_u] = 1.0
    here = np.empty(last_u + 1)
    blank_weights = np.empty(last_u + 1)
    label_weights = np.empty(last_u + 1)
    denominators = np.empty(last_u + 1)
    for t in range(last_t, -1, -1):
        blank_mass = 0.0
        peak = 0.0
        for u in range(last_u, -1, -1):
            label = targets[b, u] if u < last_u else -1
            denominators[u] = _denominator(grad[b, t, u])
            blank_weights[u], label_weights[u], _ = _edge_weights(
                grad[b, t, u], denominators[u], blank, label, label_weight)
            beta = blank_weights[u] * after[u]
            if u < last_u:
                beta += label_weights[u] * here[u + 1]
            if beta < SMALLEST_SAFE_VALUE:
                return False
            here[u] = beta
            peak = max(peak, beta)
            blank_mass += node_values[b, t, u] * blank_weights[u] * after[u]
        if blank_mass < SMALLEST_SAFE_VALUE:
            return False
        normaliser = 1.0 / blank_mass
        for u in range(last_u + 1):
            out = grad[b, t, u]
            share = node_values[b, t, u] * normaliser
            blank_occ = share * blank_weights[u] * after[u]
            label_term = 0.0
            if u < last_u:
                label_term = label_weight * share * label_weights[u] * here[u + 1]
            factor = (blank_occ + label_term) / denominators[u]
            node_values[b, t, u] = factor
            out[blank] = out[blank] * factor - blank_occ
            if u < last_u:
                label = targets[b, u]
                out[label] = out[label] * factor - label_term
        inverse = 1.0 / peak
        for u in range(last_u + 1):
            after[u] = here[u] * inverse
    return True


@njit(cache=True, inline="always")
def _log_edge_weight(x, e, index, log_denominator):
    """log(e_index / denominator): log(e) where e is normal, else (an exponential that
    underflowed) x_index - max x, exact in float64."""
    value = e[index] * 1.0
    if value >= SMALLEST_NORMAL:
        return math.log(value) - log_denominator
    peak = x[0]
    for v in range(x.shape[0]):
        peak = x[v] if x[v] > peak else peak
    return float(x[index]) - float(peak) - log_denominator


@njit(cache=True, nogil=True, fastmath=ROW_SUMS)
def _log_space_utterance(b, inputs, targets, last_t, last_u, blank, fused, label_weight,
                         first_stored_row, grad, node_values):
    """Utterance b in log space: the same outputs as the scaled passes. The rows from
    `first_stored_row` on hold their denominators in `node_values`; earlier rows get them
    from the buffer's exponentials, made again first if `first_stored_row` is -1 (the scaled
    backward pass overwrote some). Edge log-weights are those of the scaled form,
    log(e / denominator); not fused, the log-probs. Returns log P(y | x) (-inf: none)."""
    shape = (last_t + 1, last_u + 1)
    lanes = np.empty(LANES, dtype=inputs.dtype)
    blank_w = np.empty(shape)
    label_w = np.full(shape, NEG_INF)
    denominators = np.ones(shape)
    for t in range(last_t + 1):
        for u in range(last_u + 1):
            x = inputs[b, t, u]
            label = targets[b, u] if u < last_u else -1
            if not fused:
                blank_w[t, u] = x[blank]
                if label >= 0:
                    label_w[t, u] = label_weight * x[label]
                continue
            e = grad[b, t, u]
            if first_stored_row < 0:
                _peak_and_exponentials(x, e, lanes)
            if 0 <= first_stored_row <= t:
                denominators[t, u] = node_values[b, t, u]
            else:
                denominators[t, u] = _denominator(e)
            log_denominator = math.log(denominators[t, u])
            blank_w[t, u] = _log_edge_weight(x, e, blank, log_denominator)
            if label >= 0:
                label_w[t, u] = label_weight * _log_edge_weight(x, e, label, log_denominator)
    alphas = np.full(shape, NEG_INF)
    betas = np.full(shape, NEG_INF)
    alphas[0, 0] = 0.0
    for t in range(last_t + 1):
        for u in range(last_u + 1):
            if t == 0 and u == 0:
                continue
            from_blank = alphas[t - 1, u] + blank_w[t - 1, u] if t > 0 else NEG_INF
            from_label = alphas[t, u - 1] + label_w[t, u - 1] if u > 0 else NEG_INF
            alphas[t, u] = log_add(from_blank, from_label)
    for t in range(last_t, -1, -1):
        for u in range(last_u, -1, -1):
            if t == last_t and u == last_u:
                betas[t, u] = blank_w[t, u]
                continue
            via_blank = betas[t + 1, u] + blank_w[t, u] if t < last_t else NEG_INF
            via_label = betas[t, u + 1] + label_w[t, u] if u < last_u else NEG_INF
            betas[t, u] = log_add(via_blank, via_label)
    log_likelihood = betas[0, 0]
    for t in range(last_t + 1):
        for u in range(last_u + 1):
            if t < last_t:
                next_beta = betas[t + 1, u]
            elif u == last_u:
                next_beta = 0.0
            else:
                next_beta = NEG_INF
            base = alphas[t, u] - log_likelihood
            blank_occ = math.exp(base + blank_w[t, u] + next_beta)
            label_term = 0.0
            if u < last_u:
                label_term = label_weight * math.exp(base + label_w[t, u] + betas[t, u + 1])
            out = grad[b, t, u]
            factor = (blank_occ + label_term) / denominators[t, u] if fused else 0.0
            node_values[b, t, u] = factor
            out[blank] = (out[blank] * factor if fused else 0.0) - blank_occ
            if u < last_u:
                label = targets[b, u]
                out[label] = (out[label] * factor if fused else 0.0) - label_term
    return log_likelihood


@njit(cache=True, parallel=True, nogil=True)
def gradient_factors(inputs, targets, logit_lengths, target_lengths, blank, fused,
                     label_weight, grad, node_values, log_likelihood, in_log_space):
    """Per utterance b: `log_likelihood[b]`, and on its valid nodes the factor c in
    `node_values` and the final gradient of the unscaled loss at blank and label in `grad`
    (see the module docstring). `in_log_space[b]` records which form computed it."""
    for b in prange(inputs.shape[0]):
        last_t = logit_lengths[b] - 1
        last_u = target_lengths[b]
        in_log_space[b] = True
        first_stored_row = 0
        if fused:
            log_likelihood[b], first_stored_row = _scaled_forward(
                b, grad, targets, last_t, last_u, blank, label_weight, node_values)
            if first_stored_row > last_t:
                in_log_space[b] = not _scaled_backward(b, grad, targets, last_t, last_u, blank,
                                                       label_weight, node_values)
                first_stored_row = -1
        if in_log_space[b]:
            log_likelihood[b] = _log_space_utterance(
                b, inputs, targets, last_t, last_u, blank, fused, label_weight,
                first_stored_row, grad, node_values)


@njit(cache=True, parallel=True, nogil=True)
def finish_gradient(targets, logit_lengths, target_lengths, blank, fused, node_values, clamp,
                    scale, grad):
    """Turn `grad` into the gradient of `scale[b] * loss[b]` w.r.t. the inputs, in place:
    each valid node by `_finish_node` (its factor c from `node_values`, its blank and label
    entries, already final, from the row), padding rows as zeros."""
    batch, max_t, max_u1, _ = grad.shape
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
            label = targets[b, u] if u < last_u else -1
            label_value = out[label] * 1.0 if label >= 0 else 0.0
            _finish_node(out, cast, node_values[b, t, u], blank, out[blank] * 1.0, label,
                         label_value, fused, clamp, scale[b])
