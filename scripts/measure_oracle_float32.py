"""Measure the RNN-T oracle's float32 path against its float64 spec: the largest error of the
loss and of the gradient in units of eps32 * max(1, |loss|) (the scaling of the tolerance
`rnnt.oracle_float32` in rnnt_parity/compare/tolerances.py, which quotes the figures), on
two families of lattices:

* random: 200 lattices, T < 80, U < 30, V < 80, standard normal logits times a scale drawn
  log-uniformly from 0.1 to 50;
* confident: 20 trained-like lattices, (T, U, V) = (300, 60, 30): standard normal logits
  plus 20 on the symbol of one monotone alignment (its label at the frame it is emitted,
  blank elsewhere), so that most edge probabilities are near 0 or 1.

Also prints how many utterances the fast path computed in log space rather than scaled.

    .venv/bin/python scripts/measure_oracle_float32.py
"""

from __future__ import annotations

import numpy as np

from reference_impls.rnnt import kernels, rnnt_loss
from reference_impls.rnnt.validation import validate_rnnt_batch

EPS32 = float(np.finfo(np.float32).eps)


def random_lattice(rng):
    frames, labels, vocab = rng.integers(1, 80), rng.integers(0, 30), rng.integers(2, 80)
    scale = np.exp(rng.uniform(np.log(0.1), np.log(50.0)))
    logits = (rng.standard_normal((1, frames, labels + 1, vocab)) * scale).astype(np.float32)
    targets = rng.integers(0, vocab - 1, (1, labels))
    return logits, targets, np.array([frames]), np.array([labels])


def confident_lattice(rng, frames=300, labels=60, vocab=30, bonus=20.0):
    logits = rng.standard_normal((1, frames, labels + 1, vocab))
    targets = rng.integers(0, vocab - 1, (1, labels))
    emit_at = np.sort(rng.choice(frames, labels, replace=True))
    u = 0
    for t in range(frames):
        while u < labels and emit_at[u] == t:
            logits[0, t, u, targets[0, u]] += bonus
            u += 1
        logits[0, t, u, vocab - 1] += bonus
    return logits.astype(np.float32), targets, np.array([frames]), np.array([labels])


def used_log_space(logits, targets, logit_lengths, target_lengths) -> bool:
    batch = validate_rnnt_batch(logits, targets, logit_lengths, target_lengths, -1)
    grad = np.empty_like(batch.logits)
    node_values = np.empty(batch.logits.shape[:3])
    kernels.softmax_numerators(batch.logits, batch.targets, batch.logit_lengths,
                               batch.target_lengths, batch.blank, True, grad, node_values)
    in_log_space = np.empty(1, dtype=np.bool_)
    kernels.gradient_factors(batch.logits, batch.targets, batch.logit_lengths,
                             batch.target_lengths, batch.blank, True, 1.0, grad, node_values,
                             np.empty(1), in_log_space)
    return bool(in_log_space[0])


def worst_errors(make, trials, rng):
    worst_loss = worst_grad = 0.0
    log_space = 0
    for _ in range(trials):
        case = make(rng)
        loss32, grad32 = rnnt_loss(*case, reduction="sum")
        spec_loss, spec_grad = rnnt_loss(case[0].astype(np.float64), *case[1:], reduction="sum",
                                         implementation="spec")
        unit = EPS32 * max(1.0, abs(float(spec_loss)))
        worst_loss = max(worst_loss, abs(float(loss32) - float(spec_loss)) / unit)
        worst_grad = max(worst_grad, float(np.abs(grad32 - spec_grad).max()) / unit)
        log_space += used_log_space(*case)
    return worst_loss, worst_grad, log_space


def main():
    rng = np.random.default_rng(0)
    print("| family | lattices | loss error | gradient error | in log space |")
    print("|---|---|---|---|---|")
    for name, make, trials in (("random", random_lattice, 200),
                               ("confident", confident_lattice, 20)):
        loss, grad, log_space = worst_errors(make, trials, rng)
        print(f"| {name} | {trials} | {loss:.3g} eps32 | {grad:.3g} eps32 | {log_space} |")


if __name__ == "__main__":
    main()
