"""Model input rows: context windows read the right frames, zeros outside the utterance."""

import numpy as np
import pytest

from reference_impls.features.stacking import stack_frames
from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.frontends.sources import compute

SIGNAL = np.sin(np.arange(8000) * 0.05) * 0.3 + np.random.default_rng(0).normal(0, 0.01, 8000)


def _frames(stack: int, subsample: int) -> np.ndarray:
    return stack_frames(compute("myrtle", SIGNAL, 16000, 80).features, stack, subsample)


def test_symmetric_context_row_is_the_neighbours_from_minus_k_to_plus_k():
    rows = ModelInput(stack=1, subsample=2, context="symmetric", context_frames=2).rows(
        SIGNAL, 16000)
    x = _frames(1, 2).astype(np.float32)
    t = 5
    np.testing.assert_array_equal(rows[t], np.concatenate(x[t - 2:t + 3]))
    np.testing.assert_array_equal(rows[0, :160], 0.0)  # x_{-2}, x_{-1}
    np.testing.assert_array_equal(rows[-1, -160:], 0.0)  # past the end


def test_left_context_row_ends_at_the_current_frame():
    rows = ModelInput(stack=1, subsample=2, context="left", context_frames=5).rows(
        SIGNAL, 16000)
    x = _frames(1, 2).astype(np.float32)
    np.testing.assert_array_equal(rows[7], np.concatenate(x[3:8]))
    assert rows.shape[1] == ModelInput(stack=1, subsample=2, context="left",
                                       context_frames=5).width


@pytest.mark.parametrize("field, value, message", [("stack", 0, "stack"),
                                                   ("context", "both", "context must be"),
                                                   ("source", "mfcc", "source must be")])
def test_bad_settings_are_refused_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        ModelInput(**{field: value})
