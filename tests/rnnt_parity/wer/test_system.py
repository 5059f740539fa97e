"""Systems: spec validation, and each decoder equal to its oracle on the tiny model."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reference_impls.ctc.decode import greedy_decode as oracle_ctc_greedy
from reference_impls.models.canonical import ctc_forward, encoder_forward
from reference_impls.rnnt.beam import beam_search
from reference_impls.rnnt.decode import greedy_decode as oracle_greedy
from rnnt_parity.corpus.fsdd import held_out_utterances
from rnnt_parity.models.tiny import TINY_CHECKPOINT, TINY_VOCABULARY
from rnnt_parity.wer.system import DecoderSettings, System, SystemSpec


def _system(**decoder) -> System:
    return System(SystemSpec(TINY_CHECKPOINT, decoder=DecoderSettings(**decoder)))


@pytest.fixture(scope="module")
def rows():
    system = _system()
    return [system.rows(u.signal, 16000) for u in held_out_utterances(12, 4)]


@pytest.fixture(scope="module")
def oracle_encodings(rows):
    model = _system().model
    params = {k: v.double().numpy() for k, v in model.state_dict().items()}
    out = []
    for r in rows:
        encodings, lengths = encoder_forward(params, model.config, r[None].astype(np.float64),
                                             np.array([r.shape[0]]))
        out.append((encodings[0], int(lengths[0])))
    return params, model.config, out


def test_spec_refuses_unknown_fields_and_names_them():
    with pytest.raises(ValueError, match="unknown field\\(s\\) \\['beam_width'\\]"):
        SystemSpec.from_dict({"checkpoint": "x.pt", "decoder": {"beam_width": 3}})
    with pytest.raises(ValueError, match="missing 'checkpoint'"):
        SystemSpec.from_dict({})
    with pytest.raises(ValueError, match="decoder kind"):
        SystemSpec.from_dict({"checkpoint": "x.pt", "decoder": {"kind": "viterbi"}})
    with pytest.raises(ValueError, match="max_symbols_per_frame"):
        DecoderSettings(max_symbols_per_frame=0)


def test_spec_checkpoint_path_is_relative_to_the_system_file(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"checkpoint": "m.pt"}))
    assert SystemSpec.from_file(tmp_path / "s.json").checkpoint == tmp_path / "m.pt"


def test_tiny_checkpoint_describes_its_own_input_and_labels():
    system = _system()
    assert system.model_input.source == "myrtle_centred" and system.model_input.stack == 3
    assert system.vocabulary == TINY_VOCABULARY
    conditions = system.conditions()
    assert conditions["model_input.subsample"] == 3 and conditions["family"] == "canonical"
    assert conditions["training.epochs"] == 18 and "training.pitfall" not in conditions
    assert not any("minutes" in key for key in conditions)


def test_a_model_input_of_the_wrong_width_is_refused():
    from rnnt_parity.frontends.model_input import ModelInput

    spec = SystemSpec(TINY_CHECKPOINT, model_input=ModelInput(n_mels=64))
    with pytest.raises(ValueError, match="width 192; the model reads 240"):
        System(spec)


def test_labels_that_do_not_fit_the_model_are_refused():
    with pytest.raises(ValueError, match="the model has 29"):
        System(SystemSpec(TINY_CHECKPOINT, labels=tuple("abc")))


def test_batched_greedy_equals_the_oracle_token_for_token(rows, oracle_encodings):
    system = _system()
    params, config, encoded = oracle_encodings
    expected = [TINY_VOCABULARY.decode(oracle_greedy(params, config, e, n, 30))
                for e, n in encoded]
    assert system.decode(rows) == expected


def test_batched_equals_one_at_a_time_and_padding_never_emits(rows):
    system = _system()
    assert system.decode(rows) == [system.decode([r])[0] for r in rows]


def test_ctc_greedy_equals_the_ctc_oracle(rows, oracle_encodings):
    params, _, encoded = oracle_encodings
    expected = [TINY_VOCABULARY.decode(oracle_ctc_greedy(ctc_forward(params, e[:n]),
                                                         blank=TINY_VOCABULARY.blank))
                for e, n in encoded]
    assert _system(kind="ctc_greedy").decode(rows) == expected


def test_beam_decoder_returns_the_oracle_beam_search_best(rows, oracle_encodings):
    params, config, encoded = oracle_encodings
    system = _system(kind="rnnt_beam", beam=2)
    e, n = encoded[0]
    best = beam_search(params, config, e, n, 2, 3 * n, stop_early=True)[0][0]
    assert system.decode(rows[:1]) == [TINY_VOCABULARY.decode(best)]


def test_decoding_runs_with_tf32_off_and_restores_the_settings(rows, monkeypatch):
    system = _system()
    seen = []
    encoder = system.model.encoder.forward

    def recording(*args):
        seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
        return encoder(*args)

    monkeypatch.setattr(system.model.encoder, "forward", recording)
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    system.decode(rows[:2])
    assert seen == [(False, False)]
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before


def test_stated_activations_replace_the_family_defaults_and_are_listed():
    system = System(SystemSpec(TINY_CHECKPOINT, activations={"joint_activation": "tanh"}))
    assert system.model.config.joint_activation == "tanh"
    assert system.conditions()["activations.joint_activation"] == "tanh"
    assert _system().conditions()["activations.joint_activation"] == "relu"


def test_unknown_or_invalid_activations_are_refused():
    with pytest.raises(ValueError, match="activations: unknown field\\(s\\) \\['gate'\\]"):
        SystemSpec(TINY_CHECKPOINT, activations={"gate": "hard"})
    with pytest.raises(ValueError, match="joint_activation must be one of"):
        System(SystemSpec(TINY_CHECKPOINT, activations={"joint_activation": "gelu"}))


def test_a_system_names_its_model_input_by_the_codebase_config(tmp_path):
    """wer-drift, features extract and conform features read a config the same way."""
    from rnnt_parity.frontends.native import read_native_input

    config = Path(__file__).resolve().parents[3] / "fixtures" / "configs" / "myrtle" / \
        "v1.3.0" / "testing-1023sp.yaml"
    spec = SystemSpec.from_dict({"checkpoint": str(TINY_CHECKPOINT),
                                 "model_input": {"config": str(config)}}, tmp_path)
    assert spec.model_input == read_native_input(config).model_input
