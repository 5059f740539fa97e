"""The tiny FSDD digit recogniser's definition: canonical config, model input, vocabulary.

Trained by scripts/train_tiny_fsdd.py into fixtures/models/tiny_fsdd.pt. The checkpoint
describes itself (`system_extras`): a system reading it needs no other settings.
"""

from __future__ import annotations

from pathlib import Path

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.text import CHARACTERS, CharVocabulary

TINY_INPUT = ModelInput(source="myrtle", n_mels=80, stack=3, subsample=3)
TINY_VOCABULARY = CharVocabulary(CHARACTERS)
TINY_CONFIG = CanonicalConfig(
    input_features=TINY_INPUT.width, encoder_hidden=192, pre_layers=1, post_layers=1,
    time_stack=2, prediction_hidden=128, prediction_layers=1, joint_hidden=128,
    vocab_size=TINY_VOCABULARY.size, blank=TINY_VOCABULARY.blank, ctc_head=True)
TINY_CHECKPOINT = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny_fsdd.pt"
INPUT_EXTRA = "model_input"
LABELS_EXTRA = "labels"


def system_extras() -> dict:
    """The checkpoint entries naming the model input and the labels."""
    return {INPUT_EXTRA: TINY_INPUT.describe(), LABELS_EXTRA: list(TINY_VOCABULARY.symbols)}
