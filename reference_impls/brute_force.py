"""Brute-force losses: enumerate every alignment of a tiny lattice and sum its probability.

No dynamic programming: the oracle's own oracle for tiny shapes. RNN-T sums the
C(T-1+U, U) monotone alignments; CTC enumerates all C^T frame paths and collapses each; TDT
enumerates every sequence of (token, duration) moves that ends on frame T.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from reference_impls.checks import check_array, check_float_array, check_int_array, normalise_blank
from reference_impls.rnnt.validation import check_labels

MAX_ALIGNMENTS = 200_000


def rnnt_alignments(num_frames: int, num_labels: int):
    """Yield every RNN-T alignment of `num_labels` labels over `num_frames` frames.

    An alignment is a tuple of moves, "label" or "blank", from node (0, 0) to (T-1, U),
    followed by the final blank at (T-1, U): T-1+U moves of which U are labels, so there
    are C(T-1+U, U) alignments.
    """
    num_moves = num_frames - 1 + num_labels
    for label_steps in itertools.combinations(range(num_moves), num_labels):
        chosen = set(label_steps)
        yield tuple("label" if step in chosen else "blank" for step in range(num_moves))


def alignment_log_prob(log_probs: np.ndarray, targets: np.ndarray, blank: int, moves) -> float:
    """log P of one alignment: the sum of the log-probs of the edges it takes."""
    t = u = 0
    total = 0.0
    for move in moves:
        if move == "label":
            total += float(log_probs[t, u, targets[u]])
            u += 1
        else:
            total += float(log_probs[t, u, blank])
            t += 1
    return total + float(log_probs[t, u, blank])


def rnnt_brute_force_loss(log_probs: np.ndarray, targets: np.ndarray, blank: int = -1) -> float:
    """-log P(y | x) for one utterance by summing the probability of every alignment.

    Args:
        log_probs: `(T, U+1, V)` log-probabilities.
        targets: `(U,)` labels, none equal to blank.
        blank: blank index (negative counts from the end).

    Returns:
        The loss as a Python float (+inf when every alignment has probability 0).

    Raises:
        ValueError: if the lattice has more than MAX_ALIGNMENTS alignments, or bad input.
    """
    log_probs = check_float_array(log_probs, "log_probs", ndim=3)
    num_frames, num_nodes, vocab = log_probs.shape
    if num_frames == 0 or vocab == 0:
        raise ValueError(f"log_probs must have non-empty T and V axes, got {log_probs.shape}")
    targets = check_int_array(targets, "targets", (num_nodes - 1,))
    blank = normalise_blank(blank, vocab)
    check_labels(targets[None], np.array([num_nodes - 1]), vocab, blank)
    count = math.comb(num_frames - 1 + num_nodes - 1, num_nodes - 1)
    if count > MAX_ALIGNMENTS:
        raise ValueError(f"a (T={num_frames}, U={num_nodes - 1}) lattice has {count} alignments, "
                         f"more than MAX_ALIGNMENTS={MAX_ALIGNMENTS}")
    path_log_probs = [alignment_log_prob(log_probs, targets, blank, moves)
                      for moves in rnnt_alignments(num_frames, num_nodes - 1)]
    peak = max(path_log_probs)
    if peak == -math.inf:
        return math.inf
    return -(peak + math.log(math.fsum(math.exp(p - peak) for p in path_log_probs)))


def ctc_collapse(path, blank: int) -> tuple[int, ...]:
    """B(path): merge runs of the same output, then drop blanks (Graves 2006, section 3.1)."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(int(k) for k in merged if k != blank)


