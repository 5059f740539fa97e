"""Fast Numba kernels for the CTC loss and its gradient; the spec is `spec.py`.

Lattices are laid out `(B, T, S')` here (contiguous over states, the inner loop), unlike the
spec's `(S', T)`. Each utterance is one `prange` iteration (both cores, no GIL); everything
is accumulated in float64. Callers validate first: these kernels do not bounds-check.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from reference_impls.rnnt.kernels import NEG_INF, log_add


@njit(cache=True, inline="always")
def _skip_allowed(extended, b, s):
    return s >= 2 and extended[b, s] != extended[b, 0] and extended[b, s] != extended[b, s - 2]


@njit(cache=True, parallel=True, nogil=True)
def ctc_alphas_betas(log_probs, extended, num_states, input_lengths, alphas, betas,
                     log_likelihood):
    """Fill `alphas`, `betas` `(B, T, S')` on valid frames and states, and `log_likelihood`.

    `log_probs` is `(T, B, C)`; `extended` `(B, S')` holds l' per utterance (padding beyond
    `num_states[b] = 2 S_b + 1` unused); both lattices include the emission at frame t.
    """
    for b in prange(log_probs.shape[1]):
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
def ctc_log_probs_gradient(log_probs, extended, num_states, input_lengths, alphas, betas,
                           log_likelihood, scale, grad):
    """Write d(scale[b] * loss[b]) / d log_probs into `grad` `(T, B, C)`; zero past the length.

    d loss / d lp[t, k] = -sum over states s with l'_s = k of exp(alpha + beta - lp - log P).
    A state whose emission is -inf has occupancy 0.
    """
    max_t, batch, classes = log_probs.shape
    for b in prange(batch):
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
