"""Conformance of a user's greedy TDT decoder against the oracle
(`reference_impls.tdt.decode.tdt_greedy_decode`).

The decoder gets a torch canonical model with a TDT joint (float64, random weights, an
external encoder: the encodings are the joint's input), with the signature
    decode(model, encodings (B, T', E), lengths (B,) int64, max_symbols_per_frame)
        -> B hypotheses, each with `tokens`, `frames` and `durations` (a
           `reference_impls.tdt.TDTHypothesis`, or any object or mapping with those three,
           or a (tokens, frames, durations) triple)
Checks: a model whose tokens take duration 0, so budgets of 1 to 3 run out (a spent budget
moves one frame and never further: NVIDIA-NeMo/Speech#16095); a model whose tokens take
duration 2, so that every budget of 1 is spent by a step that already moved time (#16095
again); a blank of duration 0 (it moves one frame); each utterance of a batch decoded as if
alone, durations included (NVIDIA-NeMo/Speech#16097); a batch whose padding frames would
emit; and a hypothesis search over models, budgets and lengths. Tokens, frames and
durations must agree exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, random_parameters
from reference_impls.tdt.decode import TDTHypothesis, tdt_greedy_decode_batch
from rnnt_parity.codebases import build_with_weights
from rnnt_parity.conform.decoders import hypotheses_outcome
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded
from rnnt_parity.conform.search import describe_case, search
from rnnt_parity.conform.targets import load_callable

WIDTH = 4
"""E: the encodings' width (and the prediction and joint widths) of every kit model."""
DURATIONS = (0, 1, 2, 3, 4)
"""NeMo's TDT durations (its example configs' `tdt_durations`)."""
BIAS = 6.0
"""Added to an output bias: with weights in [-2, 2] that output then wins every argmax."""


def kit_model(vocab: int, seed: int, token_bias: float = 0.0,
              duration_bias: dict[int, float] | None = None):
    """(torch float64 canonical model, NumPy parameters, config): blank last, `token_bias`
    on token 0 and `duration_bias` {duration: bias} on the duration outputs."""
    config = CanonicalConfig(WIDTH, WIDTH, 0, 0, 1, WIDTH, 1, WIDTH, vocab, vocab - 1,
                             durations=DURATIONS)
    params = random_parameters(config, seed=seed, scale=2.0)
    params["joint.output.bias"][0] += token_bias
    for duration, bias in (duration_bias or {}).items():
        params["joint.output.bias"][vocab + DURATIONS.index(duration)] += bias
    model = build_with_weights("canonical", config,
                               {k: torch.tensor(v) for k, v in params.items()})
    return model, params, config


@st.composite
def tdt_greedy_cases(draw):
    batch, frames = draw(st.integers(1, 3)), draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**16))
    return {"vocab": draw(st.integers(2, 6)), "seed": seed,
            "token_bias": draw(st.sampled_from([0.0, 2.0, BIAS])),
            "duration_bias": {draw(st.sampled_from(DURATIONS)): draw(st.sampled_from(
                [0.0, 2.0, BIAS]))},
            "encodings": np.random.default_rng(seed).standard_normal((batch, frames, WIDTH)) * 2,
            "lengths": np.array(draw(st.lists(st.integers(0, frames), min_size=batch,
                                              max_size=batch))),
            "budget": draw(st.sampled_from([1, 2, 3]))}


def as_hypothesis(found) -> TDTHypothesis:
    """A decoder's hypothesis as a TDTHypothesis of ints (TypeError if it is none)."""
    if isinstance(found, dict):
        fields = [found[key] for key in ("tokens", "frames", "durations")]
    elif all(hasattr(found, key) for key in ("tokens", "frames", "durations")):
        fields = [found.tokens, found.frames, found.durations]
    else:
        fields = list(found)
        if len(fields) != 3:
            raise TypeError("a hypothesis must have tokens, frames and durations, got "
                            f"{type(found).__name__}")
    return TDTHypothesis(*(tuple(int(v) for v in field) for field in fields))


def _outcome(decode, case: dict, name: str = "") -> CheckOutcome:
    model, params, config = kit_model(case["vocab"], case["seed"], case["token_bias"],
                                      case["duration_bias"])
    expected = tdt_greedy_decode_batch(params, config, case["encodings"], case["lengths"],
                                       case["budget"])
    found = decode(model, torch.tensor(case["encodings"]), torch.tensor(case["lengths"]),
                   case["budget"])
    return hypotheses_outcome(name, [as_hypothesis(h) for h in found], expected)


def _targeted(decode, name: str, case: dict) -> CheckOutcome:
    return guarded(name, lambda: _outcome(decode, case, name), describe_case(case))


def conform_tdt_greedy(target: str, profile: str = "ci") -> ConformanceReport:
    decode = load_callable(target)
    report = ConformanceReport("TDT greedy decoder", target,
                               {"signature": "decode(model, encodings, lengths, "
                                             "max_symbols_per_frame)",
                                "durations": list(DURATIONS)})
    rng = np.random.default_rng(0)
    batch = {"vocab": 5, "seed": 1, "token_bias": BIAS,
             "encodings": rng.standard_normal((3, 7, WIDTH)) * 2, "lengths": np.array([7, 5, 2])}
    for budget in (1, 2, 3):
        report.checks.append(_targeted(
            decode, f"tokens of duration 0 spend a budget of {budget}, then time moves one "
                    "frame", {**batch, "duration_bias": {0: BIAS}, "budget": budget}))
    report.checks.append(_targeted(
        decode, "a step that moved time by its duration and spent the budget moves no "
                "further (NeMo 16095)", {**batch, "duration_bias": {2: BIAS}, "budget": 1}))
    report.checks.append(_targeted(
        decode, "a blank of duration 0 moves one frame",
        {**batch, "token_bias": -BIAS, "duration_bias": {0: BIAS}, "budget": 2}))
    mixed = {"vocab": 5, "seed": 7, "token_bias": 0.0, "duration_bias": {3: 1.0},
             "encodings": rng.standard_normal((3, 9, WIDTH)) * 3, "lengths": np.array([9, 9, 9]),
             "budget": 10}
    report.checks.append(_targeted(
        decode, "each utterance of a batch decodes, durations included, as if alone "
                "(NeMo 16097)", mixed))
    report.checks.append(_targeted(
        decode, "padding frames never emit (lengths 7, 1, 0)",
        {**batch, "duration_bias": {1: BIAS}, "lengths": np.array([7, 1, 0]), "budget": 2}))
    report.checks.append(search("property: random TDT models and batches vs the oracle",
                                tdt_greedy_cases(), lambda case: _outcome(decode, case),
                                describe_case, profile))
    return report
