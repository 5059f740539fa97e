"""The `rnnt-parity` command line: check's exit status and table, argument errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from rnnt_parity.cli import main
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT


def test_check_passes_on_the_built_in_fixtures(capsys):
    assert main(["check", "--backend", "torchaudio", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("check", "implementations", "max abs err", "max rel err", "tolerance",
                   "verdict"):
        assert column in header
    assert "torchaudio vs oracle" in out and " 0 failed" in out


def test_check_fails_when_a_fixture_disagrees_with_the_oracle(tmp_path, capsys):
    shutil.copytree(DEFAULT_FIXTURE_ROOT, tmp_path, dirs_exist_ok=True)
    broken = tmp_path / "rnnt" / "seed_example2_binary_uniform.json"
    data = json.loads(broken.read_text())
    data["expected"]["loss"] = [1.3863]
    broken.write_text(json.dumps(data))
    assert main(["check", "--fixtures", str(tmp_path), "--backend", "torchaudio"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_check_reports_a_missing_fixture_folder(tmp_path, capsys):
    assert main(["check", "--fixtures", str(tmp_path / "nowhere")]) == 2
    assert "no RNN-T fixtures" in capsys.readouterr().err


def test_check_rejects_an_unknown_backend(capsys):
    assert main(["check", "--backend", "k2"]) == 2
    assert "unknown backend 'k2'" in capsys.readouterr().err


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="CUDA is present here")
def test_check_require_gpu_fails_without_cuda_and_cuda_rows_are_said_to_skip(capsys):
    assert main(["check", "--require-gpu", "--backend", "torchaudio"]) == 1
    assert "--require-gpu: CUDA is not available" in capsys.readouterr().err
    assert main(["check", "--device", "cuda", "--backend", "torchaudio"]) == 0
    assert "note: CUDA is not available: every cuda row skips (--require-gpu fails " \
           "instead)" in capsys.readouterr().out


@pytest.mark.parametrize("shape", ["4,150,40", "4,150,40,0", "a,b,c,d"])
def test_bench_rejects_a_malformed_shape(shape, capsys):
    with pytest.raises(SystemExit):
        main(["bench", "loss", "--shape", shape])
    assert "shape must be B,T,U,V" in capsys.readouterr().err


def test_bench_loss_times_every_installed_implementation():
    from rnnt_parity.bench import installed_loss_implementations

    done = subprocess.run([sys.executable, "-m", "rnnt_parity.cli", "bench", "loss", "--shape",
                           "2,10,4,8", "--repeats", "1", "--no-first-call"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    installed = installed_loss_implementations()
    rows = [line.split() for line in done.stdout.splitlines()[2:2 + len(installed)]]
    assert [row[4] for row in rows] == installed
    assert rows[0][:4] == ["(2,", "10,", "4,", "8)"] and float(rows[0][6]) > 0
    assert float(rows[1][6]) == 1.0  # torchaudio over itself
    assert float(rows[0][7]) == 1.0  # the oracle over itself
    assert "first call" not in done.stdout


def test_bench_loss_prints_the_oracles_first_call_figures_by_default(monkeypatch, capsys):
    from rnnt_parity import bench, bench_first_call

    figures = {"shape": [8, 200, 50, 29], "repeats": 1, "cold_over_warm": 3.0,
               "compiling": {"first_call_s": 20.0, "import_s": 0.3, "warm_s": 0.01},
               "cached": {"first_call_s": 0.9, "import_s": 0.3, "warm_s": 0.3}}
    monkeypatch.setattr(bench, "run_loss_benchmark", lambda *args, **options: [])
    monkeypatch.setattr(bench_first_call, "measure_first_calls", lambda repeats: figures)
    assert main(["bench", "loss", "--repeats", "1"]) == 0
    assert "(8, 200, 50, 29): 20.00 s compiling" in capsys.readouterr().out


def _measuring_fails(monkeypatch):
    from rnnt_parity import bench

    def measured(*args, **options):
        raise AssertionError(f"measured {args} before the --plot path was checked")

    monkeypatch.setattr(bench, "run_in_child", measured)


def test_bench_loss_refuses_an_existing_plot_without_force_and_leaves_it(tmp_path, monkeypatch,
                                                                        capsys):
    _measuring_fails(monkeypatch)
    plot = tmp_path / "scaling.png"
    plot.write_bytes(b"an earlier plot")
    assert main(["bench", "loss", "--plot", str(plot)]) == 2
    assert f"{plot} exists; pass --force" in capsys.readouterr().err
    assert plot.read_bytes() == b"an earlier plot"


@pytest.mark.parametrize("name, says", [("missing/scaling.png", "does not exist"),
                                        ("scaling.jpg", "must end in .png or .svg")])
def test_bench_loss_rejects_a_bad_plot_path_before_measuring(name, says, tmp_path, monkeypatch,
                                                             capsys):
    _measuring_fails(monkeypatch)
    assert main(["bench", "loss", "--plot", str(tmp_path / name)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("rnnt-parity: --plot ") and says in error


def test_bench_ctc_runs_both_implementations_and_the_beam_search():
    done = subprocess.run([sys.executable, "-m", "rnnt_parity.cli", "bench", "ctc", "--shape",
                           "20,2,5,3", "--repeats", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    row = done.stdout.splitlines()[2].split()
    assert row[:4] == ["(20,", "2,", "5,", "3)"] and float(row[6]) > 0
    assert "prefix beam search, T=1000, C=29, beam 16" in done.stdout


def test_check_counts_ctc_fixtures_and_the_torch_backend(capsys):
    assert main(["check", "--backend", "torch", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "torch CTC vs oracle" in out and "9 CTC fixtures" in out
