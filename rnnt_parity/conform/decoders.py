"""Conformance of a user's RNN-T decoder against the oracle decoders
(`reference_impls.rnnt.decode.greedy_decode`, `reference_impls.rnnt.beam.beam_search`).

The decoder gets a torch canonical model (`rnnt_parity.codebases.canonical.model.CanonicalRNNT`,
float64, random weights) and encodings, with the project's signatures:
    greedy: decode(model, encodings (B, T', E), lengths (B,) int64, max_symbols_per_frame)
            -> list of B token lists
    beam:   search(model, encodings (T', E), length, beam, max_length)
            -> [(token tuple, log-probability), ...] best first
Models use an external encoder (the encodings are the joint's input), so every case is
cheap. Checks: a hypothesis search over models, blank positions, budgets and lengths;
a model that emits on every frame, so budgets of 1 to 3 run out (NeMo 16095: a spent
budget skipped the next frame); a batch whose padding frames would emit (icefall 358); for
beam, an unpruned search whose scores are the exact log P(y | x) (merging by log-add).
Tokens must agree exactly; beam scores under `beam.score`.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, random_parameters
from reference_impls.rnnt.beam import beam_search as oracle_beam_search
from reference_impls.rnnt.decode import greedy_decode_batch
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded
from rnnt_parity.conform.search import describe_case, search
from rnnt_parity.conform.targets import load_callable

WIDTH = 4
"""E: the encodings' width (and the prediction and joint widths) of every kit model."""
EMIT_BIAS = 6.0
"""Added to one label's output bias: with weights in [-2, 2] that label beats blank at
every step, so each frame emits until the budget is spent."""


def kit_model(vocab: int, blank: int, seed: int, emit_bias: float = 0.0):
    """(torch float64 CanonicalRNNT, NumPy parameters, config): an external-encoder model."""
    config = CanonicalConfig(WIDTH, WIDTH, 0, 0, 1, WIDTH, 1, WIDTH, vocab, blank)
    params = random_parameters(config, seed=seed, scale=2.0)
    params["joint.output.bias"][(blank + 1) % vocab] += emit_bias
    model = CanonicalRNNT(config).double().eval()
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    return model, params, config