def ctc_labelling_log_probs(log_probs: np.ndarray, blank: int = 0) -> dict[tuple[int, ...], float]:
    """log P(l | x) of every labelling l reachable in T frames, by enumerating all C^T paths.

    Args:
        log_probs: `(T, C)` log-probabilities.
        blank: blank index.

    Raises:
        ValueError: if C^T exceeds MAX_ALIGNMENTS, or bad input.
    """
    log_probs = check_float_array(log_probs, "log_probs", ndim=2).astype(np.float64)
    num_frames, classes = log_probs.shape
    blank = normalise_blank(blank, classes)
    if classes ** num_frames > MAX_ALIGNMENTS:
        raise ValueError(f"C^T = {classes}^{num_frames} paths is more than "
                         f"MAX_ALIGNMENTS={MAX_ALIGNMENTS}")
    grouped: dict[tuple[int, ...], list[float]] = {}
    for path in itertools.product(range(classes), repeat=num_frames):
        score = float(sum(log_probs[t, k] for t, k in enumerate(path)))
        grouped.setdefault(ctc_collapse(path, blank), []).append(score)
    result = {}
    for labelling, scores in grouped.items():
        peak = max(scores)
        result[labelling] = peak if peak == -math.inf else peak + math.log(
            math.fsum(math.exp(s - peak) for s in scores))
    return result


def ctc_brute_force_loss(log_probs: np.ndarray, targets: np.ndarray, blank: int = 0) -> float:
    """-log P(targets | x) for one utterance by summing every path that collapses to it.

    Args:
        log_probs: `(T, C)` log-probabilities; targets: `(S,)` labels; blank: blank index.

    Returns:
        The loss (+inf when no path of T frames collapses to the targets).
    """
    targets = check_array(targets, "targets")
    if targets.ndim != 1 or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be a 1-D integer array, got {targets.dtype} "
                         f"{targets.shape}")
    probabilities = ctc_labelling_log_probs(log_probs, blank)
    return -probabilities.get(tuple(int(k) for k in targets), -math.inf)


def tdt_alignments(num_frames: int, num_labels: int, durations):
    """Yield every TDT alignment: a tuple of (kind, duration index) moves from (0, 0) that
    ends with a blank landing exactly on frame T at u = U. Labels take any duration that
    lands inside the utterance, blanks any positive one (see reference_impls.tdt.spec)."""
    def extend(t, u, moves):
        for i, d in enumerate(durations):
            if d > 0 and t + d == num_frames and u == num_labels:
                yield (*moves, ("blank", i))
            if d > 0 and t + d < num_frames:
                yield from extend(t + d, u, (*moves, ("blank", i)))
            if u < num_labels and t + d < num_frames:
                yield from extend(t + d, u + 1, (*moves, ("label", i)))
    yield from extend(0, 0, ())


def tdt_brute_force_loss(token_lp: np.ndarray, duration_lp: np.ndarray, targets: np.ndarray,
                         durations, blank: int = -1, sigma: float = 0.0) -> float:
    """-log P(y | x) for one TDT utterance by summing the weight of every alignment.

    Args:
        token_lp: `(T, U+1, V)` token log-probabilities.
        duration_lp: `(T, U+1, D)` duration log-probabilities, D = len(durations).
        targets: `(U,)` labels, none equal to blank.
        durations: D distinct non-negative ints.
        blank: blank index of the token part (negative counts from its end).
        sigma: subtracted from every move's log-weight.

    Raises:
        ValueError: if the lattice has more than MAX_ALIGNMENTS alignments.
    """
    token_lp = check_float_array(token_lp, "token_lp", ndim=3)
    num_frames, num_nodes, vocab = token_lp.shape
    blank = normalise_blank(blank, vocab)
    totals = []
    for moves in tdt_alignments(num_frames, num_nodes - 1, list(durations)):
        if len(totals) == MAX_ALIGNMENTS:
            raise ValueError(f"more than {MAX_ALIGNMENTS} TDT alignments; brute force is for "
                             "tiny lattices")
        t = u = 0
        total = 0.0
        for kind, i in moves:
            token = blank if kind == "blank" else targets[u]
            total += float(token_lp[t, u, token] + duration_lp[t, u, i]) - sigma
            t += durations[i]
            u += kind == "label"
        totals.append(total)
    if not totals:
        return math.inf
    peak = max(totals)
    if peak == -math.inf:
        return math.inf
    return -(peak + math.log(sum(math.exp(x - peak) for x in totals)))
