"""myrtlespeech's RNN-T (seed 000): exact keys, the map through canonical, and the seed's
bugs planted and caught."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnt_parity.cli import main
from rnnt_parity.codebases.myrtlespeech.infer import infer_myrtlespeech
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig, MyrtlespeechRNNT
from rnnt_parity.compare.models import compare_canonical_to_oracle, compare_models
from rnnt_parity.models.stages import stage_outputs
from tests.rnnt_parity.models.helpers import (
    header_number,
    inputs,
    key_file_sections,
    port_to_canonical,
    randomise,
)

SMALL = MyrtlespeechConfig(input_features=4, input_channels=5, fc1_hidden=7, rnn_hidden=6,
                           rnn_layers=2, fc2_hidden=5, encoder_out=4, pred_hidden=3,
                           pred_layers=2, joint_hidden=5, vocab_size=6)


def reference_section(index: int) -> tuple[dict, int]:
    header, keys = key_file_sections("myrtlespeech_keys.txt")[index]
    return keys, header_number(header, r"tensors ([\d,]+)")


@pytest.mark.parametrize(("section", "dropout"), [(0, 0.25), (1, None)])
def test_keys_shapes_and_size_are_myrtlespeechs(section, dropout):
    expected, elements = reference_section(section)
    state = MyrtlespeechRNNT(MyrtlespeechConfig(dropout=dropout)).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected
    assert sum(v.numel() for v in state.values()) == elements == 26_429_341


def ported(config: MyrtlespeechConfig = SMALL):
    model = randomise(MyrtlespeechRNNT(config).double())
    return model, port_to_canonical(model, "myrtlespeech"), config.canonical()


@pytest.mark.parametrize("dropout", [0.25, None])
def test_myrtlespeech_equals_the_canonical_model_and_the_oracle(dropout):
    config = MyrtlespeechConfig(**{**SMALL.__dict__, "dropout": dropout})
    assert infer_myrtlespeech(MyrtlespeechRNNT(config).state_dict()).config == config
    model, canonical, canonical_config = ported(config)
    data = inputs(canonical_config)
    report = compare_models(model, canonical, *data, canonical_config.blank,
                            canonical_config.blank)
    assert report.first_divergence is None, report.describe()
    oracle = compare_canonical_to_oracle(canonical, canonical_config, *data)
    assert oracle.first_divergence is None, oracle.describe()


def test_port_to_canonical_and_back_is_exact(tmp_path):
    model = randomise(MyrtlespeechRNNT(SMALL))
    torch.save(model.state_dict(), tmp_path / "ms.pt")
    assert main(["port", "--to", "canonical", str(tmp_path / "ms.pt"),
                 str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "myrtlespeech", str(tmp_path / "c.pt"),
                 str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(back[key], value, rtol=0, atol=0)


def test_seed_bug_1_label_length_not_increased_after_sos_is_caught_at_the_prediction():
    """Packing [0, y_1, ..., y_U] with length U drops the last label's prediction output."""
    model, canonical, config = ported()
    features, lengths, labels = inputs(config)
    full = torch.full((labels.shape[0],), labels.shape[1])

    def buggy_predict(labels, label_lengths):
        net = model.predict_net
        y = net.embed(labels)
        y = torch.cat([y.new_zeros(y.shape[0], 1, y.shape[2]), y], dim=1)
        packed = nn.utils.rnn.pack_padded_sequence(y, label_lengths, batch_first=True,
                                                   enforce_sorted=False)   # the bug: no + 1
        out, _ = net.dec_rnn.rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                total_length=y.shape[1])[0]

    with torch.no_grad():
        correct = model.predict_net(torch.tensor(labels), full)
        buggy = buggy_predict(torch.tensor(labels), full)
    assert torch.equal(correct[:, :-1], buggy[:, :-1])
    assert torch.all(buggy[:, -1] == 0) and not torch.all(correct[:, -1] == 0)
    model.predict_net.forward = buggy_predict
    report = compare_models(canonical, model, features, lengths, labels, config.blank,
                            config.blank)
    assert report.first_divergence == "prediction", report.describe()


def test_seed_bug_4_encoder_without_the_two_outer_hardtanh_is_caught_at_the_encoder():
    """deepspeech-internal lacks the Hardtanh(0, 20) myrtlespeech applies after fc1 and fc2."""
    model, canonical, config = ported()
    model.encode.hardtanh = nn.Identity()
    report = compare_models(canonical, model, *inputs(config), config.blank, config.blank)
    assert report.first_divergence == "encoder", report.describe()


def test_the_layout_adapter_flattens_channels_channel_major():
    """Canonical feature index c*F + f is channel c, feature f of myrtlespeech's
    (B, C, F, T) input: features 8..11 of a 5 x 4 input are channel 2."""
    model = MyrtlespeechRNNT(SMALL).double().eval()
    config = SMALL.canonical()
    features = np.zeros((1, 3, config.input_features))
    features[0, :, 8:12] = 1.0
    seen = []
    model.encode.register_forward_hook(lambda module, args, output: seen.append(args[0]))
    stage_outputs(model, features, np.array([3]), np.zeros((1, 1), dtype=int))
    assert seen[0].shape == (1, 5, 4, 3)
    assert torch.all(seen[0][0, 2] == 1.0) and seen[0].sum() == 12
