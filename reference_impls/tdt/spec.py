"""The token-and-duration transducer (TDT) lattice, a readable NumPy transcription, float64.

Xu et al. 2023, "Efficient Sequence Transduction by Jointly Predicting Tokens and Durations"
(ICML), with the conventions of NeMo's TDT loss (nemo.collections.asr.parts.numba.rnnt_loss,
`compute_tdt_alphas_kernel` / `compute_tdt_betas_kernel`, NeMo 3.0.0). Notation (0-based):

    tok[t, u, k]   token log-probability of output k at node (t, u), t < T, u <= U
    dur[t, u, i]   duration log-probability of durations[i] at node (t, u)
    B(t, u)        = tok[t, u, blank];  L(t, u) = tok[t, u, targets[u]]  (u < U)

Arcs out of node (t, u), each of log-weight token + duration - sigma:
    blank with duration d > 0:   (t, u) -> (t + d, u)        if t + d < T
                                 (t, U) -> the end           if t + d == T
    label with duration d >= 0:  (t, u) -> (t + d, u + 1)    if t + d < T and u < U

A blank never takes duration 0 (NeMo skips it: the mass the model gives it is lost, as sigma's
is). An alignment ends with a blank landing exactly on frame T: a duration that would carry
past T (an overshoot) is no arc, and no label is emitted from the last landing. Hence

    alpha(0, 0) = 0
    alpha(t, u) = logsumexp( alpha(t - d, u) + B(t - d, u) + dur[t - d, u, d] - sigma, d > 0,
                             alpha(t - d, u - 1) + L(t - d, u - 1) + dur[t - d, u - 1, d]
                             - sigma, d >= 0 )
    log P(y | x) = logsumexp over d > 0, d <= T of
                   alpha(T - d, U) + B(T - d, U) + dur[T - d, U, d] - sigma  = beta(0, 0)

with beta the same sums run backwards from the end. Every term outside the lattice is -inf
(NeMo's kernels use a finite -10000 instead, so an impossible target costs about 1e4 there
and +inf here). Label arcs of duration 0 stay on their frame, so within a frame u ascends in
the forward pass and descends in the backward pass.

Occupancy of an arc: exp(alpha(source) + weight + beta(destination) - log P), beta(end) = 0.
d loss / d tok[t, u, k] is minus the occupancy of the arcs leaving (t, u) with token k, and
d loss / d dur[t, u, i] minus that of the arcs leaving it with durations[i]; through each
part's own log_softmax, d loss / d z = p * (sum of those) - (those).
"""

from __future__ import annotations

import numpy as np

from reference_impls.rnnt.spec import log_softmax

NEG_INF = -np.inf


