"""CTC decoders: greedy (best path) and prefix beam search with an optional word LM.

Prefix beam search follows Hannun et al. (2014), "First-Pass Large Vocabulary Continuous
Speech Recognition using Bi-Directional Recurrent DNNs", algorithm 1. Each prefix keeps two
log-probabilities at frame t: p_b, of the paths that collapse to it and end in blank, and
p_nb, of those ending in its last label. With p the frame's log-probs and c a label:

    blank:                       p_b(prefix)      += (p_b + p_nb)(prefix) * p(blank)
    c == last label of prefix:   p_nb(prefix)     += p_nb(prefix) * p(c)    (repeat collapses)
                                 p_nb(prefix + c) += p_b(prefix) * p(c)     (blank separates)
    any other c:                 p_nb(prefix + c) += (p_b + p_nb)(prefix) * p(c)

(sums and products in log space). The acoustic score of a prefix is logaddexp(p_b, p_nb): with
no pruning it is log P(prefix | x), i.e. -ctc_loss of that labelling. With an LM, a prefix's
ranking score adds alpha * log P_LM(words) + beta * (number of words), words being completed
at each word delimiter (and the trailing word at the end).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from reference_impls.checks import check_float_array, normalise_blank

NEG_INF = -math.inf


def _log_add(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def greedy_decode(log_probs: np.ndarray, blank: int = 0, collapse_repeated: bool = True):
    """Best-path decoding of one utterance: argmax per frame, collapse repeats, drop blanks.

    Args:
        log_probs: `(T, C)` log-probabilities (or probabilities: only the argmax matters).
        blank: blank index.
        collapse_repeated: merge runs of the same label (CTC's rule); False keeps every
            non-blank frame's label (the seed's option).

    Returns:
        The labels as a list of ints. Ties in the argmax go to the lowest index.
    """
    log_probs = check_float_array(log_probs, "log_probs", ndim=2)
    blank = normalise_blank(blank, log_probs.shape[1])
    best = np.argmax(log_probs, axis=1)
    if collapse_repeated:
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        best = best[keep]
    return [int(k) for k in best if k != blank]


@dataclass(frozen=True)
class PrefixHypothesis:
    """One beam entry: labels, acoustic log-probability, LM score, word count, ranking score."""

    labels: tuple[int, ...]
    acoustic: float
    lm_score: float
    words: int
    score: float


class _PrefixTrie:
    """Every prefix seen, as nodes with integer ids: extending one is O(1), not O(length).

    Node 0 is the empty prefix. Per node: parent, last label, LM score, words so far.
    """

    def __init__(self, scorer):
        self.scorer = scorer
        self.parent, self.last, self.lm_score, self.words = [-1], [-1], [0.0], [()]
        self.children: dict[tuple[int, int], int] = {}

    def child(self, node: int, label: int, completes_word: bool) -> int:
        key = (node, label)
        found = self.children.get(key)
        if found is not None:
            return found
        lm_score, words = self.lm_score[node], self.words[node]
        if completes_word:
            word = self.word_ending_at(node)
            if word:
                lm_score, words = self.scorer.score_word(lm_score, words, word)
        self.parent.append(node)
        self.last.append(label)
        self.lm_score.append(lm_score)
        self.words.append(words)
        self.children[key] = len(self.parent) - 1
        return self.children[key]

    def labels(self, node: int) -> tuple[int, ...]:
        out = []
        while node > 0:
            out.append(self.last[node])
            node = self.parent[node]
        return tuple(reversed(out))

    def word_ending_at(self, node: int) -> str:
        """Characters from after the previous word delimiter up to and including `node`."""
        chars = []
        while node > 0 and self.last[node] != self.scorer.delimiter:
            chars.append(self.scorer.alphabet[self.last[node]])
            node = self.parent[node]
        return "".join(reversed(chars))


class _WordScorer:
    """alpha * log P_LM increments over completed words."""

    def __init__(self, lm, alphabet, word_delimiter, alpha):
        self.lm, self.alphabet, self.delimiter, self.alpha = lm, alphabet, word_delimiter, alpha

    def score_word(self, lm_score, words, word):
        new_words = words + (word,)
        increment = self.lm(new_words) - self.lm(words) if self.lm is not None else 0.0
        return lm_score + self.alpha * increment, new_words


def prefix_beam_search(log_probs: np.ndarray, beam_size: int = 16, blank: int = 0,
                       prune: float = 0.0, lm: Callable[[tuple[str, ...]], float] | None = None,
                       alpha: float = 0.0, beta: float = 0.0, alphabet: Sequence[str] | None = None,
                       word_delimiter: int | None = None) -> list[PrefixHypothesis]:
    """CTC prefix beam search over one utterance (Hannun et al. 2014, algorithm 1).

    Args:
        log_probs: `(T, C)` log-probabilities.
        beam_size: prefixes kept after each frame (>= 1).
        blank: blank index.
        prune: skip outputs whose probability at a frame is below this (0 keeps all).
        lm: word language model: a callable giving the natural-log probability of a whole
            word sequence (e.g. `ArpaLanguageModel.log_prob`); needs `alphabet` and
            `word_delimiter`.
        alpha: LM weight; beta: bonus per word (both apply only to the ranking score).
        alphabet: the string of each label index (for building words).
        word_delimiter: label index that ends a word (e.g. the space).

    Returns:
        The final beam, best first, as PrefixHypothesis. `acoustic` is log P(labels | x)
        summed over the paths the beam kept (exactly -ctc_loss when nothing was pruned).
        Prefixes of probability 0 (e.g. "aa" with no frame left for its blank) are dropped.
    """
    log_probs = check_float_array(log_probs, "log_probs", ndim=2).astype(np.float64)
    num_frames, classes = log_probs.shape
    blank = normalise_blank(blank, classes)
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be a positive int, got {beam_size!r}")
    if not 0.0 <= prune < 1.0:
        raise ValueError(f"prune must be a probability in [0, 1), got {prune!r}")
    if (lm is not None or beta) and (alphabet is None or word_delimiter is None):
        raise ValueError("an LM or a word bonus needs alphabet and word_delimiter")
    if alphabet is not None and len(alphabet) != classes:
        raise ValueError(f"alphabet has {len(alphabet)} entries for {classes} classes")
    if np.isnan(log_probs).any():
        raise ValueError("log_probs holds NaN")
    scorer = _WordScorer(lm, alphabet, word_delimiter, alpha)
    trie = _PrefixTrie(scorer)
    threshold = math.log(prune) if prune > 0 else NEG_INF
    log_add = _log_add

    beam = {0: (0.0, NEG_INF)}
    for t in range(num_frames):
        frame = log_probs[t].tolist()
        outputs = [(k, p) for k, p in enumerate(frame) if p >= threshold and k != blank]
        blank_p = frame[blank] if frame[blank] >= threshold else None
        following: dict[int, list[float]] = {}
        for node, (p_blank, p_label) in beam.items():
            total = log_add(p_blank, p_label)
            if blank_p is not None:
                entry = following.setdefault(node, [NEG_INF, NEG_INF])
                entry[0] = log_add(entry[0], total + blank_p)
            last = trie.last[node]
            for k, p in outputs:
                child = trie.child(node, k, k == word_delimiter)
                entry = following.setdefault(child, [NEG_INF, NEG_INF])
                if k == last:
                    entry[1] = log_add(entry[1], p_blank + p)
                    same = following.setdefault(node, [NEG_INF, NEG_INF])
                    same[1] = log_add(same[1], p_label + p)
                else:
                    entry[1] = log_add(entry[1], total + p)
        possible = [item for item in following.items() if max(item[1]) > NEG_INF]
        ranked = sorted(possible, key=lambda item: -(
            log_add(*item[1]) + trie.lm_score[item[0]] + beta * len(trie.words[item[0]])))
        beam = {node: tuple(probabilities) for node, probabilities in ranked[:beam_size]}

    final = []
    for node, (p_blank, p_label) in beam.items():
        acoustic = _log_add(p_blank, p_label)
        lm_score, words = trie.lm_score[node], trie.words[node]
        if alphabet is not None and word_delimiter is not None:
            trailing = trie.word_ending_at(node)
            if trailing:
                lm_score, words = scorer.score_word(lm_score, words, trailing)
        score = acoustic + lm_score + beta * len(words)
        final.append(PrefixHypothesis(trie.labels(node), acoustic, lm_score, len(words), score))
    return sorted(final, key=lambda h: (-h.score, h.labels))
