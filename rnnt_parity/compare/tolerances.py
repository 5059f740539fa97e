"""Every numerical tolerance of rnnt-parity, named by (dtype, device, quantity), with its reason.

A comparison passes elementwise when

    |actual - expected| <= atol * scale + rtol * |expected|

where `scale` is 1, or, for a `scaled` tolerance, max(1, m) with m the magnitude of the
utterance the element belongs to. Between two float64 oracles m is the loss; against a
production kernel m is `arrays.rnnt_magnitudes`: max(|loss|, (T+U) * max|logit|). Scaling
exists because an RNN-T kernel rounds each log-prob z - logsumexp(z) at the size of |z|, sums
T+U of them along an alignment, and forms every gradient element as exp(alpha + lp + beta -
log P): the error is eps times the size of those sums. Measured here on 200 random lattices
(T < 80, U < 30, V < 80, logits scaled 0.1 to 50): torchaudio float32 stays within 3.7 eps32 *
max(1, |loss|) of the float64 oracle; the oracle's own float32 path within 0.12 eps32 (loss)
and 0.03 eps32 (gradient) * max(1, |loss|) (`scripts/measure_oracle_float32.py`, which also
holds 20 confident lattices of T + U = 360 under 1e-4 eps32); uniform logits of 8 (loss 2.0,
T+U = 9) drove torchaudio to 35 eps32, which only the (T+U) * max|logit| term covers. The
limits below leave about 4x headroom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)
EPS16 = float(np.finfo(np.float16).eps)
EPS64 = float(np.finfo(np.float64).eps)
EPS_BF16 = 2.0**-7
"""bfloat16's machine epsilon (8-bit significand; NumPy has no bfloat16)."""


@dataclass(frozen=True)
class Tolerance:
    """An elementwise limit; see the module docstring for the formula."""

    name: str
    rtol: float
    atol: float
    scaled: bool
    reason: str

    def describe(self) -> str:
        scale = "*max(1,m)" if self.scaled else ""
        return f"atol {self.atol:.1e}{scale} + rtol {self.rtol:.1e}"