def _logsumexp(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return NEG_INF
    peak = values.max()
    if peak == NEG_INF:
        return NEG_INF
    return float(peak + np.log(np.sum(np.exp(values - peak))))


def arcs(num_frames: int, num_labels: int, durations):
    """Every arc of the lattice as (t, u, kind, i, t_next, u_next): kind "blank" or "label",
    i the duration's index; (t_next, u_next) = (T, U) is the end."""
    for t in range(num_frames):
        for u in range(num_labels + 1):
            for i, d in enumerate(durations):
                if d > 0 and (t + d < num_frames or (t + d == num_frames and u == num_labels)):
                    yield t, u, "blank", i, t + d, u
                if u < num_labels and t + d < num_frames:
                    yield t, u, "label", i, t + d, u + 1


def arc_log_weight(token_lp, duration_lp, targets, blank, sigma, arc) -> float:
    t, u, kind, i, _, _ = arc
    token = blank if kind == "blank" else targets[u]
    return float(token_lp[t, u, token] + duration_lp[t, u, i] - sigma)


def tdt_alphas(token_lp, duration_lp, targets, blank, durations, sigma=0.0) -> np.ndarray:
    """Forward variables `(T + 1, U + 1)` in log space: rows t < T are the nodes, and
    alphas[T, U] is the end, log P(y | x) (the rest of row T is -inf)."""
    num_frames, num_nodes = token_lp.shape[:2]
    alphas = np.full((num_frames + 1, num_nodes), NEG_INF)
    alphas[0, 0] = 0.0
    incoming = {}
    for arc in arcs(num_frames, num_nodes - 1, durations):
        incoming.setdefault(arc[4:], []).append(arc)
    for t in range(num_frames + 1):
        for u in range(num_nodes):
            if (t, u) == (0, 0):
                continue
            alphas[t, u] = _logsumexp([
                alphas[a[0], a[1]] + arc_log_weight(token_lp, duration_lp, targets, blank,
                                                    sigma, a)
                for a in incoming.get((t, u), [])])
    return alphas


def tdt_betas(token_lp, duration_lp, targets, blank, durations, sigma=0.0) -> np.ndarray:
    """Backward variables `(T + 1, U + 1)` in log space: beta[T, U] = 0 (the end),
    beta(0, 0) = log P(y | x)."""
    num_frames, num_nodes = token_lp.shape[:2]
    betas = np.full((num_frames + 1, num_nodes), NEG_INF)
    betas[num_frames, num_nodes - 1] = 0.0
    outgoing = {}
    for arc in arcs(num_frames, num_nodes - 1, durations):
        outgoing.setdefault(arc[:2], []).append(arc)
    for t in range(num_frames - 1, -1, -1):
        for u in range(num_nodes - 1, -1, -1):
            betas[t, u] = _logsumexp([
                arc_log_weight(token_lp, duration_lp, targets, blank, sigma, a)
                + betas[a[4], a[5]] for a in outgoing.get((t, u), [])])
    return betas


def utterance_loss_and_grad(inputs: np.ndarray, targets: np.ndarray, blank: int, durations,
                            sigma: float, fused: bool):
    """TDT loss and gradient of one (unpadded) utterance, the readable way.

    Args:
        inputs: `(T, U+1, V + D)`: token logits (or log-probs), then duration logits (or
            log-probs), D = len(durations).
        targets: `(U,)` labels, none equal to blank.
        blank: blank index in `[0, V)`.
        durations: D distinct non-negative ints.
        sigma: subtracted from every arc's log-weight.
        fused: log_softmax each part first; the gradient is then w.r.t. the logits.

    Returns:
        `(loss, grad)`: -log P(y | x) (+inf when no alignment has positive weight) and its
        float64 gradient w.r.t. `inputs` (NaN where undefined: the loss is +inf).
    """
    width = inputs.shape[-1] - len(durations)
    token_lp, duration_lp = inputs[..., :width], inputs[..., width:]
    if fused:
        token_lp, duration_lp = log_softmax(token_lp), log_softmax(duration_lp)
    token_lp = np.asarray(token_lp, np.float64)
    duration_lp = np.asarray(duration_lp, np.float64)
    alphas = tdt_alphas(token_lp, duration_lp, targets, blank, durations, sigma)
    betas = tdt_betas(token_lp, duration_lp, targets, blank, durations, sigma)
    log_likelihood = betas[0, 0]
    if log_likelihood == NEG_INF:
        return np.inf, np.full(inputs.shape, np.nan)
    grad_token = np.zeros(token_lp.shape)
    grad_duration = np.zeros(duration_lp.shape)
    for arc in arcs(inputs.shape[0], inputs.shape[1] - 1, durations):
        t, u, kind, i, t_next, u_next = arc
        weight = arc_log_weight(token_lp, duration_lp, targets, blank, sigma, arc)
        occupancy = np.exp(alphas[t, u] + weight + betas[t_next, u_next] - log_likelihood)
        grad_token[t, u, blank if kind == "blank" else targets[u]] -= occupancy
        grad_duration[t, u, i] -= occupancy
    if fused:
        grad_token -= np.exp(token_lp) * grad_token.sum(axis=-1, keepdims=True)
        grad_duration -= np.exp(duration_lp) * grad_duration.sum(axis=-1, keepdims=True)
    return -log_likelihood, np.concatenate([grad_token, grad_duration], axis=-1)
