"""Loss callables of other frameworks behind torch autograd: qualified targets, framework
detection, the NumPy adapter's gradient (per-utterance and reduced), and the kit run on a
NumPy RNN-T loss (the oracle), on optax.ctc_loss and on tf.nn.ctc_loss (those two need the
optional `frameworks` extra and take minutes: marked slow, skipped with the reason without
it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from reference_impls.rnnt import rnnt_loss
from rnnt_parity.conform.frameworks import adapt, check_framework, qualify, split_target
from rnnt_parity.conform.run import conform
from rnnt_parity.conform.targets import load_callable

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "other_frameworks"


def test_a_qualified_target_names_its_framework_and_a_plain_one_is_torch():
    assert split_target("numpy:reference_impls.rnnt:rnnt_loss") == (
        "numpy", "reference_impls.rnnt:rnnt_loss")
    assert split_target("torchaudio.functional:rnnt_loss") == (
        "torch", "torchaudio.functional:rnnt_loss")


def test_auto_detects_jax_and_tensorflow_from_the_callables_module_and_defaults_to_torch():
    def fake(module):
        def loss():
            return None
        loss.__module__ = module
        return loss
    assert qualify("m:f", "auto", fake("optax._src.loss")) == "jax:m:f"
    assert qualify("m:f", "auto", fake("tensorflow.python.ops")) == "tensorflow:m:f"
    assert qualify("m:f", "auto", fake("torchaudio.functional")) == "m:f"
    assert qualify("m:f", "numpy", fake("my_losses")) == "numpy:m:f"


@pytest.mark.parametrize("framework, message", [("mlx", "not adapted"),
                                                ("onnxruntime", "no gradients"),
                                                ("paddle", "one of")])
def test_an_unsupported_framework_is_refused_with_the_reason(framework, message):
    with pytest.raises(ValueError, match=message):
        check_framework(framework)


def test_other_frameworks_are_refused_for_kinds_that_hand_over_torch_models():
    with pytest.raises(ValueError, match="only the loss kinds"):
        conform("rnnt-greedy", "rnnt_parity.models.greedy:greedy_decode", framework="numpy")


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_the_numpy_adapter_gives_torch_the_callables_gradient(reduction):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 4, 3, 5))
    args = (np.array([[0, 1], [2, 0], [1, 1]]), np.array([4, 3, 2]), np.array([2, 1, 0]))
    weights = torch.tensor([0.5, 2.0, -1.0], dtype=torch.float64)
    x = torch.tensor(logits, requires_grad=True)
    loss = load_callable("numpy:reference_impls.rnnt:rnnt_loss")(
        x, *(torch.tensor(a) for a in args), reduction=reduction)
    (loss * weights).sum().backward() if reduction == "none" else loss.backward()
    value, grad = rnnt_loss(logits, *args, reduction="none")
    expected = (np.asarray(grad) * weights.numpy()[:, None, None, None] if reduction == "none"
                else rnnt_loss(logits, *args, reduction="mean")[1])
    assert torch.allclose(loss.detach(), torch.tensor(
        value if reduction == "none" else value.mean()), atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-12)


def test_an_adapted_loss_keeps_its_name():
    assert adapt(rnnt_loss, "numpy").__name__ == "rnnt_loss"
    assert adapt(rnnt_loss, "torch") is rnnt_loss


def test_the_kit_passes_a_numpy_rnnt_loss_the_oracle():
    report = conform("rnnt-loss", "reference_impls.rnnt:rnnt_loss", framework="numpy",
                     profile="quick")
    assert report.target == "numpy:reference_impls.rnnt:rnnt_loss"
    assert report.passed and len(report.checks) == 17


def needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{module} is not installed (pip install -e '.[frameworks]')")


def framework_report(monkeypatch, name: str, framework: str):
    monkeypatch.chdir(EXAMPLES)
    return conform("ctc-loss", f"framework_ctc:{name}", convention="torch",
                   framework=framework)


def failed(report) -> list[str]:
    return [check.name for check in report.checks if not check.passed]


@pytest.mark.slow
@needs("optax")
def test_optax_ctc_loss_conforms_except_that_nan_padding_makes_its_loss_nan(monkeypatch):
    report = framework_report(monkeypatch, "optax_ctc_loss", "jax")
    assert failed(report) == ["fixture ctc_padded_batch_nan_padding"]
    assert len(report.checks) == 13


@pytest.mark.slow
@needs("tensorflow")
def test_tf_ctc_loss_is_ln_2_low_on_a_batch_of_empty_targets_and_nan_padding_makes_it_nan(
        monkeypatch):
    """tf.nn.ctc_loss (2.21) with dense labels of width 0 (every target of the batch empty)
    returns -sum_t log p(blank) - ln 2 per utterance; the search finds such a batch too."""
    report = framework_report(monkeypatch, "tensorflow_ctc_loss", "tensorflow")
    assert failed(report) == ["fixture ctc_empty_target", "fixture ctc_padded_batch_nan_padding",
                              "property: random batches vs the oracle"]
    assert len(report.checks) == 13