TOLERANCES: dict[tuple[str, str, str], Tolerance] = {
    ("float64", "any", "rnnt.oracle_spec_vs_numba"): Tolerance(
        "rnnt.oracle_spec_vs_numba", 1e-12, 1e-12, True,
        "same float64 equations, different summation order and log-add form"),
    ("float64", "any", "rnnt.brute_force"): Tolerance(
        "rnnt.brute_force", 1e-12, 1e-12, True,
        "float64 fsum over alignments vs float64 lattice recursion"),
    ("float64", "any", "rnnt.shifted_logits"): Tolerance(
        "rnnt.shifted_logits", 0.0, 5e-11, True,
        "logits shifted by up to 50 are rounded at that magnitude: 50 eps64 each, summed"),
    ("float64", "any", "finite_difference"): Tolerance(
        "finite_difference", 1e-6, 1e-7, False,
        "central difference with step 1e-6 in float64: truncation O(h^2), rounding 1e-16/h"),
    ("float32", "any", "rnnt.oracle_float32"): Tolerance(
        "rnnt.oracle_float32", 0.0, 4 * EPS32, True,
        "oracle float32 path: per-element exp in float32, lattice in float64 (0.12 eps32 seen)"),
    ("float32", "cpu", "rnnt.loss"): Tolerance(
        "rnnt.float32_cpu.loss", 0.0, 16 * EPS32, True,
        "production float32 lattice: T+U float32 log-adds (3.7 eps32*max(1,|loss|) seen)"),
    ("float32", "cpu", "rnnt.grad"): Tolerance(
        "rnnt.float32_cpu.grad", 0.0, 16 * EPS32, True,
        "float32 exp(alpha+lp+beta-logP): exponent rounding ~ eps32*|loss| (3.7 eps32 seen)"),
    ("float32", "cuda", "rnnt.loss"): Tolerance(
        "rnnt.float32_cuda.loss", 0.0, 16 * EPS32, True,
        "float32 lattice on the GPU, other summation order; TF32 does not apply (no matmul)"),
    ("float32", "cuda", "rnnt.grad"): Tolerance(
        "rnnt.float32_cuda.grad", 0.0, 16 * EPS32, True,
        "float32 exp(alpha+lp+beta-logP) on the GPU, as on the CPU"),
    ("float16", "cuda", "rnnt.loss"): Tolerance(
        "rnnt.float16_cuda.loss", EPS16, 16 * EPS32, True,
        "oracle runs on the fp16-rounded input; fp32 inside; output rounded to fp16 (eps16)"),
    ("float16", "cuda", "rnnt.grad"): Tolerance(
        "rnnt.float16_cuda.grad", 0.0, 2 * EPS16, True,
        "gradient stored in fp16: half an ulp of values up to 1, plus the fp32 kernel error"),
    ("float32", "any", "tdt.nemo_pytorch_golden"): Tolerance(
        "tdt.nemo_pytorch_golden", 0.0, 8 * EPS32, True,
        "NeMo's TDTLossPytorch keeps its alphas in float32 (torch.zeros' default) even on "
        "float64 input: 0.23 eps32 * max(1, loss) seen on the golden (loss), 0.11 eps32 (grad)"),
    ("float64", "any", "tdt.oracle_spec_vs_numba"): Tolerance(
        "tdt.oracle_spec_vs_numba", 1e-12, 1e-12, True,
        "same float64 equations, the spec's np.logaddexp sums vs the kernel's pairwise log-adds"),
    ("float64", "any", "ctc.oracle_spec_vs_numba"): Tolerance(
        "ctc.oracle_spec_vs_numba", 1e-12, 1e-12, True,
        "same float64 recursions (Graves 2006), different log-add form"),
    ("float64", "any", "ctc.brute_force"): Tolerance(
        "ctc.brute_force", 1e-12, 1e-12, True,
        "float64 fsum over every frame path vs float64 lattice recursion"),
    ("float32", "any", "ctc.oracle_float32"): Tolerance(
        "ctc.oracle_float32", 0.0, 4 * EPS32, True,
        "float32 input, float64 lattice; gradient rounded to float32 (half an ulp of <= 1)"),
    ("float64", "cpu", "ctc.loss"): Tolerance(
        "ctc.float64_cpu.loss", 1e-12, 1e-12, True,
        "torch float64 vs oracle float64 (2e-15 seen)"),
    ("float64", "cpu", "ctc.grad"): Tolerance(
        "ctc.float64_cpu.grad", 1e-12, 1e-12, True,
        "torch float64 vs oracle float64, logits gradient (2e-15 seen)"),
    ("float32", "cpu", "ctc.loss"): Tolerance(
        "ctc.float32_cpu.loss", 0.0, 16 * EPS32, True,
        "float32 log_softmax and lattice, m = max(|loss|, T max|logit|) (1.5 eps32*m seen)"),
    ("float32", "cpu", "ctc.grad"): Tolerance(
        "ctc.float32_cpu.grad", 0.0, 16 * EPS32, True,
        "float32 exp(alpha+beta-logP) per state, m as for the loss (3.0 eps32*m seen)"),
    ("float32", "cuda", "ctc.loss"): Tolerance(
        "ctc.float32_cuda.loss", 0.0, 16 * EPS32, True,
        "native and cuDNN float32 kernels; not measured here (no GPU): the CPU bound"),
    ("float32", "cuda", "ctc.grad"): Tolerance(
        "ctc.float32_cuda.grad", 0.0, 16 * EPS32, True,
        "native and cuDNN float32 kernels; not measured here (no GPU): the CPU bound"),
    ("float64", "cuda", "ctc.loss"): Tolerance(
        "ctc.float64_cuda.loss", 1e-12, 1e-12, True,
        "native float64 CUDA kernel vs oracle float64; other summation order"),
    ("float64", "cuda", "ctc.grad"): Tolerance(
        "ctc.float64_cuda.grad", 1e-12, 1e-12, True,
        "native float64 CUDA kernel vs oracle float64; other summation order"),
    ("published", "any", "published_6_decimals"): Tolerance(
        "published_6_decimals", 0.0, 1e-6, False,
        "printed to 6 decimals (5e-7 rounding) from a float32 run (5.6e-7 seen in all)"),
    ("published", "any", "published_float32"): Tolerance(
        "published_float32", 0.0, 2e-6, False,
        "published float32 result: 16 eps32 * loss 5.1 = 1e-5 bound, 8 digits printed"),
    ("float64", "cpu", "features.mel_energy"): Tolerance(
        "features.float64.mel_energy", 1024 * EPS64, 64 * EPS64, False,
        "mel energies / the utterance's peak: FFT, DC removal, pre-emphasis round at the "
        "largest values in play (atol; 17 eps64 seen); each library rounds its own filter "
        "edges, eps64 * 8 kHz over a 20 Hz-wide filter (rtol; 212 eps64 seen)"),
    ("float64", "any", "features.fast_spectrum"): Tolerance(
        "features.float64.fast_spectrum", 0.0, 64 * EPS64, True,
        "the Numba spectrum kernel against the spec's scipy FFT and matmul, per frame's "
        "largest mel energy m (scaled: max(1, m)): both round O(log2 n_fft) times at m "
        "(5.5 eps64 seen over the kernel tests' sizes and steps and 300 random transforms)"),
    ("float32", "any", "features.mel_energy"): Tolerance(
        "features.float32.mel_energy", 0.0, 128 * EPS32, True,
        "float32 FFT, DC removal and pre-emphasis round at the frame's largest mel energy m "
        "(37 eps32*m seen, Kaldi's per-frame DC removal at int16 range)"),
    ("float32", "any", "features.model_input_rows"): Tolerance(
        "features.float32.model_input_rows", 1e-6, 1e-4, False,
        "log-mel rows in float32 (6e-8 relative of |x| <= 40, rtol) and a float32 FFT's "
        "rounding in bins far below the frame's peak (atol, nats; production float64 libraries "
        "give 0 after float32 rounding)"),
    ("float64", "any", "features.streaming_norm"): Tolerance(
        "features.float64.streaming_norm", 0.0, 1e-12, False,
        "same float64 update order in torch and NumPy (bit-identical seen)"),
    ("float64", "any", "model.forward"): Tolerance(
        "model.float64.forward", 0.0, 1e-12, True,
        "float64 LSTM recurrences and matmuls in torch vs NumPy, other summation order; m is "
        "the utterance's largest |output| (1.3e-15 absolute seen, outputs up to ~5)"),
    ("float32", "cpu", "model.forward"): Tolerance(
        "model.float32_cpu.forward", 0.0, 64 * EPS32, True,
        "float32 weights and inputs (rounded first), float32 LSTM over T steps vs float64 "
        "(4.8 eps32 seen over 30 random models, T = 20)"),
    ("bfloat16", "any", "model.forward"): Tolerance(
        "model.bfloat16.forward", 0.0, 16 * EPS_BF16, True,
        "bfloat16 weights and inputs (rounded first), every op's output rounded to bfloat16 "
        "over T = 20 LSTM steps (1.6 eps_bf16*m seen over 30 random models on the CPU; CUDA "
        "not measured here: the same bound)"),
    ("float16", "any", "model.forward"): Tolerance(
        "model.float16.forward", 0.0, 16 * EPS16, True,
        "float16 weights and inputs (rounded first), every op's output rounded to float16 "
        "over T = 20 LSTM steps (1.5 eps16*m seen over 30 random models on the CPU; CUDA not "
        "measured here: the same bound)"),
    ("float32", "cuda", "model.forward"): Tolerance(
        "model.float32_cuda.forward", 0.0, 64 * EPS32, True,
        "cuDNN float32 LSTM, TF32 off; not measured here (no GPU): the CPU bound"),
    ("float32", "any", "repeated_backward"): Tolerance(
        "float32.repeated_backward", 0.0, 16 * EPS32, False,
        "one float32 graph differentiated twice: only a non-deterministic accumulation order "
        "(CUDA atomics) may differ, at the rounding of O(1) gradient entries"),
    ("float64", "any", "beam.score"): Tolerance(
        "beam.float64.score", 1e-12, 0.0, False,
        "float64 model and oracle; only the log-add formula and its order differ"),
    ("exact", "any", "tokens"): Tolerance(
        "exact.tokens", 0.0, 0.0, False,
        "decoded token sequences are discrete: they agree exactly or not at all"),
    ("exact", "any", "padding_gradient"): Tolerance(
        "exact.padding_gradient", 0.0, 0.0, False,
        "a loss that ignores padding (t >= T_b, u > U_b) has derivative exactly 0 there, in "
        "any precision: any other value, NaN included, is the padding being read (torchaudio "
        "and the oracle give 0.0 exactly; warp-transducer and NeMo on the CPU give NaN)"),
    ("float64", "any", "exact_float64"): Tolerance(
        "exact_float64", 1e-12, 1e-12, True,
        "closed form evaluated in float64 vs the float64 oracle"),
}


