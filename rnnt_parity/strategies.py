"""Hypothesis strategies for RNN-T lattices, public so that users' suites reuse them.

    from rnnt_parity.strategies import rnnt_batches
    @given(rnnt_batches(max_frames=5))
    def test_mine(case): loss = my_loss(*case.arrays(), blank=case.blank)

Strategies return `RNNTCase` (NumPy arrays in torchaudio's layout). Labels inside the valid
region never equal blank; blank is drawn at the first, last or a middle index. With
`hostile_padding=True` everything outside the valid region is garbage (NaN logits,
out-of-range labels), which the oracle must ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_impls.rnnt.spec import log_softmax

HYPOTHESIS_PROFILES = {
    "ci": {"derandomize": True, "deadline": None, "max_examples": 200, "print_blob": True},
    "dev": {"deadline": None, "max_examples": 100},
    "thorough": {"deadline": None, "max_examples": 2000},
    "quick": {"derandomize": True, "deadline": None, "max_examples": 50, "print_blob": True},
}
"""The hypothesis profiles (registered by the test suite's conftest.py and used by
`rnnt-parity conform --profile`): ci is reproducible, dev the everyday run, thorough for
nightly searches, quick (reproducible, a quarter of ci's examples) for the test suite's
run of every catalogue entry, whose whole catalogue the docs tests run under ci."""


@dataclass(frozen=True)
class RNNTCase:
    """One RNN-T batch: logits `(B, T, U+1, V)`, targets `(B, U)`, lengths `(B,)`, blank."""

    logits: np.ndarray
    targets: np.ndarray
    logit_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int

    def arrays(self):
        """(logits, targets, logit_lengths, target_lengths), the positional arguments."""
        return self.logits, self.targets, self.logit_lengths, self.target_lengths

    @property
    def vocab_size(self) -> int:
        return self.logits.shape[-1]

    def utterance(self, b: int) -> RNNTCase:
        """Utterance `b` alone, cropped to its valid region."""
        t_len, u_len = int(self.logit_lengths[b]), int(self.target_lengths[b])
        return RNNTCase(self.logits[b: b + 1, :t_len, : u_len + 1].copy(),
                        self.targets[b: b + 1, :u_len].copy(), np.array([t_len]),
                        np.array([u_len]), self.blank)

    def valid_mask(self) -> np.ndarray:
        """`(B, T, U+1)` bool: True inside each utterance's valid region."""
        _, frames, labels_plus_one, _ = self.logits.shape
        return rnnt_valid_region(self.logit_lengths, self.target_lengths, frames,
                                 labels_plus_one - 1)


def rnnt_valid_region(logit_lengths, target_lengths, frames: int, labels: int) -> np.ndarray:
    """`(B, frames, labels + 1)` bool: t < T_b and u <= U_b."""
    t = np.arange(frames)[None, :, None] < np.asarray(logit_lengths)[:, None, None]
    u = np.arange(labels + 1)[None, None, :] <= np.asarray(target_lengths)[:, None, None]
    return t & u


def blank_positions(vocab_size: int):
    """Blank first, last, in the middle, or as -1 (torchaudio's default)."""
    return st.sampled_from(sorted({0, vocab_size - 1, vocab_size // 2}) + [-1])


@st.composite
def rnnt_batches(draw, max_batch=3, max_frames=6, max_labels=4, min_vocab=2, max_vocab=6,
                 dtype=np.float64, logit_bound=10.0, hostile_padding=False,
                 full_lengths=False) -> RNNTCase:
    """Draw an RNN-T batch.

    Args:
        max_batch, max_frames, max_labels: upper bounds of B, T and U (U may be 0).
        min_vocab, max_vocab: bounds of V (at least 2: blank and one label).
        dtype: float32 or float64 logits.
        logit_bound: logits lie in [-logit_bound, logit_bound].
        hostile_padding: fill the padding with NaN logits and out-of-range labels.
        full_lengths: the first utterance spans the whole T and U (production losses require
            T == max(logit_lengths) and U == max(target_lengths)).
    """
    batch = draw(st.integers(1, max_batch))
    frames = draw(st.integers(1, max_frames))
    labels = draw(st.integers(0, max_labels))
    vocab = draw(st.integers(max(2, min_vocab), max_vocab))
    blank = draw(blank_positions(vocab))
    logits = draw(arrays(dtype, (batch, frames, labels + 1, vocab),
                         elements=st.floats(-logit_bound, logit_bound, width=32)))
    logit_lengths = np.array(draw(st.lists(st.integers(1, frames), min_size=batch,
                                           max_size=batch)), dtype=np.int64)
    target_lengths = np.array(draw(st.lists(st.integers(0, labels), min_size=batch,
                                            max_size=batch)), dtype=np.int64)
    if full_lengths:
        logit_lengths[0], target_lengths[0] = frames, labels
    non_blank = [k for k in range(vocab) if k != blank % vocab]
    targets = np.array(draw(st.lists(st.lists(st.sampled_from(non_blank), min_size=labels,
                                              max_size=labels), min_size=batch, max_size=batch)),
                       dtype=np.int64).reshape(batch, labels)
    case = RNNTCase(logits, targets, logit_lengths, target_lengths, blank)
    if hostile_padding:
        case = with_hostile_padding(case)
    return case


def with_hostile_padding(case: RNNTCase) -> RNNTCase:
    """The same case with NaN logits and out-of-range labels everywhere outside its region."""
    logits = case.logits.copy()
    logits[~case.valid_mask()] = np.nan
    targets = case.targets.copy()
    label_index = np.arange(targets.shape[1])[None, :]
    targets[label_index >= case.target_lengths[:, None]] = case.vocab_size + 7
    return replace(case, logits=logits, targets=targets)


@dataclass(frozen=True)
class TDTCase:
    """One TDT batch: `tokens` an RNN-T case over the token part, then the duration logits
    `(B, T, U+1, D)` of `durations`."""

    tokens: RNNTCase
    duration_logits: np.ndarray
    durations: tuple[int, ...]

    @property
    def logits(self) -> np.ndarray:
        """`(B, T, U+1, V + D)`: token logits, then duration logits."""
        return np.concatenate([self.tokens.logits, self.duration_logits], axis=-1)

    def arrays(self):
        """(logits, targets, logit_lengths, target_lengths, durations), positionally."""
        case = self.tokens
        return self.logits, case.targets, case.logit_lengths, case.target_lengths, \
            list(self.durations)


@st.composite
def tdt_batches(draw, max_batch=2, max_frames=4, max_labels=2, max_vocab=4, max_duration=3,
                logit_bound=5.0, hostile_padding=False) -> TDTCase:
    """Draw a TDT batch: `rnnt_batches`' token part, a set of distinct durations in
    [0, max_duration] with at least one positive, and their logits (NaN on the padding
    when `hostile_padding`)."""
    tokens = draw(rnnt_batches(max_batch, max_frames, max_labels, 2, max_vocab,
                               logit_bound=logit_bound, hostile_padding=hostile_padding))
    durations = draw(st.lists(st.integers(0, max_duration), min_size=1,
                              max_size=max_duration + 1, unique=True).filter(
                                  lambda values: max(values) > 0))
    duration_logits = draw(arrays(np.float64, tokens.logits.shape[:3] + (len(durations),),
                                  elements=st.floats(-logit_bound, logit_bound, width=32)))
    if hostile_padding:
        duration_logits[~tokens.valid_mask()] = np.nan
    return TDTCase(tokens, duration_logits, tuple(durations))


@dataclass(frozen=True)
class MalformedCall:
    """Keyword arguments for `rnnt_loss` with one defect, and the error it must raise."""

    defect: str
    kwargs: dict
    error: type
    names: str


LABEL_DEFECTS = ("label equals blank", "label out of range", "label negative")
MALFORMED_DEFECTS = (
    "logits not an array", "logits 3-D", "logits integer dtype", "logits float16",
    "targets float dtype", "targets batch mismatch", "targets wider than U",
    "targets narrower than U", "logit_lengths batch mismatch", "logit length zero",
    "logit length negative", "logit length beyond T", "target length negative",
    "target length beyond U", "blank out of range", "blank not an int",
    "NaN in the valid region", "+inf in the valid region", "reduction unknown", "clamp NaN",
    "fastemit_lambda negative", *LABEL_DEFECTS,
)


@st.composite
def malformed_rnnt_calls(draw, defect: str | None = None) -> MalformedCall:
    """A valid batch with exactly one defect that a validating RNN-T loss must reject.

    Args:
        defect: one of MALFORMED_DEFECTS, or None to draw one. Parametrise a test over
            MALFORMED_DEFECTS to exercise every defect on every run.
    """
    if defect is not None and defect not in MALFORMED_DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; known: {MALFORMED_DEFECTS}")
    defect = defect or draw(st.sampled_from(MALFORMED_DEFECTS))
    needs_label = defect in LABEL_DEFECTS or defect == "targets narrower than U"
    case = draw(rnnt_batches(max_batch=3, max_frames=4, max_labels=3).filter(
        lambda c: not needs_label or c.target_lengths.max() > 0))
    kwargs = {"logits": case.logits, "targets": case.targets,
              "logit_lengths": case.logit_lengths, "target_lengths": case.target_lengths,
              "blank": case.blank}
    batch, frames, nodes, vocab = case.logits.shape
    b = draw(st.integers(0, batch - 1))
    defects = {
        "logits not an array": lambda: ({"logits": case.logits.tolist()}, TypeError, "logits"),
        "logits 3-D": lambda: ({"logits": case.logits[0]}, ValueError, "logits"),
        "logits integer dtype": lambda: ({"logits": case.logits.astype(np.int64)}, TypeError,
                                         "logits"),
        "logits float16": lambda: ({"logits": case.logits.astype(np.float16)}, TypeError,
                                   "logits"),
        "targets float dtype": lambda: ({"targets": case.targets.astype(np.float64)}, TypeError,
                                        "targets"),
        "targets batch mismatch": lambda: ({"targets": np.zeros((batch + 1, nodes - 1),
                                                                dtype=np.int64)},
                                           ValueError, "targets"),
        "targets wider than U": lambda: ({"targets": np.zeros((batch, nodes), dtype=np.int64)},
                                         ValueError, "targets"),
        "logit_lengths batch mismatch": lambda: ({"logit_lengths": np.ones(batch + 1,
                                                                           dtype=np.int64)},
                                                 ValueError, "logit_lengths"),
        "logit length zero": lambda: ({"logit_lengths": _set(case.logit_lengths, b, 0)},
                                      ValueError, f"logit_lengths[{b}]"),
        "logit length negative": lambda: ({"logit_lengths": _set(case.logit_lengths, b, -3)},
                                          ValueError, f"logit_lengths[{b}]"),
        "logit length beyond T": lambda: ({"logit_lengths": _set(case.logit_lengths, b,
                                                                 frames + 1)},
                                          ValueError, f"logit_lengths[{b}]"),
        "target length negative": lambda: ({"target_lengths": _set(case.target_lengths, b, -1)},
                                           ValueError, f"target_lengths[{b}]"),
        "target length beyond U": lambda: ({"target_lengths": _set(case.target_lengths, b,
                                                                   nodes)},
                                           ValueError, f"target_lengths[{b}]"),
        "blank out of range": lambda: ({"blank": vocab}, ValueError, "blank"),
        "blank not an int": lambda: ({"blank": 0.0}, TypeError, "blank"),
        "NaN in the valid region": lambda: ({"logits": _set(case.logits, (b, 0, 0, 0), np.nan)},
                                            ValueError, f"logits[{b}, 0, 0]"),
        "+inf in the valid region": lambda: ({"logits": _set(case.logits, (b, 0, 0, 0), np.inf)},
                                             ValueError, f"logits[{b}, 0, 0]"),
        "reduction unknown": lambda: ({"reduction": "average"}, ValueError, "reduction"),
        "clamp NaN": lambda: ({"clamp": float("nan")}, ValueError, "clamp"),
        "fastemit_lambda negative": lambda: ({"fastemit_lambda": -0.1}, ValueError,
                                             "fastemit_lambda"),
    }
    if needs_label:
        lb = int(np.flatnonzero(case.target_lengths > 0)[0])
        defects["label equals blank"] = lambda: (
            {"targets": _set(case.targets, (lb, 0), case.blank % vocab)}, ValueError,
            f"targets[{lb}, 0]")
        defects["label out of range"] = lambda: (
            {"targets": _set(case.targets, (lb, 0), vocab)}, ValueError, f"targets[{lb}, 0]")
        defects["label negative"] = lambda: (
            {"targets": _set(case.targets, (lb, 0), -1)}, ValueError, f"targets[{lb}, 0]")
        defects["targets narrower than U"] = lambda: (
            {"targets": case.targets[:, :-1]}, ValueError, "targets")
    change, error, names = defects[defect]()
    return MalformedCall(defect, {**kwargs, **change}, error, names)


def _set(array: np.ndarray, index, value) -> np.ndarray:
    changed = array.copy()
    changed[index] = value
    return changed


@dataclass(frozen=True)
class CTCCase:
    """One CTC batch: log_probs `(T, B, C)`, targets `(B, S)` padded, lengths `(B,)`, blank."""

    log_probs: np.ndarray
    targets: np.ndarray
    input_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int

    def arrays(self):
        """(log_probs, targets, input_lengths, target_lengths), the positional arguments."""
        return self.log_probs, self.targets, self.input_lengths, self.target_lengths

    def concatenated_targets(self) -> np.ndarray:
        """The targets in torch's 1-D concatenated form."""
        return np.concatenate([self.targets[b, :n] for b, n in enumerate(self.target_lengths)]
                              + [np.zeros(0, dtype=np.int64)])

    def valid_frames(self) -> np.ndarray:
        """`(T, B)` bool: True on each utterance's frames."""
        return np.arange(self.log_probs.shape[0])[:, None] < self.input_lengths[None, :]


def ctc_frames_needed(labels) -> int:
    """The fewest frames CTC needs for `labels`: one each, plus a blank between repeats."""
    return len(labels) + sum(1 for i in range(1, len(labels)) if labels[i] == labels[i - 1])


@st.composite
def ctc_batches(draw, max_batch=3, max_frames=8, max_labels=4, min_classes=2, max_classes=6,
                dtype=np.float64, logit_bound=10.0, hostile_padding=False, feasible=False,
                full_lengths=False) -> CTCCase:
    """Draw a CTC batch of normalised log-probs.

    Args:
        max_batch, max_frames, max_labels: upper bounds of B, T and S (S may be 0).
        min_classes, max_classes: bounds of C (at least 2: blank and one label).
        dtype: float32 or float64 log-probs.
        logit_bound: the log-probs are log_softmax of logits in [-logit_bound, logit_bound].
        hostile_padding: NaN frames and out-of-range labels outside the valid region.
        feasible: every target fits its input length (S plus its adjacent repeats <= T).
        full_lengths: every input length equals T (cuDNN's condition).
    """
    batch = draw(st.integers(1, max_batch))
    frames = draw(st.integers(1, max_frames))
    labels = draw(st.integers(0, max_labels))
    classes = draw(st.integers(max(2, min_classes), max_classes))
    blank = draw(blank_positions(classes))
    logits = draw(arrays(np.float64, (frames, batch, classes),
                         elements=st.floats(-logit_bound, logit_bound, width=32)))
    log_probs = log_softmax(logits).astype(dtype)
    input_lengths = np.array(draw(st.lists(st.integers(1, frames), min_size=batch,
                                           max_size=batch)), dtype=np.int64)
    if full_lengths:
        input_lengths[:] = frames
    non_blank = [k for k in range(classes) if k != blank % classes]
    targets = np.zeros((batch, labels), dtype=np.int64)
    target_lengths = np.zeros(batch, dtype=np.int64)
    for b in range(batch):
        length = draw(st.integers(0, labels))
        row = draw(st.lists(st.sampled_from(non_blank), min_size=length, max_size=length))
        if feasible:
            while row and ctc_frames_needed(row) > input_lengths[b]:
                row = row[:-1]
        targets[b, : len(row)] = row
        target_lengths[b] = len(row)
    case = CTCCase(log_probs, targets, input_lengths, target_lengths, blank)
    return with_hostile_ctc_padding(case) if hostile_padding else case


def with_hostile_ctc_padding(case: CTCCase) -> CTCCase:
    """The same case with NaN frames and out-of-range labels everywhere outside its region."""
    log_probs = case.log_probs.copy()
    log_probs[~case.valid_frames()] = np.nan
    targets = case.targets.copy()
    label_index = np.arange(targets.shape[1])[None, :]
    targets[label_index >= case.target_lengths[:, None]] = case.log_probs.shape[2] + 7
    return replace(case, log_probs=log_probs, targets=targets)


CTC_MALFORMED_DEFECTS = (
    "log_probs not an array", "log_probs 2-D", "log_probs integer dtype",
    "targets float dtype", "targets 3-D", "targets batch mismatch",
    "concatenated targets wrong total", "input_lengths batch mismatch", "input length zero",
    "input length beyond T", "target length negative", "target length beyond S",
    "blank out of range", "NaN in a valid frame", "+inf in a valid frame",
    "reduction unknown", "zero_infinity not a bool", "label equals blank",
    "label out of range",
)


@st.composite
def malformed_ctc_calls(draw, defect: str | None = None) -> MalformedCall:
    """A valid CTC batch with exactly one defect that a validating CTC loss must reject."""
    if defect is not None and defect not in CTC_MALFORMED_DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; known: {CTC_MALFORMED_DEFECTS}")
    defect = defect or draw(st.sampled_from(CTC_MALFORMED_DEFECTS))
    needs_label = defect in ("label equals blank", "label out of range")
    case = draw(ctc_batches(max_frames=5, max_labels=3).filter(
        lambda c: not needs_label or c.target_lengths.max() > 0))
    kwargs = {"log_probs": case.log_probs, "targets": case.targets,
              "input_lengths": case.input_lengths, "target_lengths": case.target_lengths,
              "blank": case.blank}
    frames, batch, classes = case.log_probs.shape
    b = draw(st.integers(0, batch - 1))
    lb = int(np.flatnonzero(case.target_lengths > 0)[0]) if needs_label else 0
    defects = {
        "log_probs not an array": lambda: ({"log_probs": case.log_probs.tolist()}, TypeError,
                                           "log_probs"),
        "log_probs 2-D": lambda: ({"log_probs": case.log_probs[:, 0]}, ValueError, "log_probs"),
        "log_probs integer dtype": lambda: ({"log_probs": case.log_probs.astype(np.int64)},
                                            TypeError, "log_probs"),
        "targets float dtype": lambda: ({"targets": case.targets.astype(np.float64)}, TypeError,
                                        "targets"),
        "targets 3-D": lambda: ({"targets": case.targets[None]}, ValueError, "targets"),
        "targets batch mismatch": lambda: ({"targets": np.ones((batch + 1, 2), dtype=np.int64)},
                                           ValueError, "targets"),
        "concatenated targets wrong total": lambda: (
            {"targets": np.ones(int(case.target_lengths.sum()) + 1, dtype=np.int64)},
            ValueError, "targets"),
        "input_lengths batch mismatch": lambda: ({"input_lengths": np.ones(batch + 1,
                                                                           dtype=np.int64)},
                                                 ValueError, "input_lengths"),
        "input length zero": lambda: ({"input_lengths": _set(case.input_lengths, b, 0)},
                                      ValueError, f"input_lengths[{b}]"),
        "input length beyond T": lambda: ({"input_lengths": _set(case.input_lengths, b,
                                                                 frames + 1)},
                                          ValueError, f"input_lengths[{b}]"),
        "target length negative": lambda: ({"target_lengths": _set(case.target_lengths, b, -1)},
                                           ValueError, f"target_lengths[{b}]"),
        "target length beyond S": lambda: ({"target_lengths": _set(case.target_lengths, b,
                                                                   case.targets.shape[1] + 1)},
                                           ValueError, f"target_lengths[{b}]"),
        "blank out of range": lambda: ({"blank": classes}, ValueError, "blank"),
        "NaN in a valid frame": lambda: ({"log_probs": _set(case.log_probs, (0, b, 0), np.nan)},
                                         ValueError, f"log_probs[0, {b}, 0]"),
        "+inf in a valid frame": lambda: ({"log_probs": _set(case.log_probs, (0, b, 0), np.inf)},
                                          ValueError, f"log_probs[0, {b}, 0]"),
        "reduction unknown": lambda: ({"reduction": "batchmean"}, ValueError, "reduction"),
        "zero_infinity not a bool": lambda: ({"zero_infinity": "yes"}, TypeError,
                                             "zero_infinity"),
        "label equals blank": lambda: ({"targets": _set(case.targets, (lb, 0),
                                                        case.blank % classes)},
                                       ValueError, f"targets[{lb}, 0]"),
        "label out of range": lambda: ({"targets": _set(case.targets, (lb, 0), classes)},
                                       ValueError, f"targets[{lb}, 0]"),
    }
    change, error, names = defects[defect]()
    return MalformedCall(defect, {**kwargs, **change}, error, names)


AUDIO_KINDS = ("noise", "tone", "chirp", "silence_with_click", "dc_offset")


@st.composite
def audio_signals(draw, min_samples=400, max_samples=4000, sample_rate=16000) -> np.ndarray:
    """A float64 signal in [-1, 1], quantised to int16 steps like real PCM.

    Drawn: its length, a kind (white noise, a pure tone, a linear chirp, silence with one
    click, a tone on a DC offset), an amplitude from -90 dBFS to full scale, and a seed;
    the samples are built from those with NumPy, so shrinking acts on the few drawn values.
    """
    n = draw(st.integers(min_samples, max_samples))
    kind = draw(st.sampled_from(AUDIO_KINDS))
    amplitude = 10.0 ** (draw(st.floats(-90.0, 0.0)) / 20.0)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = np.arange(n) / sample_rate
    frequency = draw(st.floats(20.0, sample_rate / 2 - 20.0))
    if kind == "noise":
        x = rng.uniform(-1.0, 1.0, n)
    elif kind == "tone":
        x = np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
    elif kind == "chirp":
        x = np.sin(np.pi * frequency * t * t / t[-1] if n > 1 else t)
    elif kind == "silence_with_click":
        x = np.zeros(n)
        x[rng.integers(0, n)] = 1.0
    else:
        x = 0.5 + 0.5 * np.sin(2 * np.pi * frequency * t)
    return np.clip(np.round(amplitude * x * 32767.0), -32768, 32767) / 32768.0
