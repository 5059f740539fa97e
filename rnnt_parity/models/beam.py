"""Frame-synchronous RNN-T beam search (Graves 2012, section 2.5) on a torch canonical model,
with exact merging: the production twin of `reference_impls.rnnt.beam.beam_search` (same
algorithm, pruning, tie rule and results; its docstring states the algorithm).

Per frame, hypotheses are processed layer by layer in increasing length; each layer's
prediction outputs come from a cache keyed by label sequence (one LSTM step from the
parent's state), and its joint is one batched call. Only the lengths present are visited
(the oracle walks every length up to `max_length`; the layers it visits beyond are empty).
Scores accumulate in float64 from the model's log-softmax.
"""

from __future__ import annotations

import math

import torch

from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.models.greedy import prediction_step


def _logadd(table: dict, key: tuple, value: float) -> None:
    if key in table:
        a, b = table[key], value
        high = max(a, b)
        table[key] = high + math.log1p(math.exp(min(a, b) - high))
    else:
        table[key] = value


def _best(table: dict, count: int | None) -> dict:
    if count is None or len(table) <= count:
        return table
    return dict(sorted(table.items(), key=lambda item: (-item[1], item[0]))[:count])


def _graves_stop(finished: dict, pending: dict, size: int, beam: int | None) -> bool:
    """Stop the frame once `beam` finished hypotheses beat every pending one of length
    >= size ("while B contains less than W elements more probable than the most probable
    in A", Graves 2012, algorithm 1)."""
    if beam is None or len(finished) < beam:
        return False
    remaining = [s for y, s in pending.items() if len(y) >= size]
    threshold = max(remaining) if remaining else -math.inf
    return sorted(finished.values(), reverse=True)[beam - 1] > threshold


class _Predictions:
    """g(y) and the LSTM state after y, computed once per label sequence."""

    def __init__(self, model: CanonicalRNNT):
        self.model = model
        output, state = prediction_step(model, None, None, 1)
        self.cache = {(): (output[0], state)}

    def outputs(self, sequences: list[tuple]) -> torch.Tensor:
        missing = [y for y in sequences if y not in self.cache]
        for y in sorted(missing, key=len):
            if y[:-1] not in self.cache:
                self.outputs([y[:-1]])
            _, state = self.cache[y[:-1]]
            output, new_state = prediction_step(self.model, torch.tensor([y[-1]]), state, 1)
            self.cache[y] = (output[0], new_state)
        return torch.stack([self.cache[y][0] for y in sequences])


@torch.no_grad()
def beam_search(model: CanonicalRNNT, encodings: torch.Tensor, length: int, beam: int | None,
                max_length: int, stop_early: bool = False
                ) -> list[tuple[tuple[int, ...], float]]:
    """(label sequence, log-probability) pairs, best first (ties: lexicographic), for one
    utterance's encodings (T', E), its first `length` frames; `beam` None is unpruned;
    `stop_early` applies Graves's in-frame stopping rule (`_graves_stop`)."""
    if beam is not None and (isinstance(beam, bool) or not isinstance(beam, int) or beam < 1):
        raise ValueError(f"beam must be a positive int or None, got {beam!r}")
    if not 1 <= length <= encodings.shape[0]:
        raise ValueError(f"length={length} is out of range [1, {encodings.shape[0]}]")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0:
        raise ValueError(f"max_length must be a non-negative int, got {max_length!r}")
    blank = model.config.blank
    predictions = _Predictions(model)
    previous: dict[tuple, float] = {(): 0.0}
    for t in range(length):
        pending = dict(previous)
        finished: dict[tuple, float] = {}
        size = min(len(y) for y in pending)
        while size <= max_length and any(len(y) >= size for y in pending):
            if stop_early and _graves_stop(finished, pending, size, beam):
                break
            layer = _best({y: s for y, s in pending.items() if len(y) == size}, beam)
            size += 1
            if not layer:
                continue
            sequences = list(layer)
            g = predictions.outputs(sequences)
            logits = model.joint(encodings[t:t + 1][None].expand(len(sequences), 1, -1),
                                 g[:, None])[:, 0, 0]
            log_probs = torch.log_softmax(logits, dim=-1).double().tolist()
            for y, row in zip(sequences, log_probs, strict=True):
                score = layer[y]
                _logadd(finished, y, score + row[blank])
                if len(y) < max_length:
                    for k, value in enumerate(row):
                        if k != blank:
                            _logadd(pending, y + (k,), score + value)
        previous = _best(finished, beam)
    return sorted(previous.items(), key=lambda item: (-item[1], item[0]))
