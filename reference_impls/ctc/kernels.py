"""Fast Numba kernels for the CTC loss and its gradient; the spec is `spec.py`.

Two forms of the same recursions (Graves et al. 2006, eqs. 5-11), each utterance one
`prange` iteration (both cores, no GIL), everything accumulated in float64:

* Scaled (the fast path): the forward-backward recursion in linear space with every frame
  renormalised to sum 1 (Rabiner 1989; Graves 2006, section 4.1), on emissions
  exp(lp - m_t) shifted by each frame's largest emission m_t. log P = sum_t (m_t + log c_t)
  with c_t the frame's normaliser; the occupancy of state s at t is proportional to
  alpha^(t, s) beta^(t, s) / e(t, s), renormalised over s.
* Log space (`ctc_alphas_betas`, `ctc_log_probs_gradient`): logaddexp throughout. Used for
  the utterances the scaled form flags: a frame whose normaliser or occupancy total leaves
  float64's normal range (forward and backward mass that barely overlap, on targets the
  model badly disagrees with), where linear space would lose the answer to underflow.

Lattices are laid out `(B, T, S')` (contiguous over states, the inner loop), unlike the
spec's `(S', T)`. Callers validate first: these kernels do not bounds-check.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from reference_impls.rnnt.kernels import NEG_INF, log_add


@njit(cache=True, inline="always")
def _skip_allowed(extended, b, s):
    return s >= 2 and extended[b, s] != extended[b, 0] and extended[b, s] != extended[b, s - 2]


SMALLEST_SAFE_TOTAL = 1e-250


@njit(cache=True, parallel=True, nogil=True)
def ctc_scaled_forward_backward(log_probs, extended, num_states, input_lengths, emissions,
                                alphas, betas, log_likelihood, needs_log_space):
    """Per-frame-normalised alphas and betas `(B, T, S')`, log P, and the fallback flags.

    `emissions` receives exp(lp[t, l'_s] - m_t). An utterance whose frame normaliser, or
    whose final states' share of the last frame, falls below SMALLEST_SAFE_TOTAL is flagged
    in `needs_log_space` and left for the log kernels, which also decide infeasibility.
    """
    for b in prange(log_probs.shape[1]):
        last_t = input_lengths[b] - 1
        states = num_states[b]
        needs_log_space[b] = False
        log_scale = 0.0
        for t in range(last_t + 1):
            peak = NEG_INF
            for s in range(states):
                peak = max(peak, log_probs[t, b, extended[b, s]])
            if peak == NEG_INF:
                needs_log_space[b] = True
                break
            log_scale += peak
            for s in range(states):
                emissions[b, t, s] = math.exp(log_probs[t, b, extended[b, s]] - peak)
        if needs_log_space[b]:
            continue
        for t in range(last_t + 1):
            total = 0.0
            for s in range(states):
                if t == 0:
                    value = emissions[b, 0, s] if s < 2 else 0.0
                else:
                    value = alphas[b, t - 1, s]
                    if s >= 1:
                        value += alphas[b, t - 1, s - 1]
                    if _skip_allowed(extended, b, s):
                        value += alphas[b, t - 1, s - 2]
                    value *= emissions[b, t, s]
                alphas[b, t, s] = value
                total += value
            if total < SMALLEST_SAFE_TOTAL:
                needs_log_space[b] = True
                break
            for s in range(states):
                alphas[b, t, s] /= total
            log_scale += math.log(total)
        if needs_log_space[b]:
            continue
        end = alphas[b, last_t, states - 1]
        if states > 1:
            end += alphas[b, last_t, states - 2]
        if end < SMALLEST_SAFE_TOTAL:
            needs_log_space[b] = True
            continue
        log_likelihood[b] = log_scale + math.log(end)
        for t in range(last_t, -1, -1):
            total = 0.0
            for s in range(states):
                if t == last_t:
                    value = emissions[b, t, s] if s >= states - 2 else 0.0
                else:
                    value = betas[b, t + 1, s]
                    if s + 1 < states:
                        value += betas[b, t + 1, s + 1]
                    if s + 2 < states and _skip_allowed(extended, b, s + 2):
                        value += betas[b, t + 1, s + 2]
                    value *= emissions[b, t, s]
                betas[b, t, s] = value
                total += value
            if total < SMALLEST_SAFE_TOTAL:
                needs_log_space[b] = True
                break
            for s in range(states):
                betas[b, t, s] /= total


@njit(cache=True, parallel=True, nogil=True)
def ctc_scaled_gradient(log_probs, extended, num_states, input_lengths, emissions, alphas,
                        betas, log_likelihood, scale, needs_log_space, grad):
    """Write d(scale[b] * loss[b]) / d log_probs into `grad` `(T, B, C)` for the utterances
    the scaled form handled (and zeros past their lengths); flag any whose occupancy total at
    some frame is below SMALLEST_SAFE_TOTAL for the log kernels instead."""
    max_t, batch, classes = log_probs.shape
    for b in prange(batch):
        if needs_log_space[b]:
            continue
        occupancy = np.zeros(classes)
        for t in range(max_t):
            for k in range(classes):
                grad[t, b, k] = 0.0
            if t >= input_lengths[b]:
                continue
            occupancy[:] = 0.0
            total = 0.0
            for s in range(num_states[b]):
                if emissions[b, t, s] > 0.0:
                    share = alphas[b, t, s] * betas[b, t, s] / emissions[b, t, s]
                    occupancy[extended[b, s]] += share
                    total += share
            if total < SMALLEST_SAFE_TOTAL:
                needs_log_space[b] = True
                break
            for k in range(classes):
                grad[t, b, k] = -occupancy[k] / total * scale[b]


@njit(cache=True, parallel=True, nogil=True)
def ctc_alphas_betas(log_probs, extended, num_states, input_lengths, selected, alphas, betas,
                     log_likelihood):
    """Fill `alphas`, `betas` `(B, T, S')` on valid frames and states, and `log_likelihood`.

    `log_probs` is `(T, B, C)`; `extended` `(B, S')` holds l' per utterance (padding beyond
    `num_states[b] = 2 S_b + 1` unused); both lattices include the emission at frame t.
    Only utterances with `selected[b]` are computed.
    """
    for b in prange(log_probs.shape[1]):
        if not selected[b]:
            continue
        alphas[b] = NEG_INF
        betas[b] = NEG_INF
        last_t = input_lengths[b] - 1
        states = num_states[b]
        alphas[b, 0, 0] = log_probs[0, b, extended[b, 0]]
        if states > 1:
            alphas[b, 0, 1] = log_probs[0, b, extended[b, 1]]
        for t in range(1, last_t + 1):
            for s in range(states):
                total = alphas[b, t - 1, s]
                if s >= 1:
                    total = log_add(total, alphas[b, t - 1, s - 1])
                if _skip_allowed(extended, b, s):
                    total = log_add(total, alphas[b, t - 1, s - 2])
                alphas[b, t, s] = total + log_probs[t, b, extended[b, s]]
        betas[b, last_t, states - 1] = log_probs[last_t, b, extended[b, states - 1]]
        if states > 1:
            betas[b, last_t, states - 2] = log_probs[last_t, b, extended[b, states - 2]]
        for t in range(last_t - 1, -1, -1):
            for s in range(states):
                total = betas[b, t + 1, s]
                if s + 1 < states:
                    total = log_add(total, betas[b, t + 1, s + 1])
                if s + 2 < states and _skip_allowed(extended, b, s + 2):
                    total = log_add(total, betas[b, t + 1, s + 2])
                betas[b, t, s] = total + log_probs[t, b, extended[b, s]]
        end = alphas[b, last_t, states - 1]
        if states > 1:
            end = log_add(end, alphas[b, last_t, states - 2])
        log_likelihood[b] = end


@njit(cache=True, parallel=True, nogil=True)
def ctc_log_probs_gradient(log_probs, extended, num_states, input_lengths, selected, alphas,
                           betas, log_likelihood, scale, grad):
    """Write d(scale[b] * loss[b]) / d log_probs into `grad` `(T, B, C)` for the selected
    utterances; zero past the length.

    d loss / d lp[t, k] = -sum over states s with l'_s = k of exp(alpha + beta - lp - log P).
    A state whose emission is -inf has occupancy 0.
    """
    max_t, batch, classes = log_probs.shape
    for b in prange(batch):
        if not selected[b]:
            continue
        occupancy = np.zeros(classes)
        for t in range(max_t):
            if t >= input_lengths[b]:
                for k in range(classes):
                    grad[t, b, k] = 0.0
                continue
            occupancy[:] = 0.0
            for s in range(num_states[b]):
                k = extended[b, s]
                emission = log_probs[t, b, k]
                if emission != NEG_INF:
                    occupancy[k] += math.exp(alphas[b, t, s] + betas[b, t, s] - emission
                                             - log_likelihood[b])
            for k in range(classes):
                grad[t, b, k] = -occupancy[k] * scale[b]
