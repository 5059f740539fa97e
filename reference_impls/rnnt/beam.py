"""Frame-synchronous RNN-T beam search on the canonical NumPy model, with exact merging.

Graves (2012, section 2.5) extends hypotheses frame by frame: by the end of frame t a label
sequence y has probability Pr(y, t), the sum over alignments that output y by frame t and
then emit blank at t. Within a frame, hypotheses are processed in increasing length, so
that every contribution to a sequence (from the previous frame, and from its one-shorter
prefix emitting its last label in this frame) is in before it is extended: merging by
log-add is then exact (this plays the role of Graves's prefix-summation step).

    for each frame t < length:
        A <- B (log Pr(y, t-1)); B <- {}
        for L = 0, 1, ..., max_length:
            layer <- the sequences of length L in A (the `beam` best, if beam is set)
            for y in layer:  p = log_softmax(joint(f_t, g(y)))
                B[y]     <- logadd(B[y], A[y] + p[blank])
                A[y + k] <- logadd(A[y + k], A[y] + p[k])    (k != blank, L < max_length)
        keep the `beam` best of B (if beam is set)

With beam=None nothing is pruned and every returned score is log P(y | x) exactly, the
negative RNN-T loss of y, for every y of at most `max_length` labels (each alignment of y
emits exactly |y| labels, so the cap removes no alignment of y). Pruning only removes
paths: a pruned search never scores a sequence above its exact log-probability.
"""

from __future__ import annotations

import numpy as np

from reference_impls.models.canonical import CanonicalConfig, joint_step, prediction_step
from reference_impls.rnnt.decode import check_rnnt_joint
from reference_impls.rnnt.spec import log_softmax


class HypothesisScorer:
    """log p(k | t, y) for a label sequence y at one encoder frame. g(y) is computed once per
    sequence, from its parent's cached state (the prediction network advances on every
    label)."""

    def __init__(self, params: dict, config: CanonicalConfig, encodings: np.ndarray):
        self.params, self.config, self.encodings = params, config, encodings
        self.cache = {(): prediction_step(params, config, None, None)}

    def prediction(self, y: tuple) -> np.ndarray:
        if y not in self.cache:
            self.prediction(y[:-1])
            self.cache[y] = prediction_step(self.params, self.config, y[-1],
                                            self.cache[y[:-1]][1])
        return self.cache[y][0]

    def log_probs(self, y: tuple, t: int) -> np.ndarray:
        logits = joint_step(self.params, self.config, self.encodings[t], self.prediction(y))
        return log_softmax(logits[None])[0]


def _check_search(config: CanonicalConfig, beam, length: int, encodings: np.ndarray) -> None:
    check_rnnt_joint(config)
    if beam is not None and (isinstance(beam, bool) or not isinstance(beam, int) or beam < 1):
        raise ValueError(f"beam must be a positive int or None, got {beam!r}")
    if not 1 <= length <= encodings.shape[0]:
        raise ValueError(f"length={length} is out of range [1, {encodings.shape[0]}]")


def _add(table: dict, key: tuple, value: float) -> None:
    table[key] = np.logaddexp(table[key], value) if key in table else value


def _best(table: dict, count: int | None) -> dict:
    if count is None or len(table) <= count:
        return table
    ranked = sorted(table.items(), key=lambda item: (-item[1], item[0]))[:count]
    return dict(ranked)


def graves_stop(finished: dict, pending: dict, size: int, beam: int | None) -> bool:
    """Graves's (2012) in-frame stopping rule: stop extending once `beam` finished
    hypotheses are more probable than the best pending one of length >= `size`."""
    if beam is None or len(finished) < beam:
        return False
    best_pending = max((s for y, s in pending.items() if len(y) >= size), default=-np.inf)
    return sum(1 for s in finished.values() if s > best_pending) >= beam


def beam_search(params: dict, config: CanonicalConfig, encodings: np.ndarray, length: int,
                beam: int | None, max_length: int, stop_early: bool = False
                ) -> list[tuple[tuple[int, ...], float]]:
    """(label sequence, log-probability) pairs, best first (ties: lexicographic).

    encodings (T', E) of one utterance, its first `length` frames used; `beam` None for an
    exact, unpruned search; `max_length` caps the number of labels of a hypothesis.
    `stop_early` applies `graves_stop` before each layer: a frame then costs a few layers
    instead of up to max_length, and the merged scores may miss contributions of paths
    less probable than the beam (the exactness statements above assume it off).
    """
    _check_search(config, beam, length, encodings)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0:
        raise ValueError(f"max_length must be a non-negative int, got {max_length!r}")
    scorer = HypothesisScorer(params, config, encodings)

    previous: dict[tuple, float] = {(): 0.0}
    for t in range(length):
        pending = dict(previous)
        finished: dict[tuple, float] = {}
        for size in range(max_length + 1):
            if stop_early and graves_stop(finished, pending, size, beam):
                break
            layer = _best({y: s for y, s in pending.items() if len(y) == size}, beam)
            for y, score in layer.items():
                log_probs = scorer.log_probs(y, t)
                _add(finished, y, score + log_probs[config.blank])
                if size < max_length:
                    for k in range(config.vocab_size):
                        if k != config.blank:
                            _add(pending, y + (k,), score + log_probs[k])
        previous = _best(finished, beam)
    return sorted(previous.items(), key=lambda item: (-item[1], item[0]))


def modified_beam_search(params: dict, config: CanonicalConfig, encodings: np.ndarray,
                         length: int, beam: int | None) -> list[tuple[tuple[int, ...], float]]:
    """The one-symbol-per-frame ("modified") beam search: at each frame every hypothesis
    either emits blank or emits exactly one symbol, and either way moves to the next frame.

    Its scores are log-probabilities in that restricted topology: the sum, over the ways of
    placing y's |y| labels on distinct frames, of the product of p(y_u | t, u-1) on the
    label frames and p(blank | t, u) on the others (not the RNN-T loss, which also allows
    several labels per frame and needs a blank to leave every frame). Sequences merge by
    log-add; `beam` (None: unpruned) keeps the best after each frame, ties by sequence.
    With beam 1 it is greedy decoding with max_symbols_per_frame=1, except on an exact tie
    between blank and a lower-indexed symbol (greedy takes the symbol, the beam the shorter
    sequence).
    """
    _check_search(config, beam, length, encodings)
    scorer = HypothesisScorer(params, config, encodings)

    hypotheses: dict[tuple, float] = {(): 0.0}
    for t in range(length):
        extended: dict[tuple, float] = {}
        for y, score in hypotheses.items():
            log_probs = scorer.log_probs(y, t)
            _add(extended, y, score + log_probs[config.blank])
            for k in range(config.vocab_size):
                if k != config.blank:
                    _add(extended, y + (k,), score + log_probs[k])
        hypotheses = _best(extended, beam)
    return sorted(hypotheses.items(), key=lambda item: (-item[1], item[0]))
