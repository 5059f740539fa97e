"""`rnnt-parity features compare` and `bench features` through the CLI entry point."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from rnnt_parity.cli import main
from rnnt_parity.fixtures import DEFAULT_AUDIO_DIR
from rnnt_parity.frontends import bench

AUDIO = DEFAULT_AUDIO_DIR / "digits_en_us.flac"


def test_reference_vs_library_is_identical_and_warns_of_the_constant_band(capsys):
    assert main(["features", "compare", str(AUDIO), "--a", "python_speech_features",
                 "--b", "lib:python_speech_features", "--n-mels", "80"]) == 0
    out = capsys.readouterr().out
    assert "relation: identical" in out
    assert "warning: band 2 of python_speech_features is constant (its filter is all zero)" in out
    assert "warning: band 2 of lib:python_speech_features is constant" in out


def test_python_speech_features_vs_torchaudio_differ(capsys):
    """Seed 000's third difference: the two codebases' front ends are not interchangeable."""
    assert main(["features", "compare", str(AUDIO), "--a", "python_speech_features",
                 "--b", "torchaudio_melspectrogram", "--n-mels", "40"]) == 0
    out = capsys.readouterr().out
    assert "frame counts differ" in out
    snr = float(out.split("SNR of the difference: ")[1].split(" dB")[0])
    assert snr < 20.0
    assert "no --fail-on given: a report, not a verdict" in out


def test_fail_on_gates_the_snr_and_the_frame_counts(capsys):
    argv = ["features", "compare", str(AUDIO), "--a", "python_speech_features",
            "--b", "torchaudio_melspectrogram", "--n-mels", "40"]
    assert main([*argv, "--fail-on", "snr:40", "--fail-on", "frames"]) == 1
    out = capsys.readouterr().out
    assert "features gate failed: snr:40: the SNR is " in out
    assert "features gate failed: frames: a has " in out
    same = ["features", "compare", str(AUDIO), "--a", "python_speech_features",
            "--b", "lib:python_speech_features", "--n-mels", "80"]
    assert main([*same, "--fail-on", "snr:40", "--fail-on", "frames"]) == 0


def test_a_malformed_fail_on_rule_is_refused(capsys):
    assert main(["features", "compare", str(AUDIO), "--a", "kaldi", "--b", "lib:kaldi",
                 "--fail-on", "snr"]) == 2
    assert "--fail-on 'snr': expected snr:DB (e.g. snr:40) or frames" in capsys.readouterr().err


def test_plot_is_written_as_png_and_never_overwritten_without_force(tmp_path, capsys):
    plot = tmp_path / "diff.png"
    argv = ["features", "compare", str(AUDIO), "--a", "kaldi", "--b", "lib:kaldi",
            "--plot", str(plot)]
    assert main(argv) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = plot.read_bytes()
    assert main(argv) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert plot.read_bytes() == before
    assert main([*argv, "--force"]) == 0
    assert list(tmp_path.iterdir()) == [plot]


def test_wrong_rate_is_refused_unless_resampling(tmp_path, capsys):
    path = tmp_path / "8k.wav"
    soundfile.write(path, 0.1 * np.sin(np.arange(8000) / 3.0), 8000, subtype="PCM_16")
    argv = ["features", "compare", str(path), "--a", "kaldi", "--b", "lib:kaldi"]
    assert main(argv) == 2
    assert "expected 16000 Hz" in capsys.readouterr().err
    assert main([*argv, "--resample"]) == 0


def test_unknown_source_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["features", "compare", str(AUDIO), "--a", "librosa", "--b", "kaldi"])
    assert "invalid choice: 'librosa'" in capsys.readouterr().err


def test_bench_features_prints_every_front_end_and_the_ratios(monkeypatch):
    monkeypatch.setattr(bench, "measure", bench.measure_in_this_process)
    lines = []
    timings = bench.run_features_benchmark(seconds=2, repeats=1, rounds=1, out=lines.append)
    from reference_impls.features import PRESETS

    assert len(timings) == 4 + 2 * len(PRESETS) + len(bench.NATIVE_CONFIGS)
    assert all(value > 0 for value in timings.values())
    assert any(line.startswith("myrtle (float32)") for line in lines)
    assert any(line.startswith("extract myrtlespeech (float32)") for line in lines)
    assert lines[-1].startswith("targets:")


def test_measure_runs_a_front_end_in_a_child_process():
    assert bench.measure("kaldi (float32)", 1, 1) > 0
