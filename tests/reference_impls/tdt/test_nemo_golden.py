"""The TDT oracle against NeMo 3.0.0's own TDTLossPytorch (fixtures/goldens/tdt, made by
scripts/goldens/make_tdt_golden.py; provenance in the file)."""

import json

import numpy as np
import pytest

from reference_impls.tdt import tdt_loss
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT
from tests.helpers import assert_comparisons_pass

GOLDEN_FILE = DEFAULT_FIXTURE_ROOT / "goldens" / "tdt" / "nemo_tdt_pytorch.json"
GOLDEN = json.loads(GOLDEN_FILE.read_text())
TOLERANCE = tolerance_for("float32", "any", "tdt.nemo_pytorch_golden")


def oracle(case, **changes):
    options = {"blank": case["blank"], "sigma": case["sigma"], **changes}
    return tdt_loss(np.array(case["logits"]), np.array(case["targets"]),
                    np.array(case["logit_lengths"]), np.array(case["target_lengths"]),
                    case["durations"], reduction="none", **options)


def comparisons(case, losses, grad):
    expected = np.array(case["losses"])
    return [compare(losses, expected, TOLERANCE, expected),
            compare(grad, np.array(case["grad_of_sum"]), TOLERANCE, expected)]


def test_the_golden_names_what_produced_it():
    assert GOLDEN["provenance"]["library"] == "nemo-toolkit"
    assert GOLDEN["provenance"]["version"] == "3.0.0"


@pytest.mark.parametrize("index", range(len(GOLDEN["cases"])))
def test_losses_and_gradients_equal_nemos_tdt_loss(index):
    case = GOLDEN["cases"][index]
    assert_comparisons_pass(comparisons(case, *oracle(case)))


@pytest.mark.parametrize("change", [{"blank": 0}, {"sigma": 0.02}])
def test_a_wrong_convention_misses_the_golden(change):
    case = GOLDEN["cases"][1]
    change = {k: case[k] + v if k == "sigma" else v for k, v in change.items()}
    assert not all(c.passed for c in comparisons(case, *oracle(case, **change)))
