"""CTC as a readable NumPy transcription of Graves et al. (2006), float64. This is the spec.

Notation (0-based): the target l = (l_1 .. l_S) is extended with blanks between and around
its labels, l' = (blank, l_1, blank, l_2, ..., l_S, blank), of length S' = 2S + 1. A path
visits one state s of l' per frame; from s it may stay, step to s+1, or skip to s+2 when
l'_{s+2} is a label different from l'_s (a blank between two equal labels is mandatory).

    alpha(0, 0) = lp[0, blank],  alpha(0, 1) = lp[0, l_1]                 (Graves 2006, eq. 5)
    alpha(t, s) = logsumexp(alpha(t-1, s), alpha(t-1, s-1),
                            alpha(t-1, s-2) if skip allowed) + lp[t, l'_s]  (eqs. 6-7)
    beta(T-1, S'-1) = lp[T-1, blank],  beta(T-1, S'-2) = lp[T-1, l_S]       (eq. 9)
    beta(t, s)  = logsumexp(beta(t+1, s), beta(t+1, s+1),
                            beta(t+1, s+2) if skip allowed) + lp[t, l'_s]    (eqs. 10-11)
    log P(l | x) = logaddexp(alpha(T-1, S'-1), alpha(T-1, S'-2)) = logaddexp(beta(0, 0), beta(0, 1))

Both alpha and beta include the emission at frame t, so the posterior occupancy of state s at
frame t is exp(alpha + beta - lp[t, l'_s] - log P) (eq. 14): the seed's soft alignment.
Arrays are laid out `(S', T)`: one row per state, one column per frame, as in seed 004.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.checks import check_array, check_float_array, normalise_blank

NEG_INF = -np.inf


def extended_labels(targets, blank: int) -> np.ndarray:
    """l' = (blank, l_1, blank, ..., l_S, blank): `(2S + 1,)` int64."""
    extended = np.full(2 * len(targets) + 1, blank, dtype=np.int64)
    extended[1::2] = targets
    return extended


def can_skip(extended: np.ndarray, s: int) -> bool:
    """Whether state s may be entered from s-2 (skipping the blank between).

    `extended[0]` is always the blank; s-2 -> s is allowed when l'_s is a label that differs
    from l'_{s-2}.
    """
    return s >= 2 and extended[s] != extended[0] and extended[s] != extended[s - 2]


def lattice_alphas(log_probs: np.ndarray, extended: np.ndarray) -> np.ndarray:
    """Forward variables `(S', T)` in log space (Graves 2006, eqs. 5-7)."""
    num_frames, num_states = log_probs.shape[0], len(extended)
    alphas = np.full((num_states, num_frames), NEG_INF)
    alphas[0, 0] = log_probs[0, extended[0]]
    if num_states > 1:
        alphas[1, 0] = log_probs[0, extended[1]]
    for t in range(1, num_frames):
        for s in range(num_states):
            incoming = [alphas[s, t - 1]]
            if s >= 1:
                incoming.append(alphas[s - 1, t - 1])
            if can_skip(extended, s):
                incoming.append(alphas[s - 2, t - 1])
            alphas[s, t] = np.logaddexp.reduce(incoming) + log_probs[t, extended[s]]
    return alphas


def lattice_betas(log_probs: np.ndarray, extended: np.ndarray) -> np.ndarray:
    """Backward variables `(S', T)` in log space (Graves 2006, eqs. 9-11)."""
    num_frames, num_states = log_probs.shape[0], len(extended)
    betas = np.full((num_states, num_frames), NEG_INF)
    last = num_frames - 1
    betas[-1, last] = log_probs[last, extended[-1]]
    if num_states > 1:
        betas[-2, last] = log_probs[last, extended[-2]]
    for t in range(last - 1, -1, -1):
        for s in range(num_states):
            outgoing = [betas[s, t + 1]]
            if s + 1 < num_states:
                outgoing.append(betas[s + 1, t + 1])
            if s + 2 < num_states and can_skip(extended, s + 2):
                outgoing.append(betas[s + 2, t + 1])
            betas[s, t] = np.logaddexp.reduce(outgoing) + log_probs[t, extended[s]]
    return betas


def log_likelihood(alphas: np.ndarray) -> float:
    """log P(l | x) from the last column of alpha: end in the final blank or the last label."""
    if alphas.shape[0] == 1:
        return float(alphas[0, -1])
    return float(np.logaddexp(alphas[-1, -1], alphas[-2, -1]))


def state_occupancy(log_probs, extended, alphas, betas) -> np.ndarray:
    """Posterior of being in state s at frame t, `(S', T)` (Graves 2006, eq. 14).

    A state whose emission at t is -inf has occupancy 0 there.
    """
    emissions = log_probs[:, extended].T
    with np.errstate(invalid="ignore"):
        occupancy = np.exp(alphas + betas - emissions - log_likelihood(alphas))
    occupancy[np.isneginf(emissions)] = 0.0
    return occupancy


