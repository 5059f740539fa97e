"""Batched greedy TDT decoding of a torch canonical model with a TDT joint, with the oracle's
rules (`reference_impls.tdt.decode`): every utterance keeps its own frame; each step runs
the joint once for the whole batch, takes the token and the duration argmax (ties to the
lowest index), moves a token's utterance by its duration (duration 0: stays, within the
budget; a spent budget moves one frame) and a blank's by its duration or one frame if 0.
The prediction state advances only where a token was emitted.
"""

from __future__ import annotations

import torch

from reference_impls.rnnt.decode import UNLIMITED_GUARD, check_budget
from reference_impls.tdt.decode import TDTHypothesis, check_tdt_joint
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.models.greedy import prediction_step


@torch.no_grad()
def tdt_greedy_decode(model: CanonicalRNNT, encodings: torch.Tensor, lengths: torch.Tensor,
                      max_symbols_per_frame: int | None = None) -> list[TDTHypothesis]:
    """Hypotheses of a (B, T', E) batch of encodings, each utterance to its length."""
    config = model.config
    check_tdt_joint(config)
    check_budget(max_symbols_per_frame)
    batch, frames, _ = encodings.shape
    lengths = torch.as_tensor(lengths, device=encodings.device)
    durations = torch.tensor(config.durations, device=encodings.device)
    rows = torch.arange(batch, device=encodings.device)
    g, state = prediction_step(model, None, None, batch)
    t = torch.zeros(batch, dtype=torch.long, device=encodings.device)
    on_frame = torch.zeros_like(t)
    found: list[tuple[list[int], list[int], list[int]]] = [([], [], []) for _ in range(batch)]
    while bool((t < lengths).any()):
        active = t < lengths
        here = encodings[rows, t.clamp(max=frames - 1)]
        logits = model.joint(here[:, None], g[:, None])[:, 0, 0]
        tokens = logits[:, :config.vocab_size].argmax(dim=-1)
        duration = durations[logits[:, config.vocab_size:].argmax(dim=-1)]
        emit = active & (tokens != config.blank)
        for b in torch.nonzero(emit).flatten().tolist():
            for record, value in zip(found[b], (tokens[b], t[b], duration[b]), strict=True):
                record.append(int(value))
        blank_moves = active & ~emit
        t = t + torch.where(blank_moves, duration.clamp(min=1), 0)
        on_frame = torch.where(blank_moves, 0, on_frame)
        if bool(emit.any()):
            new_g, new_state = prediction_step(model, tokens.masked_fill(~emit, 0), state, batch)
            keep = emit[:, None]
            g = torch.where(keep, new_g, g)
            state = [(torch.where(keep, h1, h0), torch.where(keep, c1, c0))
                     for (h1, c1), (h0, c0) in zip(new_state, state, strict=True)]
            t = t + torch.where(emit, duration, 0)
            on_frame = torch.where(emit, torch.where(duration == 0, on_frame + 1, 0), on_frame)
            if max_symbols_per_frame is not None:
                spent = on_frame == max_symbols_per_frame
                t = t + spent.long()
                on_frame = torch.where(spent, 0, on_frame)
            elif int(on_frame.max()) >= UNLIMITED_GUARD:
                raise RuntimeError(f"an utterance emitted {int(on_frame.max())} tokens of "
                                   "duration 0 on one frame; set max_symbols_per_frame")
    return [TDTHypothesis(*(tuple(record) for record in records)) for records in found]
