"""Brute-force losses: enumerate every alignment of a tiny lattice and sum its probability.

No recursion, no dynamic programming: the oracle's own oracle for tiny shapes.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from reference_impls.checks import check_float_array, check_int_array, normalise_blank
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