def _validate_utterance(log_probs, targets, blank):
    log_probs = check_float_array(log_probs, "log_probs", ndim=2)
    num_frames, classes = log_probs.shape
    if num_frames == 0 or classes == 0:
        raise ValueError(f"log_probs must have non-empty T and C axes, got {log_probs.shape}")
    targets = check_array(targets, "targets")
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"targets must have an integer dtype, got {targets.dtype}")
    if targets.ndim != 1:
        raise ValueError(f"targets must be 1-D, got shape {targets.shape}")
    targets = targets.astype(np.int64)
    blank = normalise_blank(blank, classes)
    out = np.flatnonzero((targets < 0) | (targets >= classes) | (targets == blank))
    if out.size:
        s = int(out[0])
        raise ValueError(f"targets[{s}] = {targets[s]} is blank or out of range [0, {classes})")
    if np.isnan(log_probs).any() or np.isposinf(log_probs).any():
        raise ValueError("log_probs holds NaN or +inf")
    return log_probs.astype(np.float64), targets, blank


def ctc_alphas(log_probs: np.ndarray, targets: np.ndarray, blank: int = 0) -> np.ndarray:
    """Forward variables of one utterance.

    Args:
        log_probs: `(T, C)` log-probabilities.
        targets: `(S,)` labels, none equal to blank.
        blank: blank index (default 0, as torch).

    Returns:
        `(2S + 1, T)` float64: alpha(s, t) = log P(l'_{1..s} emitted by frame t, in state s).
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    return lattice_alphas(log_probs, extended_labels(targets, blank))


def ctc_betas(log_probs: np.ndarray, targets: np.ndarray, blank: int = 0) -> np.ndarray:
    """Backward variables of one utterance, `(2S + 1, T)` float64. Args as `ctc_alphas`."""
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    return lattice_betas(log_probs, extended_labels(targets, blank))


def ctc_soft_alignment(log_probs: np.ndarray, targets: np.ndarray, blank: int = 0) -> np.ndarray:
    """Posterior occupancy of each state of l' at each frame, `(2S + 1, T)` float64.

    Every frame's column sums to 1 (each path is in exactly one state per frame). NaN when
    the target cannot be aligned to T frames. Args as `ctc_alphas`.
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    extended = extended_labels(targets, blank)
    alphas, betas = lattice_alphas(log_probs, extended), lattice_betas(log_probs, extended)
    return state_occupancy(log_probs, extended, alphas, betas)


@dataclass(frozen=True)
class ViterbiAlignment:
    """The most probable path that collapses to the target.

    Attributes:
        states: `(T,)` state index in l' occupied at each frame.
        frame_labels: `(T,)` the output at each frame (blank or a label).
        segments: per target label u, the frames `(start, end)` (inclusive) it occupies.
        score: log-probability of the path.
    """

    states: np.ndarray
    frame_labels: np.ndarray
    segments: tuple[tuple[int, int], ...]
    score: float


def ctc_viterbi_alignment(log_probs: np.ndarray, targets: np.ndarray,
                          blank: int = 0) -> ViterbiAlignment:
    """Best path (max instead of logsumexp in the alpha recursion), traced back.

    Tie rule (deterministic): at each state the predecessor is the first best of (stay,
    step from s-1, skip from s-2); at the end the final blank is preferred to the last label.

    Raises:
        ValueError: if the target has no alignment to T frames (too short), or bad input.
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    extended = extended_labels(targets, blank)
    num_frames, num_states = log_probs.shape[0], len(extended)
    best = np.full((num_states, num_frames), NEG_INF)
    came_from = np.zeros((num_states, num_frames), dtype=np.int64)
    best[0, 0] = log_probs[0, extended[0]]
    if num_states > 1:
        best[1, 0] = log_probs[0, extended[1]]
    for t in range(1, num_frames):
        for s in range(num_states):
            predecessors = [s] + ([s - 1] if s >= 1 else []) + ([s - 2] if can_skip(extended, s)
                                                                 else [])
            origin = predecessors[0]
            for candidate in predecessors[1:]:
                if best[candidate, t - 1] > best[origin, t - 1]:
                    origin = candidate
            best[s, t] = best[origin, t - 1] + log_probs[t, extended[s]]
            came_from[s, t] = origin
    ends = [num_states - 1] + ([num_states - 2] if num_states > 1 else [])
    state = max(ends, key=lambda s: (best[s, -1], s))
    if best[state, -1] == NEG_INF:
        raise ValueError(f"targets of length {len(targets)} have no alignment to "
                         f"{num_frames} frames")
    states = np.empty(num_frames, dtype=np.int64)
    for t in range(num_frames - 1, -1, -1):
        states[t] = state
        state = came_from[state, t]
    segments = []
    for u in range(len(targets)):
        frames = np.flatnonzero(states == 2 * u + 1)
        segments.append((int(frames[0]), int(frames[-1])))
    return ViterbiAlignment(states, extended[states], tuple(segments),
                            float(best[states[-1], -1]))


def utterance_loss_and_grad(log_probs: np.ndarray, targets: np.ndarray, blank: int):
    """-log P(l | x) and its true gradient w.r.t. the `(T, C)` log-probs, float64.

    d loss / d lp[t, k] = -sum over states s with l'_s = k of occupancy(s, t).
    """
    extended = extended_labels(targets, blank)
    log_probs = log_probs.astype(np.float64)
    alphas, betas = lattice_alphas(log_probs, extended), lattice_betas(log_probs, extended)
    loss = -log_likelihood(alphas)
    occupancy = state_occupancy(log_probs, extended, alphas, betas)
    grad = np.zeros(log_probs.shape)
    for s, label in enumerate(extended):
        grad[:, label] -= occupancy[s]
    return loss, grad
