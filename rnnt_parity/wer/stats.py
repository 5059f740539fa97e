"""Statistics of a paired WER comparison (per-utterance errors of systems A and B on the
same utterances).

corpus_wer          sum(errors) / sum(reference words): the ratio of sums, not a mean of
                    per-utterance WERs.
paired_bootstrap    Bisani and Ney (2004), "Bootstrap estimates for confidence intervals in
                    ASR performance evaluation": resample utterances with replacement, the
                    same draw for both systems; the 2.5 and 97.5 percentiles of WER_B - WER_A
                    give the 95% interval; the probability of improvement is the share of
                    draws in which B makes fewer errors than A.
sign_test           the two-sided sign test over utterances whose error counts differ
                    (exact binomial, p = 1/2; ties dropped): a matched-pairs test that needs
                    no normality assumption (NIST's MAPSSWE needs segment boundaries; this
                    uses utterances as the pairs).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

BOOTSTRAP_REPLICATES = 10_000
BOOTSTRAP_SEED = 0
_CHUNK = 1000


def corpus_wer(errors: np.ndarray, words: np.ndarray) -> float:
    total = int(np.sum(words))
    if total == 0:
        raise ValueError("no reference words: the corpus WER is undefined")
    return float(np.sum(errors)) / total


def _paired(errors_a, errors_b, words):
    arrays = [np.asarray(a, dtype=np.int64) for a in (errors_a, errors_b, words)]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError(f"errors_a, errors_b and words must be equal-length 1-D arrays, got "
                         f"shapes {[a.shape for a in arrays]}")
    if arrays[0].size == 0:
        raise ValueError("no utterances to compare")
    return arrays


def paired_bootstrap(errors_a, errors_b, words, replicates: int = BOOTSTRAP_REPLICATES,
                     seed: int = BOOTSTRAP_SEED) -> dict:
    """95% interval of WER_B - WER_A and P(B better than A) over `replicates` draws."""
    a, b, n = _paired(errors_a, errors_b, words)
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be a positive int, got {replicates!r}")
    rng = np.random.default_rng(seed)
    deltas, improved = [], 0
    for start in range(0, replicates, _CHUNK):
        draw = rng.integers(0, a.size, size=(min(_CHUNK, replicates - start), a.size))
        words_drawn = n[draw].sum(axis=1)
        diff = b[draw].sum(axis=1) - a[draw].sum(axis=1)
        deltas.append(diff / np.maximum(words_drawn, 1))
        improved += int(np.sum(diff < 0))
    deltas = np.concatenate(deltas)
    low, high = np.percentile(deltas, [2.5, 97.5])
    return {"replicates": replicates, "seed": seed, "delta_ci95": [float(low), float(high)],
            "probability_b_better": improved / replicates}


def sign_test(errors_a, errors_b) -> dict:
    """Utterances where B has fewer / more errors than A, and the two-sided p-value."""
    a, b, _ = _paired(errors_a, errors_b, np.zeros(len(errors_a)))
    better, worse = int(np.sum(b < a)), int(np.sum(b > a))
    p = 1.0 if better + worse == 0 else binomtest(better, better + worse, 0.5).pvalue
    return {"test": "sign test (two-sided, exact binomial, utterances as pairs)",
            "b_better": better, "b_worse": worse, "ties": int(a.size - better - worse),
            "p_value": float(p)}
