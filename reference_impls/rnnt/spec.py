"""The RNN-T lattice as a readable NumPy transcription of Graves (2012), float64. This is the spec.

Notation (0-based; Graves 2012, "Sequence Transduction with Recurrent Neural Networks",
section 2.4, uses 1-based t):

    lp[t, u, k]  log-probability of output k at lattice node (t, u); t < T frames, u <= U labels
    phi(t, u)    = lp[t, u, blank]        blank edge (t, u) -> (t+1, u)
    y(t, u)      = lp[t, u, targets[u]]   label edge (t, u) -> (t, u+1), for u < U

    alpha(0, 0)   = 0
    alpha(t, u)   = logaddexp(alpha(t-1, u) + phi(t-1, u), alpha(t, u-1) + y(t, u-1))   (eq. 16)
    beta(T-1, U)  = phi(T-1, U)
    beta(t, u)    = logaddexp(beta(t+1, u) + phi(t, u), beta(t, u+1) + y(t, u))          (eq. 18)
    log P(y | x)  = alpha(T-1, U) + phi(T-1, U) = beta(0, 0)                             (eq. 17)

Every alignment ends with the blank emitted at (T-1, U). Terms outside the lattice are -inf.

FastEmit (Yu et al. 2021) enters as a weight on label edges: `label_weight = 1 + lambda`
multiplies y(t, u) (see `reference_impls.rnnt.loss` for the convention and why).

These functions are deliberately simple loops: the fast Numba kernels in `kernels.py` are
held to them by tests (to 1e-12 in float64).
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_float_array, check_int_array, normalise_blank
from reference_impls.rnnt.validation import check_labels

NEG_INF = -np.inf


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, in float64. A row of all -inf yields NaN (undefined)."""
    x = np.asarray(logits, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        shifted = x - np.max(x, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def edge_log_probs(log_probs: np.ndarray, targets: np.ndarray, blank: int):
    """Split `(T, U+1, V)` log-probs into blank edges `(T, U+1)` and label edges `(T, U)`."""
    num_labels = len(targets)
    blank_lp = log_probs[:, :, blank].astype(np.float64)
    label_lp = np.empty((log_probs.shape[0], num_labels), dtype=np.float64)
    for u in range(num_labels):
        label_lp[:, u] = log_probs[:, u, targets[u]]
    return blank_lp, label_lp


def lattice_alphas(blank_lp: np.ndarray, label_lp: np.ndarray) -> np.ndarray:
    """Forward variables `(T, U+1)` in log space (Graves 2012, eq. 16)."""
    num_frames, num_nodes = blank_lp.shape
    alphas = np.full((num_frames, num_nodes), NEG_INF)
    for t in range(num_frames):
        for u in range(num_nodes):
            if t == 0 and u == 0:
                alphas[t, u] = 0.0
                continue
            from_blank = alphas[t - 1, u] + blank_lp[t - 1, u] if t > 0 else NEG_INF
            from_label = alphas[t, u - 1] + label_lp[t, u - 1] if u > 0 else NEG_INF
            alphas[t, u] = np.logaddexp(from_blank, from_label)
    return alphas


def lattice_betas(blank_lp: np.ndarray, label_lp: np.ndarray) -> np.ndarray:
    """Backward variables `(T, U+1)` in log space (Graves 2012, eq. 18)."""
    num_frames, num_nodes = blank_lp.shape
    last_t, last_u = num_frames - 1, num_nodes - 1
    betas = np.full((num_frames, num_nodes), NEG_INF)
    for t in range(last_t, -1, -1):
        for u in range(last_u, -1, -1):
            if t == last_t and u == last_u:
                betas[t, u] = blank_lp[t, u]
                continue
            via_blank = betas[t + 1, u] + blank_lp[t, u] if t < last_t else NEG_INF
            via_label = betas[t, u + 1] + label_lp[t, u] if u < last_u else NEG_INF
            betas[t, u] = np.logaddexp(via_blank, via_label)
    return betas


def lattice_occupancy(blank_lp, label_lp, alphas, betas):
    """Posterior probability of each edge: blank `(T, U+1)` and label `(T, U)`.

    blank_occ(t, u) = exp(alpha(t, u) + phi(t, u) + beta(t+1, u) - log P), where the final
    blank (T-1, U) continues to "beta = 0" and other blanks at t = T-1 go nowhere;
    label_occ(t, u) = exp(alpha(t, u) + y(t, u) + beta(t, u+1) - log P).
    """
    num_frames, num_nodes = blank_lp.shape
    log_likelihood = betas[0, 0]
    beyond_last_frame = np.full((1, num_nodes), NEG_INF)
    beyond_last_frame[0, -1] = 0.0
    betas_next_t = np.concatenate([betas[1:], beyond_last_frame], axis=0)
    with np.errstate(invalid="ignore"):
        blank_occ = np.exp(alphas + blank_lp + betas_next_t - log_likelihood)
        label_occ = np.exp(alphas[:, :-1] + label_lp + betas[:, 1:] - log_likelihood)
    return blank_occ, label_occ


def _validate_utterance(log_probs, targets, blank):
    log_probs = check_float_array(log_probs, "log_probs", ndim=3)
    num_frames, num_nodes, vocab = log_probs.shape
    if num_frames == 0 or num_nodes == 0 or vocab == 0:
        raise ValueError(f"log_probs must have non-empty axes, got shape {log_probs.shape}")
    targets = check_int_array(targets, "targets", (num_nodes - 1,))
    blank = normalise_blank(blank, vocab)
    check_labels(targets[None], np.array([num_nodes - 1]), vocab, blank)
    if np.isnan(log_probs).any():
        raise ValueError("log_probs holds NaN")
    return log_probs.astype(np.float64), targets, blank


def rnnt_alphas(log_probs: np.ndarray, targets: np.ndarray, blank: int = -1) -> np.ndarray:
    """Forward variables of one utterance.

    Args:
        log_probs: `(T, U+1, V)` log-probabilities (already normalised).
        targets: `(U,)` label indices, none equal to `blank`.
        blank: blank index (default -1, the last, as torchaudio).

    Returns:
        `(T, U+1)` float64 array: alpha(t, u) = log P(reach node (t, u)).
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    return lattice_alphas(*edge_log_probs(log_probs, targets, blank))


def rnnt_betas(log_probs: np.ndarray, targets: np.ndarray, blank: int = -1) -> np.ndarray:
    """Backward variables of one utterance: `(T, U+1)` float64, beta(t, u) = log P(finish | (t, u)).

    Args as `rnnt_alphas`. `rnnt_betas(...)[0, 0]` is log P(y | x).
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    return lattice_betas(*edge_log_probs(log_probs, targets, blank))


def rnnt_occupancy(log_probs: np.ndarray, targets: np.ndarray, blank: int = -1):
    """Posterior occupancy of every blank and label transition of one utterance.

    Args as `rnnt_alphas`.

    Returns:
        `(blank_occ, label_occ)`: `(T, U+1)` and `(T, U)` float64. Every alignment emits
        exactly one blank per frame and each label once, so `blank_occ.sum(axis=1)` is 1 for
        every frame and `label_occ.sum(axis=0)` is 1 for every label. NaN when P(y | x) = 0.
    """
    log_probs, targets, blank = _validate_utterance(log_probs, targets, blank)
    blank_lp, label_lp = edge_log_probs(log_probs, targets, blank)
    alphas, betas = lattice_alphas(blank_lp, label_lp), lattice_betas(blank_lp, label_lp)
    return lattice_occupancy(blank_lp, label_lp, alphas, betas)


def utterance_loss_and_grad(inputs: np.ndarray, targets: np.ndarray, blank: int, fused: bool,
                            label_weight: float):
    """Loss and gradient of one (unpadded) utterance, the readable way.

    Args:
        inputs: `(T, U+1, V)` logits (fused) or log-probs (not fused).
        targets: `(U,)` labels.
        blank: blank index in `[0, V)`.
        fused: apply log_softmax first, and return the gradient w.r.t. the logits.
        label_weight: weight of every label edge's log-prob (1 + FastEmit lambda).

    Returns:
        `(loss, grad)`: the float loss -log Z and its `(T, U+1, V)` float64 gradient w.r.t.
        `inputs`. d loss / d lp = -blank_occ at blank, -label_weight * label_occ at each
        label; through log_softmax, d loss / d z_k = p_k * (sum over k' of that) - (that)_k.
    """
    log_probs = log_softmax(inputs) if fused else inputs.astype(np.float64)
    blank_lp, label_lp = edge_log_probs(log_probs, targets, blank)
    label_lp = label_weight * label_lp
    alphas, betas = lattice_alphas(blank_lp, label_lp), lattice_betas(blank_lp, label_lp)
    loss = -betas[0, 0]
    blank_occ, label_occ = lattice_occupancy(blank_lp, label_lp, alphas, betas)

    grad_log_probs = np.zeros(log_probs.shape)
    grad_log_probs[:, :, blank] = -blank_occ
    for u, label in enumerate(targets):
        grad_log_probs[:, u, label] -= label_weight * label_occ[:, u]
    if not fused:
        return loss, grad_log_probs
    total = grad_log_probs.sum(axis=-1, keepdims=True)
    return loss, grad_log_probs - np.exp(log_probs) * total
