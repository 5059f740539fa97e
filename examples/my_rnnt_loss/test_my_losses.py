"""What a user's suite looks like with rnnt-parity installed: its pytest plugin gives the
`rnnt_parity_conforms` fixture (the whole `rnnt-parity conform` kit as a function) and the
hand-worked lattices. Run from this folder: python -m pytest test_my_losses.py"""

import pytest
import torch
from my_losses import rnnt_loss


def test_my_loss_conforms(rnnt_parity_conforms):
    rnnt_parity_conforms("rnnt-loss", "my_losses:rnnt_loss")


def test_the_buggy_loss_is_caught_and_named(rnnt_parity_conforms):
    with pytest.raises(AssertionError, match="last label not scored"):
        rnnt_parity_conforms("rnnt-loss", "my_losses:rnnt_loss_last_label_dropped")


def test_my_loss_on_every_hand_worked_lattice_with_the_blank_last(rnnt_fixture_lattices):
    checked = 0
    for lattice in rnnt_fixture_lattices:
        vocabulary = lattice.logits.shape[-1]
        if lattice.blank % vocabulary != vocabulary - 1 or lattice.fastemit_lambda or \
                not lattice.loss_is_finite:
            continue
        loss = rnnt_loss(torch.tensor(lattice.logits), torch.tensor(lattice.targets),
                         torch.tensor(lattice.logit_lengths), torch.tensor(lattice.target_lengths))
        expected = float(lattice.expected_loss.mean())
        assert abs(float(loss) - expected) <= 1e-5 * max(1.0, abs(expected)), lattice.name
        checked += 1
    assert checked >= 5
