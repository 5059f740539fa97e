"""Frame-synchronous RNN-T beam search (Graves 2012, section 2.5) on a torch canonical model,
with exact merging, batched over utterances: the production twin of
`reference_impls.rnnt.beam.beam_search` (same algorithm, pruning, tie rule and results; its
docstring states the algorithm).

Every utterance keeps its own search (`_Search`); the batch advances frame by frame in
lockstep. Within a frame each utterance processes its hypotheses layer by layer in
increasing length, and the layers all utterances visit next are scored together: one
batched prediction-network step for the label sequences not seen before (g(y) depends on y
alone, so one cache serves the whole batch) and one batched joint call. Only the lengths
present are visited (the oracle walks every length up to `max_length`; the layers it visits
beyond are empty). Scores accumulate in float64 from the model's log-softmax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def _graves_stop(finished: dict, pending: dict[int, dict], size: int, beam: int | None
                 ) -> bool:
    """Stop the frame once `beam` finished hypotheses beat every pending one of length
    >= size ("while B contains less than W elements more probable than the most probable
    in A", Graves 2012, algorithm 1); `pending` maps a length to its hypotheses."""
    if beam is None or len(finished) < beam:
        return False
    threshold = max((max(bucket.values()) for n, bucket in pending.items()
                     if n >= size and bucket), default=-math.inf)
    return sorted(finished.values(), reverse=True)[beam - 1] > threshold


class _Predictions:
    """g(y) (P,) and the per-layer LSTM state after y, computed once per label sequence;
    the sequences missing from one request are computed in one batched step per length."""

    def __init__(self, model: CanonicalRNNT):
        self.model = model
        output, state = prediction_step(model, None, None, 1)
        self.cache = {(): (output[0], [(h[0], c[0]) for h, c in state])}

    def _extend(self, sequences: list[tuple]) -> None:
        parents = [self.cache[y[:-1]][1] for y in sequences]
        state = [(torch.stack([p[k][0] for p in parents]), torch.stack([p[k][1] for p in parents]))
                 for k in range(len(parents[0]))]
        symbols = torch.tensor([y[-1] for y in sequences])
        output, new_state = prediction_step(self.model, symbols, state, len(sequences))
        for i, y in enumerate(sequences):
            self.cache[y] = (output[i], [(h[i], c[i]) for h, c in new_state])

    def outputs(self, sequences: list[tuple]) -> torch.Tensor:
        """(N, P) prediction outputs of `sequences`."""
        missing = {y for y in sequences if y not in self.cache}
        ancestors = {y[:n] for y in missing for n in range(len(y)) if y[:n] not in self.cache}
        todo = missing | ancestors
        for length in sorted({len(y) for y in todo}):
            self._extend(sorted(y for y in todo if len(y) == length))
        return torch.stack([self.cache[y][0] for y in sequences])


class _Search:
    """One utterance's hypotheses: `previous` after the last frame; within a frame the
    `pending` ones by length, the `finished` ones (blank emitted) and the next layer's
    `size`."""

    def __init__(self, beam: int | None, max_length: int, stop_early: bool, blank: int):
        self.beam, self.max_length = beam, max_length
        self.stop_early, self.blank = stop_early, blank
        self.previous: dict[tuple, float] = {(): 0.0}

    def start_frame(self) -> None:
        self.pending: dict[int, dict[tuple, float]] = {}
        for y, score in self.previous.items():
            self.pending.setdefault(len(y), {})[y] = score
        self.finished: dict[tuple, float] = {}
        self.size = min(self.pending)

    def next_layer(self) -> dict[tuple, float] | None:
        """The `beam` best pending hypotheses of the next non-empty length, or None when the
        frame is over for this utterance."""
        while self.size <= self.max_length and any(n >= self.size for n in self.pending):
            if self.stop_early and _graves_stop(self.finished, self.pending, self.size,
                                                self.beam):
                return None
            layer = _best(self.pending.pop(self.size, {}), self.beam)
            self.size += 1
            if layer:
                return layer
        return None

    def score(self, layer: dict[tuple, float], log_probs: list[list[float]]) -> None:
        """Fold in the layer's per-hypothesis log-softmax rows (V,): blank finishes a
        hypothesis, every other label extends it by one."""
        longer = self.pending.setdefault(self.size, {})
        for (y, score), row in zip(layer.items(), log_probs, strict=True):
            _logadd(self.finished, y, score + row[self.blank])
            if len(y) < self.max_length:
                for k, value in enumerate(row):
                    if k != self.blank:
                        _logadd(longer, y + (k,), score + value)

    def end_frame(self) -> None:
        self.previous = _best(self.finished, self.beam)

    def results(self) -> list[tuple[tuple[int, ...], float]]:
        return sorted(self.previous.items(), key=lambda item: (-item[1], item[0]))


def _check_arguments(frames: int, lengths: list[int], beam, max_lengths: list[int]) -> None:
    if beam is not None and (isinstance(beam, bool) or not isinstance(beam, int) or beam < 1):
        raise ValueError(f"beam must be a positive int or None, got {beam!r}")
    for b, (length, max_length) in enumerate(zip(lengths, max_lengths, strict=True)):
        if not 1 <= length <= frames:
            raise ValueError(f"length={length} of batch index {b} is out of range "
                             f"[1, {frames}]")
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0:
            raise ValueError(f"max_length must be a non-negative int, got {max_length!r} "
                             f"for batch index {b}")


@torch.no_grad()
def batched_beam_search(model: CanonicalRNNT, encodings: torch.Tensor,
                        lengths: Sequence[int] | torch.Tensor, beam: int | None,
                        max_length: int | Sequence[int], stop_early: bool = False
                        ) -> list[list[tuple[tuple[int, ...], float]]]:
    """Per utterance of a (B, T', E) batch of encodings, its first `lengths[b]` frames: the
    (label sequence, log-probability) pairs, best first (ties: lexicographic). `beam` None
    is unpruned; `max_length` caps the labels (one int, or one per utterance);
    `stop_early` applies Graves's in-frame stopping rule (`_graves_stop`). Each
    utterance's result equals `beam_search` on it alone."""
    if encodings.dim() != 3:
        raise ValueError(f"encodings must be (B, T', E), got shape {tuple(encodings.shape)}")
    lengths = [int(n) for n in lengths]
    if len(lengths) != encodings.shape[0]:
        raise ValueError(f"lengths has {len(lengths)} entries for a batch of "
                         f"{encodings.shape[0]}")
    max_lengths = (list(max_length) if isinstance(max_length, Sequence)
                   else [max_length] * len(lengths))
    if len(max_lengths) != len(lengths):
        raise ValueError(f"max_length has {len(max_lengths)} entries for a batch of "
                         f"{len(lengths)}")
    _check_arguments(encodings.shape[1], lengths, beam, max_lengths)
    predictions = _Predictions(model)
    searches = [_Search(beam, m, stop_early, model.config.blank) for m in max_lengths]
    for t in range(max(lengths, default=0)):
        active = [b for b, n in enumerate(lengths) if t < n]
        for b in active:
            searches[b].start_frame()
        layers = {b: searches[b].next_layer() for b in active}
        layers = {b: layer for b, layer in layers.items() if layer is not None}
        while layers:
            rows = [(b, y) for b, layer in layers.items() for y in layer]
            g = predictions.outputs([y for _, y in rows])
            f = encodings[[b for b, _ in rows], t]
            logits = model.joint(f[:, None], g[:, None])[:, 0, 0]
            log_probs = torch.log_softmax(logits, dim=-1).double().tolist()
            start, following = 0, {}
            for b, layer in layers.items():
                searches[b].score(layer, log_probs[start:start + len(layer)])
                start += len(layer)
                layer = searches[b].next_layer()
                if layer is not None:
                    following[b] = layer
            layers = following
        for b in active:
            searches[b].end_frame()
    return [search.results() for search in searches]


def beam_search(model: CanonicalRNNT, encodings: torch.Tensor, length: int, beam: int | None,
                max_length: int, stop_early: bool = False
                ) -> list[tuple[tuple[int, ...], float]]:
    """(label sequence, log-probability) pairs, best first (ties: lexicographic), for one
    utterance's encodings (T', E), its first `length` frames: `batched_beam_search` of a
    batch of one."""
    if encodings.dim() != 2:
        raise ValueError(f"encodings must be (T', E), got shape {tuple(encodings.shape)}")
    return batched_beam_search(model, encodings[None], [length], beam, max_length,
                               stop_early)[0]
