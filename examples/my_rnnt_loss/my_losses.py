"""A user's own RNN-T loss, written from Graves (2012) in plain torch, and the same loss with
a bug a user might write (the last label of every target never scored).

Convention (torchaudio's): logits (B, T, U+1, V), blank the last index, lengths of any
integer dtype, reduction "mean" over the batch; the log-softmax is taken over each
utterance's valid region only, so whatever the padding holds (NaN included) never reaches
the loss or its gradient.
"""

from __future__ import annotations

import torch


def _utterance_loss(logits: torch.Tensor, targets: torch.Tensor, frames: int,
                    labels: int) -> torch.Tensor:
    """-log P(y | x) of one utterance by the forward variable alpha(t, u) (Graves 2012,
    eq. 16-18), in log space; `logits` (T, U+1, V) with the blank last."""
    log_probs = logits[:frames, :labels + 1].log_softmax(-1)
    blank = log_probs[..., -1]
    emit = log_probs[:, :labels].gather(
        -1, targets[:labels].long().view(1, -1, 1).expand(frames, -1, 1)).squeeze(-1)
    alpha = [[None] * (labels + 1) for _ in range(frames)]
    for t in range(frames):
        for u in range(labels + 1):
            if t == 0 and u == 0:
                alpha[t][u] = log_probs.new_zeros(())
                continue
            paths = []
            if t > 0:
                paths.append(alpha[t - 1][u] + blank[t - 1, u])
            if u > 0:
                paths.append(alpha[t][u - 1] + emit[t, u - 1])
            alpha[t][u] = torch.logsumexp(torch.stack(paths), dim=0)
    return -(alpha[frames - 1][labels] + blank[frames - 1, labels])


def rnnt_loss(logits, targets, logit_lengths, target_lengths):
    """The batch mean of the per-utterance losses."""
    return torch.stack([
        _utterance_loss(logits[b], targets[b], int(logit_lengths[b]), int(target_lengths[b]))
        for b in range(logits.shape[0])]).mean()


def rnnt_loss_last_label_dropped(logits, targets, logit_lengths, target_lengths):
    """The bug: a length off by one, so the last label of each target is never scored."""
    return torch.stack([
        _utterance_loss(logits[b], targets[b], int(logit_lengths[b]),
                        max(int(target_lengths[b]) - 1, 0))
        for b in range(logits.shape[0])]).mean()
