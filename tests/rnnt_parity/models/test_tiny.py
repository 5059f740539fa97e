"""The committed tiny FSDD model: size, self-description, and its accuracy target."""

import numpy as np

from rnnt_parity.checkpoints import read_checkpoint
from rnnt_parity.corpus.fsdd import held_out_utterances
from rnnt_parity.models.tiny import TINY_CHECKPOINT, TINY_CONFIG, system_extras
from rnnt_parity.wer.scoring import score
from rnnt_parity.wer.system import System, SystemSpec

MAX_CHECKPOINT_BYTES = 5 * 10 ** 6
SEEN_WER_TARGET = 0.10


def test_checkpoint_is_small_and_describes_itself_and_its_license():
    assert TINY_CHECKPOINT.stat().st_size <= MAX_CHECKPOINT_BYTES
    checkpoint = read_checkpoint(TINY_CHECKPOINT)
    assert {k: checkpoint.extras[k] for k in system_extras()} == system_extras()
    assert "CC BY-SA 4.0" in checkpoint.extras["license"]
    assert checkpoint.extras["training"]["minutes"] <= 15


def test_greedy_wer_on_held_out_recordings_of_seen_speakers_meets_the_target():
    system = System(SystemSpec(TINY_CHECKPOINT))
    assert system.model.config == TINY_CONFIG
    utterances = held_out_utterances(150, 0)
    texts = system.decode([system.rows(u.signal, 16000) for u in utterances])
    errors = np.array([score(u.transcript, t)[0].errors for u, t in zip(utterances, texts,
                                                                        strict=True)])
    words = sum(len(u.transcript.split()) for u in utterances)
    assert errors.sum() / words <= SEEN_WER_TARGET