@st.composite
def greedy_cases(draw):
    vocab = draw(st.integers(2, 6))
    blank = draw(st.sampled_from(sorted({0, vocab - 1, vocab // 2})))
    seed = draw(st.integers(0, 2**16))
    emit_bias = draw(st.sampled_from([0.0, 2.0, EMIT_BIAS]))
    batch, frames = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    lengths = np.array(draw(st.lists(st.integers(0, frames), min_size=batch, max_size=batch)))
    budget = draw(st.sampled_from([1, 2, 3]))
    encodings = np.random.default_rng(seed).standard_normal((batch, frames, WIDTH)) * 2
    return {"vocab": vocab, "blank": blank, "seed": seed, "emit_bias": emit_bias,
            "encodings": encodings, "lengths": lengths, "budget": budget}


def _greedy_outcome(decode, case: dict, name: str = "") -> CheckOutcome:
    model, params, config = kit_model(case["vocab"], case["blank"], case["seed"],
                                      case["emit_bias"])
    expected = greedy_decode_batch(params, config, case["encodings"], case["lengths"],
                                   case["budget"])
    found = decode(model, torch.tensor(case["encodings"]), torch.tensor(case["lengths"]),
                   case["budget"])
    return hypotheses_outcome(name, [[int(v) for v in hypothesis] for hypothesis in found],
                              expected)


def hypotheses_outcome(name: str, found: list, expected: list) -> CheckOutcome:
    """Pass when a batch's hypotheses equal the oracle's, else name how many differ and the
    first that does."""
    if len(found) != len(expected):
        return CheckOutcome(name, False, detail=f"{len(found)} hypotheses for a batch of "
                                                f"{len(expected)}")
    differing = [b for b, (x, y) in enumerate(zip(found, expected, strict=True)) if x != y]
    if not differing:
        return CheckOutcome(name, True)
    first = differing[0]
    return CheckOutcome(name, False, detail=f"{len(differing)} of {len(found)} utterances "
                                            f"differ; utterance {first}: {found[first]} where "
                                            f"the oracle decodes {expected[first]}")


def _targeted(decode, name: str, case: dict) -> CheckOutcome:
    return guarded(name, lambda: _greedy_outcome(decode, case, name), describe_case(case))


def conform_rnnt_greedy(target: str, profile: str = "ci") -> ConformanceReport:
    decode = load_callable(target)
    report = ConformanceReport("RNN-T greedy decoder", target,
                               {"signature": "decode(model, encodings, lengths, "
                                             "max_symbols_per_frame)"})
    rng = np.random.default_rng(0)
    every_frame_emits = {"vocab": 5, "blank": 0, "seed": 1, "emit_bias": EMIT_BIAS,
                         "encodings": rng.standard_normal((2, 6, WIDTH)) * 2,
                         "lengths": np.array([6, 4])}
    for budget in (1, 2, 3):
        report.checks.append(_targeted(
            decode, f"a spent budget of {budget} moves to the next frame, skipping none",
            {**every_frame_emits, "budget": budget}))
    report.checks.append(_targeted(
        decode, "padding frames never emit (lengths 6, 1, 0)",
        {**every_frame_emits, "encodings": rng.standard_normal((3, 6, WIDTH)) * 2,
         "lengths": np.array([6, 1, 0]), "budget": 2}))
    report.checks.append(search("property: random models and batches vs the oracle",
                                greedy_cases(), lambda case: _greedy_outcome(decode, case),
                                describe_case, profile))
    return report


@st.composite
def beam_cases(draw):
    case = draw(greedy_cases())
    frames = case["encodings"].shape[1]
    case["encodings"] = case["encodings"][0]
    case["lengths"] = draw(st.integers(1, frames))
    case["emit_bias"] = min(case["emit_bias"], 2.0)
    case["beam"] = draw(st.sampled_from([None, 1, 2, 4]))
    case["max_length"] = draw(st.integers(0, 4))
    del case["budget"]
    return case


def _beam_outcome(search_fn, case: dict, name: str = "") -> CheckOutcome:
    model, params, config = kit_model(case["vocab"], case["blank"], case["seed"],
                                      case["emit_bias"])
    expected = oracle_beam_search(params, config, case["encodings"], case["lengths"],
                                  case["beam"], case["max_length"])
    found = search_fn(model, torch.tensor(case["encodings"]), case["lengths"], case["beam"],
                      case["max_length"])
    sequences = [tuple(int(v) for v in y) for y, _ in found]
    if sequences != [y for y, _ in expected]:
        return CheckOutcome(name, False, detail=f"hypotheses {sequences[:4]} where the oracle "
                                                f"finds {[y for y, _ in expected][:4]}")
    scores = compare([s for _, s in found], [s for _, s in expected],
                     tolerance_for("float64", "any", "beam.score"))
    return CheckOutcome(name, scores.passed, max_abs_loss=scores.max_abs,
                        detail="" if scores.passed else "scores differ")


def conform_rnnt_beam(target: str, profile: str = "ci") -> ConformanceReport:
    search_fn = load_callable(target)
    report = ConformanceReport("RNN-T beam search", target,
                               {"signature": "search(model, encodings, length, beam, "
                                             "max_length)"})
    rng = np.random.default_rng(1)
    exact = {"vocab": 4, "blank": 0, "seed": 3, "emit_bias": 1.0,
             "encodings": rng.standard_normal((4, WIDTH)) * 2, "lengths": 4, "beam": None,
             "max_length": 4}
    name = "unpruned scores are the exact log P(y given x) (merged by log-add)"
    report.checks.append(guarded(name, lambda: _beam_outcome(search_fn, exact, name),
                                 describe_case(exact)))
    report.checks.append(search("property: random models and beams vs the oracle",
                                beam_cases(), lambda case: _beam_outcome(search_fn, case),
                                describe_case, profile))
    return report