@dataclass(frozen=True)
class SpreadTolerance:
    """A bound measured on each input rather than fixed: `factor` times the largest
    |reduced - float64| spread measured on that same input (the size the precision's
    rounding reaches there), plus `floor_eps` epsilons of the precision (`eps`) times the
    input's largest |value|."""

    name: str
    factor: float
    floor_eps: float
    reason: str
    eps: float = EPS32
    precision: str = "float32"

    def bound(self, spread, peak):
        return self.factor * spread + self.floor_eps * self.eps * np.maximum(1.0, peak)

    def describe(self) -> str:
        return (f"{self.factor:g} x the measured {self.precision} spread + "
                f"{self.floor_eps:g} eps_{self.precision}*max(1,m)")


def _model_spread(precision: str, eps: float) -> SpreadTolerance:
    return SpreadTolerance(
        f"model.{precision}.measured_spread", 4.0, 1.0,
        f"each model run with its weights in {precision} and in float64 on the same inputs; "
        "a port exact in float64 differs from its source by at most the sum of the two "
        "spreads (triangle inequality), so 4 x the larger is twice that guarantee; the floor "
        f"(1 eps_{precision} of the peak) covers stages whose spread is 0 (exact lookups)",
        eps, precision)


SPREAD_TOLERANCES: dict[tuple[str, str], SpreadTolerance] = {
    ("float32", "features.golden_model_input"): SpreadTolerance(
        "features.float32.golden_model_input", 4.0, 16.0,
        "a real float32 pipeline's rows (normalised log-mels) vs ours in float64: log bands "
        "far below a frame's peak carry float32 FFT rounding (1.4e-3 seen on a chirp's "
        "lowest band); the real code's error was 0.2 to 1.8x our own float32 spread on 16 "
        "Myrtle utterances"),
    ("float32", "model.forward"): _model_spread("float32", EPS32),
    ("bfloat16", "model.forward"): _model_spread("bfloat16", EPS_BF16),
    ("float16", "model.forward"): _model_spread("float16", EPS16),
}


def spread_tolerance_for(dtype: str, quantity: str) -> SpreadTolerance:
    """Look up a spread tolerance; KeyError listing the keys."""
    if (dtype, quantity) in SPREAD_TOLERANCES:
        return SPREAD_TOLERANCES[(dtype, quantity)]
    raise KeyError(f"no spread tolerance for ({dtype}, {quantity}); known: "
                   f"{', '.join('/'.join(k) for k in SPREAD_TOLERANCES)}")


def tolerance_for(dtype: str, device: str, quantity: str) -> Tolerance:
    """Look up a tolerance; `device` falls back to "any". Raises KeyError listing the keys."""
    for key in ((dtype, device, quantity), (dtype, "any", quantity)):
        if key in TOLERANCES:
            return TOLERANCES[key]
    known = ", ".join("/".join(k) for k in TOLERANCES)
    raise KeyError(f"no tolerance for ({dtype}, {device}, {quantity}); known: {known}")


def tolerance_named(name: str) -> Tolerance:
    """Look up a tolerance by its name (as fixtures cite them)."""
    for tolerance in TOLERANCES.values():
        if tolerance.name == name:
            return tolerance
    raise KeyError(f"no tolerance named {name!r}")
