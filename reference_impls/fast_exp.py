"""exp(d) for d <= 0 inside Numba loops, in the loop's own precision, written so that LLVM
can vectorise the loop (`exp_nonpositive`).

float64: `math.exp` (libm, correctly rounded to within 1 ulp).
float32: Cody-Waite range reduction d = n ln 2 + r, |r| <= ln 2 / 2 (ln 2 split in a high
part exact in float32 and a low correction), then exp(r) = 1 + r + r^2 P(r) with Cephes
`expf`'s degree-5 minimax P, and 2^n built from its IEEE bits. Every step is float32
arithmetic, a floor, a conversion or an integer shift, so a loop over a row compiles to SIMD
instructions (8 float32 lanes in the 256-bit registers Numba's code uses here) where libm's
scalar `expf` cannot. The range reduction and the Horner steps of P are fused multiply-adds
(one rounding each, and half the instructions: 0.54 to 0.69 ns per value in a loop here,
against 0.88 to 1.10 with separate multiplies and adds); the last step, 1 + r + r^2 P, is not:
fused there, the worst error over the range grew to 1.010 ulp. Measured against float64
`exp` over every float32 in [-87, 0]: within 0.988 ulp
(`tests/reference_impls/test_fast_exp.py` holds it to 1 ulp). Below -87
(exp < 1.7e-38, under float32's smallest normal number) it returns 0, and so it does for
NaN: callers flag NaN rows themselves.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

UNDERFLOW = np.float32(-87.0)
"""Below this exp(d) is under float32's smallest normal number (1.18e-38): 0 is returned."""
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                   4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
"""Cephes expf: exp(r) = 1 + r + r^2 (((((P0 r + P1) r + P2) r + P3) r + P4) r + P5)."""


@intrinsic
def _fused_multiply_add(typingctx, a, b, c):
    """a * b + c in float32 with one rounding (LLVM's llvm.fma.f32: one vector instruction
    per 8 lanes where the CPU has FMA, as every x86-64 CPU since 2013 does)."""
    if not (a == b == c == types.float32):
        return None

    def codegen(context, builder, signature, args):
        float32 = ir.FloatType()
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(float32, [float32] * 3), "llvm.fma.f32")
        return builder.call(fma, args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@intrinsic
def _bits_as_float32(typingctx, bits):
    """The float32 whose IEEE-754 bit pattern is the int32 `bits` (an LLVM bitcast)."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


def exp_nonpositive(d):
    """exp(d) for d <= 0; in Numba, per dtype as the module docstring says."""
    return math.exp(d)


@overload(exp_nonpositive, inline="always")
def _exp_nonpositive(d):
    if isinstance(d, types.Float) and d.bitwidth == 32:
        p0, p1, p2, p3, p4, p5 = _P

        def exp32(d):
            clamped = d if d >= UNDERFLOW else UNDERFLOW
            n = np.floor(_fused_multiply_add(clamped, _LOG2E, np.float32(0.5)))
            r = _fused_multiply_add(-n, _LN2_LO, _fused_multiply_add(-n, _LN2_HI, clamped))
            p = p0
            for coefficient in (p1, p2, p3, p4, p5):
                p = _fused_multiply_add(p, r, coefficient)
            value = (p * r * r + r + np.float32(1.0)) * _bits_as_float32(
                np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))
            return value if d >= UNDERFLOW else np.float32(0.0)
        return exp32
    if isinstance(d, types.Float):
        return lambda d: math.exp(d)
    return None


@njit(cache=True)
def exp_nonpositive_array(d):
    """`exp_nonpositive` of each element of a 1-D float array (for tests and callers outside
    Numba)."""
    out = np.empty_like(d)
    for i in range(d.shape[0]):
        out[i] = exp_nonpositive(d[i])
    return out
