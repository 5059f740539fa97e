"""Batched greedy RNN-T decoding of a torch canonical model, with the oracle's budget
semantics (`reference_impls.rnnt.decode`: blank ends a frame; a spent budget moves to the
next frame without a blank and without skipping one; the prediction state advances only on
a non-blank; ties go to the lowest index). Any family decodes through its verified port to
canonical (`decode_any`).
"""

from __future__ import annotations

import torch

from reference_impls.rnnt.decode import UNLIMITED_GUARD, check_budget, check_rnnt_joint
from rnnt_parity.codebases.canonical.model import CanonicalRNNT


def prediction_step(model: CanonicalRNNT, symbols: torch.Tensor | None, state, batch: int):
    """One prediction-network step: (B, P) output and the per-layer (h, c) states after
    `symbols` (B,), or after the start input when `symbols` is None."""
    prediction = model.prediction
    x = prediction.start(batch) if symbols is None else prediction.embedding(symbols)
    new_state = []
    for k, layer in enumerate(prediction.lstm):
        h, c = layer.step(x, None if state is None else state[k])
        new_state.append((h, c))
        x = h
    return x, new_state


@torch.no_grad()
def greedy_decode(model: CanonicalRNNT, encodings: torch.Tensor, lengths: torch.Tensor,
                  max_symbols_per_frame: int | None = None) -> list[list[int]]:
    """Hypotheses of a (B, T', E) batch of encodings; padding frames never emit."""
    check_rnnt_joint(model.config)
    check_budget(max_symbols_per_frame)
    batch, frames, _ = encodings.shape
    blank = model.config.blank
    g, state = prediction_step(model, None, None, batch)
    hypotheses: list[list[int]] = [[] for _ in range(batch)]
    for t in range(frames):
        done = t >= lengths
        emitted = torch.zeros(batch, dtype=torch.long, device=encodings.device)
        while not bool(done.all()):
            logits = model.joint(encodings[:, t:t + 1], g[:, None])[:, 0, 0]
            symbols = logits.argmax(dim=-1)
            emit = ~done & (symbols != blank)
            done = done | (symbols == blank)
            if not bool(emit.any()):
                break
            for b in torch.nonzero(emit).flatten().tolist():
                hypotheses[b].append(int(symbols[b]))
            new_g, new_state = prediction_step(model, symbols.masked_fill(~emit, 0), state,
                                                batch)
            keep = emit[:, None]
            g = torch.where(keep, new_g, g)
            state = [(torch.where(keep, h1, h0), torch.where(keep, c1, c0))
                     for (h1, c1), (h0, c0) in zip(new_state, state, strict=True)]
            emitted += emit.long()
            if max_symbols_per_frame is not None:
                done = done | (emitted >= max_symbols_per_frame)
            elif int(emitted.max()) >= UNLIMITED_GUARD:
                raise RuntimeError(f"frame {t} emitted {int(emitted.max())} symbols without a "
                                   "blank; set max_symbols_per_frame")
    return hypotheses


def as_canonical(model: torch.nn.Module) -> CanonicalRNNT:
    """`model` itself if canonical, else its weights mapped into a canonical model."""
    if isinstance(model, CanonicalRNNT):
        return model
    from rnnt_parity.codebases import build_with_weights
    from rnnt_parity.mapping.through_canonical import as_canonical_state

    state, config = as_canonical_state(model)
    return build_with_weights("canonical", config, state)


def decode_any(model: torch.nn.Module, features, lengths,
               max_symbols_per_frame: int | None = None) -> list[list[int]]:
    """Greedy hypotheses of any family's model on canonical features (B, T, F)."""
    canonical = as_canonical(model)
    parameter = next(canonical.parameters())
    x = torch.as_tensor(features, dtype=parameter.dtype, device=parameter.device)
    lengths = torch.as_tensor(lengths, device=parameter.device)
    with torch.no_grad():
        encodings, out_lengths = canonical.encoder(x, lengths)
    return greedy_decode(canonical, encodings, out_lengths, max_symbols_per_frame)
