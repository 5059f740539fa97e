"""The tiny FSDD digit recognisers' definitions: canonical config, model input, vocabulary.

Two variants, both trained by scripts/train_tiny_fsdd.py:
    hybrid        fixtures/models/tiny_fsdd.pt: RNN-T + CTC head; Myrtle front end with
                  stack-3/keep-3 stacking; LSTM, time stacking by 2, LSTM.
    myrtlespeech  fixtures/models/tiny_fsdd_myrtlespeech.pt: the shape of the seed's
                  myrtlespeech model (two Hardtanh(0, 20) layers, one LSTM, two more, a
                  Hardtanh joint, no CTC head) reading 80 Myrtle mels subsampled by 2 in a
                  symmetric context of 2 frames each side (5 x 80 = 400, the seed's input),
                  so it ports to the myrtlespeech family.
Each checkpoint describes itself (`system_extras`): a system reading it needs no other
settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.text import CHARACTERS, CharVocabulary

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "models"
TINY_VOCABULARY = CharVocabulary(CHARACTERS)
INPUT_EXTRA = "model_input"
LABELS_EXTRA = "labels"


@dataclass(frozen=True)
class TinyVariant:
    name: str
    model_input: ModelInput
    config: CanonicalConfig
    checkpoint: Path

    def system_extras(self) -> dict:
        """The checkpoint entries naming the model input and the labels."""
        return {INPUT_EXTRA: self.model_input.describe(),
                LABELS_EXTRA: list(TINY_VOCABULARY.symbols)}


# Both were trained on `myrtle_centred`, the Myrtle-like front end this project first wrote
# from documentation (centred frames), not on Myrtle's real, uncentred DALI pipeline.
_HYBRID_INPUT = ModelInput(source="myrtle_centred", n_mels=80, stack=3, subsample=3)
_MS_INPUT = ModelInput(source="myrtle_centred", n_mels=80, stack=1, subsample=2,
                       context="symmetric", context_frames=2)
VARIANTS = {
    "hybrid": TinyVariant("hybrid", _HYBRID_INPUT, CanonicalConfig(
        input_features=_HYBRID_INPUT.width, encoder_hidden=192, pre_layers=1, post_layers=1,
        time_stack=2, prediction_hidden=128, prediction_layers=1, joint_hidden=128,
        vocab_size=TINY_VOCABULARY.size, blank=TINY_VOCABULARY.blank, ctc_head=True),
        MODELS / "tiny_fsdd.pt"),
    "myrtlespeech": TinyVariant("myrtlespeech", _MS_INPUT, CanonicalConfig(
        input_features=_MS_INPUT.width, encoder_hidden=192, pre_layers=1, post_layers=0,
        time_stack=1, prediction_hidden=128, prediction_layers=1, joint_hidden=128,
        vocab_size=TINY_VOCABULARY.size, blank=TINY_VOCABULARY.blank,
        joint_activation="hardtanh_0_20", encoder_fc_in=(192, 192), encoder_fc_out=(192, 192),
        fc_activation="hardtanh_0_20"), MODELS / "tiny_fsdd_myrtlespeech.pt"),
}
TINY = VARIANTS["hybrid"]
TINY_INPUT, TINY_CONFIG, TINY_CHECKPOINT = TINY.model_input, TINY.config, TINY.checkpoint


def system_extras() -> dict:
    """The hybrid model's model-input and labels entries."""
    return TINY.system_extras()


FINE_TUNED = {"control": MODELS / "tiny_fsdd_myrtlespeech_control.pt",
              "off_by_one_label_length": MODELS / "tiny_fsdd_myrtlespeech_off_by_one.pt"}
"""The myrtlespeech variant fine-tuned for one epoch, correctly and with seed 000's packed
label length bug (scripts/train_tiny_fsdd.py --init ... [--pitfall ...])."""
