"""Oracles for rnnt-parity: NumPy (and Numba) transcriptions of the published algorithms.

This package never imports torch, torchaudio or any production library, so that the
implementations under test and the oracle share no code (see DESIGN.md).

Subpackages:
    rnnt:        RNN-T loss (Graves 2012): alphas, betas, occupancies, loss and gradient.
    brute_force: enumeration of every alignment of a tiny lattice (the oracle's own oracle).
"""
