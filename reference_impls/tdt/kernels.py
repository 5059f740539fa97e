"""Fast Numba kernel of the TDT loss and its gradient; the spec (`spec.py`) states the lattice,
its arcs and their occupancies, which this computes the same way, in float64 log space.

One utterance per thread (`prange` over the batch). Per utterance, per node, the kernel
first reads what the lattice needs: the log-probs of blank, of the node's label and of each
duration (each part log-softmaxed on its own when fused: one pass over the node's V + D
values for the two maxima, one for the exponentials, kept in the gradient buffer, and their
sums). Then alphas and betas
(each node log-adds over its D incoming or outgoing arcs of each kind; label arcs of
duration 0 stay on the frame, so u ascends forward and descends backward), then each arc's
occupancy exp(alpha + weight + beta - log P), summed per node into the blank, label and
per-duration gradients, and the node's gradient row finished: fused, p_k * occupancy(node) -
(arc occupancies of token k), likewise for the durations; not fused, minus the arc
occupancies. Everything is float64; the gradient buffer is float64 (as the spec's).

Callers must validate first (`validation.validate_tdt_batch`): the kernel does not
bounds-check lengths, labels, durations or the blank index.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from reference_impls.rnnt.kernels import log_add

NEG_INF = -np.inf


@njit(cache=True, inline="always")
def _exponentials(x, e, start, stop):
    """e[v] = exp(x[v] - max x[start:stop]) for v in [start, stop); returns (log sum exp of
    x[start:stop], sum of e) in float64 (-inf and 0 when every value is -inf)."""
    peak = NEG_INF
    for v in range(start, stop):
        peak = max(peak, float(x[v]))
    if peak == NEG_INF:
        return NEG_INF, 0.0
    total = 0.0
    for v in range(start, stop):
        e[v] = math.exp(float(x[v]) - peak)
        total += e[v]
    return peak + math.log(total), total


@njit(cache=True, inline="always")
def _undefined(x, vocab, fused):
    """Whether a node's row `x` (V + D) holds NaN or +inf or (fused) a part that is -inf
    everywhere: its log-softmax, or a log-prob the lattice reads, is undefined."""
    check = 0.0
    for v in range(x.shape[0]):
        check += float(x[v]) * 0.0
    if math.isnan(check):
        for v in range(x.shape[0]):
            if math.isnan(x[v]) or x[v] == np.inf:
                return True
    if not fused:
        return False
    tokens_finite = durations_finite = False
    for v in range(x.shape[0]):
        if x[v] != NEG_INF:
            tokens_finite |= v < vocab
            durations_finite |= v >= vocab
    return not (tokens_finite and durations_finite)


@njit(cache=True, nogil=True, error_model="numpy")
def _utterance(x, labels, frames, nodes, durations, blank, sigma, fused, grad, undefined):
    """TDT log P(y | x) of one utterance `x` `(T, U+1, V + D)` (its valid region first), and
    d(-log P) / d inputs into `grad` (float64, same layout; the valid region is written).
    A node whose row is undefined (`_undefined`) is marked NaN in `undefined` `(T, U+1)` and
    NaN is returned, with nothing computed."""
    num_durations = durations.shape[0]
    vocab = x.shape[2] - num_durations
    last = nodes - 1
    token_norm = np.zeros((frames, nodes))
    duration_norm = np.zeros((frames, nodes))
    token_sum = np.ones((frames, nodes))
    duration_sum = np.ones((frames, nodes))
    blank_w = np.empty((frames, nodes))
    label_w = np.full((frames, nodes), NEG_INF)
    duration_w = np.empty((frames, nodes, num_durations))
    flagged = False
    for t in range(frames):
        for u in range(nodes):
            if _undefined(x[t, u], vocab, fused):
                undefined[t, u] = np.nan
                flagged = True
    if flagged:
        return np.nan
    for t in range(frames):
        for u in range(nodes):
            row = x[t, u]
            if fused:
                token_norm[t, u], token_sum[t, u] = _exponentials(row, grad[t, u], 0, vocab)
                duration_norm[t, u], duration_sum[t, u] = _exponentials(
                    row, grad[t, u], vocab, vocab + num_durations)
            blank_w[t, u] = row[blank] - token_norm[t, u] - sigma
            if u < last:
                label_w[t, u] = row[labels[u]] - token_norm[t, u] - sigma
            for i in range(num_durations):
                duration_w[t, u, i] = row[vocab + i] - duration_norm[t, u]
    alphas = np.full((frames + 1, nodes), NEG_INF)
    alphas[0, 0] = 0.0
    for t in range(frames + 1):
        for u in range(nodes):
            if t == 0 and u == 0:
                continue
            if t == frames and u != last:
                continue
            total = NEG_INF
            for i in range(num_durations):
                d = durations[i]
                source = t - d
                if source < 0:
                    continue
                if d > 0:
                    total = log_add(total, alphas[source, u] + blank_w[source, u]
                                    + duration_w[source, u, i])
                if u > 0 and t < frames:
                    total = log_add(total, alphas[source, u - 1] + label_w[source, u - 1]
                                    + duration_w[source, u - 1, i])
            alphas[t, u] = total
    betas = np.full((frames + 1, nodes), NEG_INF)
    betas[frames, last] = 0.0
    for t in range(frames - 1, -1, -1):
        for u in range(last, -1, -1):
            total = NEG_INF
            for i in range(num_durations):
                landing = t + durations[i]
                if durations[i] > 0 and (landing < frames or (landing == frames and u == last)):
                    total = log_add(total, blank_w[t, u] + duration_w[t, u, i]
                                    + betas[landing, u])
                if u < last and landing < frames:
                    total = log_add(total, label_w[t, u] + duration_w[t, u, i]
                                    + betas[landing, u + 1])
            betas[t, u] = total
    log_likelihood = betas[0, 0]
    if log_likelihood == NEG_INF:
        return log_likelihood
    occupancy = np.empty(num_durations)
    for t in range(frames):
        for u in range(nodes):
            blank_occ = label_occ = 0.0
            for i in range(num_durations):
                occupancy[i] = 0.0
                landing = t + durations[i]
                if durations[i] > 0 and (landing < frames or (landing == frames and u == last)):
                    share = math.exp(alphas[t, u] + blank_w[t, u] + duration_w[t, u, i]
                                     + betas[landing, u] - log_likelihood)
                    blank_occ += share
                    occupancy[i] += share
                if u < last and landing < frames:
                    share = math.exp(alphas[t, u] + label_w[t, u] + duration_w[t, u, i]
                                     + betas[landing, u + 1] - log_likelihood)
                    label_occ += share
                    occupancy[i] += share
            out = grad[t, u]
            node_occ = blank_occ + label_occ
            if fused:
                token_factor = node_occ / token_sum[t, u]
                for v in range(vocab):
                    out[v] *= token_factor
                duration_factor = node_occ / duration_sum[t, u]
                for i in range(num_durations):
                    out[vocab + i] *= duration_factor
            out[blank] -= blank_occ
            if u < last:
                out[labels[u]] -= label_occ
            for i in range(num_durations):
                out[vocab + i] -= occupancy[i]
    return log_likelihood


@njit(cache=True, parallel=True, nogil=True)
def tdt_utterances(inputs, targets, logit_lengths, target_lengths, durations, blank, sigma,
                   fused, log_likelihood, grad, undefined):
    """Per utterance b: `log_likelihood[b]` and the gradient of -log P in `grad[b]`'s valid
    region (`grad` float64, zero on entry; padding stays zero; where P = 0 the valid region is
    left holding exponentials, for the caller to mark undefined). Nodes with undefined rows
    are marked NaN in `undefined` `(B, T, U+1)` (zero on entry): the caller reports them."""
    for b in prange(inputs.shape[0]):
        frames, nodes = logit_lengths[b], target_lengths[b] + 1
        log_likelihood[b] = _utterance(inputs[b], targets[b], frames, nodes, durations,
                                       blank, sigma, fused, grad[b], undefined[b])
