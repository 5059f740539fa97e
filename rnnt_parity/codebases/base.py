"""What a codebase package provides: `Codebase`, the one record the registry holds per codebase,
and `InferredConfig`, a config read off a state dict.

A codebase package (rnnt_parity/codebases/<name>/) holds that codebase's module tree
(`model.py`), what can and cannot be read off its weights (`infer.py`), its weight maps to and
from the canonical layout (`maps/*.json`), its native config reader (`config.py`) and, where
it has one, its model input; its `__init__` exposes `CODEBASE`, registered in
`rnnt_parity.codebases`. Adding a codebase is one folder and one line there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from reference_impls.models.canonical import CanonicalConfig


@dataclass(frozen=True)
class InferredConfig:
    """A family's config read off a state dict (and what the checkpoint carries).

    `assumed`: fields the weights cannot show that do not change the forward pass (dropouts,
    conventions the family fixes), with the value taken and why. `unknown`: properties that
    DO change the forward pass and that neither the weights, nor the checkpoint, nor a
    statement settled, each with what it decides; `config` holds a placeholder for them, and
    nothing may be built on it until they are stated (`--assume NAME=VALUE` or `--config`).
    `stated`: what was stated and where from ({property: "value (source)"}). `outside`:
    tensors of the checkpoint that lie outside the family (a .nemo's encoder and
    preprocessor beside the heads), each with why; they are set aside, never mapped, and a
    port declares them dropped."""

    family: str
    config: object
    assumed: dict[str, str]
    unknown: dict[str, str] = field(default_factory=dict)
    stated: dict[str, str] = field(default_factory=dict)
    outside: dict[str, str] = field(default_factory=dict)

    def require_known(self, what: str) -> None:
        """ValueError naming every unknown property and how to state it."""
        if self.unknown:
            lines = [f"  - {name}: {why} (--assume {name}=VALUE)"
                     for name, why in self.unknown.items()]
            raise ValueError(f"{what}: {len(self.unknown)} forward-relevant propert"
                             f"{'y' if len(self.unknown) == 1 else 'ies'} the {self.family} "
                             "weights cannot show; state them with --assume or --config:\n"
                             + "\n".join(lines))


STATED_EXTRA = "rnnt_parity_stated"
"""The extras entry in which a checkpoint written by `rnnt-parity port` states its family's
unreadable properties ({name: value})."""


@dataclass(frozen=True)
class Interface:
    """What a model reads and emits: features per input row, vocabulary size (blank
    included) and the blank index."""

    input_features: int
    vocab_size: int
    blank: int


@dataclass(frozen=True)
class TimeStacking:
    """How a codebase's encoder stacks `factor(config)` frames into one: the last stacked
    frame of an utterance whose length is not a multiple of the factor reaches past the
    utterance's end, and `past_the_end` says what it finds there. Two codebases that stack
    alike but find different things there (`convention`) legitimately differ at that frame
    of a shorter utterance in a padded batch, and only there."""

    convention: str
    past_the_end: str
    factor: Callable[[object], int]


@dataclass(frozen=True)
class Codebase:
    """How to recognise, infer, build, run and convert one codebase's models.

    name: the family name (`--from`/`--to`); marker_keys: key prefixes all present in its
    state dicts; infer(state, extras=, stated=) -> InferredConfig (`stated`: parsed
    statements of `unreadable` properties); build(config) ->
    its nn.Module (None: inspection only); model_class: what `build` returns;
    to_canonical_config / from_canonical_config: config conversions (ValueError naming what
    has no counterpart); blank(config): its blank index; stages(model, x, lengths, labels):
    stage outputs in the canonical layout (`rnnt_parity.models.stages`); correspondences:
    (its module, canonical module, layout) pairs for divergence localisation; read_config(
    path, n_classes) -> NativeConfig; read_model_input(path, revision) -> (ModelInput, sample
    rate, revision, notes); not_inferable / presence_only: config fields a checkpoint cannot
    show, or shows only by their presence; config_problems(from_config, from_checkpoint):
    further disagreements between a config and a checkpoint (e.g. a product of two fields
    that are not inferable one by one); model_input_needs_config: False where the codebase's
    model input is fixed and a config only optional.
    """

    name: str
    marker_keys: tuple[str, ...]
    infer: Callable[..., InferredConfig]
    build: Callable[[object], torch.nn.Module] | None
    to_canonical_config: Callable[[object], CanonicalConfig]
    from_canonical_config: Callable[[CanonicalConfig], object]
    blank: Callable[[object], int]
    model_class: type | None = None
    stages: Callable[..., dict] | None = None
    correspondences: tuple[tuple[str, str, str], ...] = ()
    read_config: Callable | None = None
    read_model_input: Callable | None = None
    not_inferable: frozenset[str] = field(default_factory=frozenset)
    presence_only: tuple[str, ...] = ()
    config_problems: Callable[[object, object], list[str]] | None = None
    model_input_needs_config: bool = True
    unreadable: dict[str, tuple[str, ...]] = field(default_factory=dict)
    interface_of: Callable[[object], Interface] | None = None
    heads_only: bool = False
    """The family starts at the encoder's output (NeMo's heads): its input is encodings."""
    statements_of: Callable[[object], dict[str, str]] | None = None
    """The `unreadable` properties of a config, as statements (`port` writes them into the
    checkpoints it writes, `STATED_EXTRA`, so that they read back without statements)."""
    time_stacking: TimeStacking | None = None
    """How the encoder stacks frames (None: it does not)."""

    def interface(self, config) -> Interface:
        """What the model reads and emits (`interface_of`, default: read off its canonical
        config, so a model without a canonical counterpart needs `interface_of`)."""
        if self.interface_of is not None:
            return self.interface_of(config)
        canonical = self.to_canonical_config(config)
        return Interface(canonical.input_features, canonical.vocab_size, canonical.blank)

    def parse_statements(self, statements: dict[str, str]) -> dict[str, object]:
        """`--assume NAME=VALUE` statements checked against `unreadable` (values given as
        text; "true"/"false" become booleans); ValueError naming the property or value."""
        parsed = {}
        for name, value in statements.items():
            if name not in self.unreadable:
                known = ", ".join(sorted(self.unreadable)) or "none"
                raise ValueError(f"--assume {name}: not a property the {self.name} weights "
                                 f"cannot show (those: {known})")
            allowed = self.unreadable[name]
            if str(value).lower() not in allowed:
                raise ValueError(f"--assume {name}={value}: must be one of {list(allowed)}")
            text = str(value).lower()
            parsed[name] = {"true": True, "false": False}.get(text, text)
        return parsed


def count_keys(state: dict, pattern: str) -> int:
    """How many keys of `state` match the regular expression `pattern` (full match)."""
    return sum(1 for key in state if re.fullmatch(pattern, key))


def require_keys(state: dict, keys: list[str], family: str) -> None:
    """ValueError naming every key of `keys` that `state` lacks."""
    missing = [key for key in keys if key not in state]
    if missing:
        raise ValueError(f"not a complete {family} state dict: missing {missing}")


def shared_convention_problems(config: CanonicalConfig, owner: str,
                               joint: str = "relu") -> list[str]:
    """Myrtle, NeMo and myrtlespeech share blank last and a zero start vector; their joint
    activation is `joint`."""
    problems = []
    if config.blank != config.vocab_size - 1:
        problems.append(f"blank is {config.blank}; {owner} blank is the last index")
    if config.start_symbol != "zero":
        problems.append(f"the start symbol is the blank embedding; {owner} is a zero vector")
    if config.joint_activation != joint:
        problems.append(f"the joint activation is {config.joint_activation}; {owner} is {joint}")
    return problems


def fc_lstm_fc_problems(config: CanonicalConfig, owner: str) -> list[str]:
    """What keeps `config` from being a myrtlespeech-style RNN-T (myrtlespeech's and DSI's:
    two fully connected layers, one LSTM stack, two more, Hardtanh(0, 20) throughout, no CTC
    head, sigmoid/tanh LSTMs); `owner` names the codebase ("DSI's")."""
    problems = shared_convention_problems(config, owner, joint="hardtanh_0_20")
    if config.post_layers or config.time_stack != 1:
        problems.append(f"time stacking / post layers; {owner} encoder is one LSTM stack")
    if len(config.encoder_fc_in) != 2 or len(config.encoder_fc_out) != 2:
        problems.append(f"{owner} encoder has exactly two fully connected layers before and "
                        "two after its LSTM")
    if config.fc_activation != "hardtanh_0_20":
        problems.append(f"the fully connected activation is {config.fc_activation}; {owner} "
                        "is Hardtanh(0, 20)")
    if config.ctc_head:
        problems.append(f"the model has a CTC head; {owner} has none (port with --drop-ctc-head "
                        "to leave it behind)")
    if config.lstm_gates != "sigmoid" or config.lstm_cell != "tanh":
        problems.append(f"hard LSTM activations; {owner} are sigmoid/tanh")
    return problems
