"""The checks every loss kind shares, exercised with stand-ins (the device paths included,
without a GPU)."""

import re

import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.conform.loss_checks import execution_paths, second_backward
from rnnt_parity.conform.report import CheckOutcome


def test_every_path_is_run_with_its_thread_count_and_the_count_is_restored():
    seen = []

    def compare_on(device):
        seen.append((device, torch.get_num_threads()))
        return CheckOutcome("", True, 0.0, 0.0)

    before = torch.get_num_threads()
    assert execution_paths(compare_on, "cuda").passed
    assert [d for d, _ in seen] == ["cpu", "cpu", "cuda"] and seen[0][1] == 1
    assert torch.get_num_threads() == before


def test_a_failing_path_is_named_and_the_others_still_run():
    def compare_on(device):
        bad = torch.get_num_threads() == 1
        return CheckOutcome("", not bad, 1.0 if bad else 0.0, 0.0, "loss differs" if bad else "")

    outcome = execution_paths(compare_on, "cpu")
    assert not outcome.passed and outcome.detail == "cpu with 1 thread(s): loss differs"
    assert outcome.max_abs_loss == 1.0


def test_refusing_a_second_backward_conforms():
    class Once(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.used = False
            return x.sum()

        @staticmethod
        def backward(ctx, upstream):
            if ctx.used:
                raise RuntimeError("the buffers have been freed")
            ctx.used = True
            return torch.ones(3) * upstream

    def forward():
        leaf = torch.zeros(3, requires_grad=True)
        return leaf, Once.apply(leaf)

    outcome = second_backward(forward)
    assert outcome.passed and "refuses a second backward" in outcome.detail


def test_cuda_without_cuda_is_refused_before_anything_runs(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("checks the refusal when CUDA is absent")
    assert main(["conform", "rnnt-loss", "torchaudio.functional:rnnt_loss", "--device", "cuda",
                 "--out", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "conformance.json").exists()


@pytest.mark.gpu
@pytest.mark.parametrize("kind, target, convention", [
    ("rnnt-loss", "torchaudio.functional:rnnt_loss", "torchaudio"),
    ("ctc-loss", "torch.nn.functional:ctc_loss", "torch"),
])
def test_production_losses_conform_on_cuda_including_the_cpu_vs_cuda_path(kind, target,
                                                                           convention, tmp_path):
    assert main(["conform", kind, target, "--convention", convention, "--device", "cuda",
                 "--out", str(tmp_path)]) == 0


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"blank": 0, "inputs": "logits"}', "missing \\['reduction'\\]"),
])
def test_a_bad_convention_file_is_refused_by_name(tmp_path, capsys, text, message):
    path = tmp_path / "convention.json"
    path.write_text(text)
    assert main(["conform", "ctc-loss", "torch.nn.functional:ctc_loss", "--convention",
                 str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and re.search(message, err)
