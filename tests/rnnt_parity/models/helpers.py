"""Small model configs and random weights for the model tests."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import torch

from reference_impls.models import CanonicalConfig
from rnnt_parity.codebases.myrtle.model import MyrtleConfig

SMALL_MYRTLE = MyrtleConfig(in_feats=12, enc_n_hid=8, enc_pre_rnn_layers=2,
                            enc_post_rnn_layers=2, pred_n_hid=6, pred_rnn_layers=2,
                            joint_n_hid=5, n_classes=7)
SMALL_HARD_MYRTLE = dataclasses.replace(SMALL_MYRTLE, custom_lstm=True,
                                        hard_activation_functions=True)


def randomise(model: torch.nn.Module, seed: int = 0, scale: float = 0.5) -> torch.nn.Module:
    """Every parameter uniform in [-scale, scale], both LSTM biases included."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator,
                                       dtype=parameter.dtype) * 2 * scale - scale)
    return model.eval()


def inputs(config: CanonicalConfig, batch=3, frames=11, labels=4, seed=0):
    """(features (B, T, F), lengths with the first full, labels avoiding blank)."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((batch, frames, config.input_features))
    lengths = np.array([frames, *rng.integers(1, frames + 1, batch - 1)])
    choices = [v for v in range(config.vocab_size) if v != config.blank]
    return features, lengths, rng.choice(choices, (batch, labels))


def full_length_inputs(config: CanonicalConfig, **options):
    """`inputs` with every utterance at the full length."""
    features, lengths, labels = inputs(config, **options)
    lengths[:] = features.shape[1]
    return features, lengths, labels


def port_to_canonical(model: torch.nn.Module, family: str, weight_map=None,
                      config: CanonicalConfig | None = None):
    """`model`'s weights mapped (by `weight_map`, default the family's map) into a canonical
    model of `config` (default the model's own), loaded exactly, in the model's dtype."""
    from rnnt_parity.codebases.canonical.model import CanonicalRNNT
    from rnnt_parity.mapping import apply_map, load_map
    from rnnt_parity.models.loading import load_exactly

    canonical = CanonicalRNNT(config or model.config.canonical())
    canonical = canonical.to(next(model.parameters()).dtype).eval()
    expected = {k: tuple(v.shape) for k, v in canonical.state_dict().items()}
    load_exactly(canonical, apply_map(weight_map or load_map(f"{family}_to_canonical"),
                                      model.state_dict(), expected))
    return canonical


KEY_FILES = Path(__file__).resolve().parents[3] / "fixtures" / "models"


def key_file_sections(name: str) -> list[tuple[str, dict[str, tuple[int, ...]]]]:
    """The (header, {key: shape}) sections of fixtures/models/NAME: a section starts at a
    "### " line and holds its "key<TAB>[d0, d1, ...]" lines (other lines are skipped)."""
    sections: list[tuple[str, dict]] = []
    for line in (KEY_FILES / name).read_text().splitlines():
        if line.startswith("### "):
            sections.append((line, {}))
        elif "\t" in line and sections and line.split("\t")[1].startswith("["):
            key, shape = line.split("\t")
            sections[-1][1][key] = tuple(int(v) for v in shape.strip("[]").split(",")
                                         if v.strip())
    return sections


def header_number(header: str, pattern: str) -> int:
    """The comma-grouped integer `pattern`'s group 1 finds in a section header."""
    return int(re.search(pattern, header).group(1).replace(",", ""))
