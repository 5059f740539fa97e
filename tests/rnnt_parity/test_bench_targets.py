"""The speed targets' verdicts from the benchmark tables' rows."""

from rnnt_parity.bench_targets import target_lines

FEATURES = {"torchaudio MelSpectrogram": 0.010, "nemo (float32)": 0.014,
            "nemo (float64)": 0.030, "extract nemo (float32)": 0.019}
CTC = [{"shape": [1000, 16, 29, 200], "ratio": 0.31}, {"beam_search": {"median_s": 1.0}}]


def loss_rows(oracle_over_warp=0.4, with_warp=True):
    rows = [{"shape": [8, 200, 50, 29], "implementation": "oracle", "median_s": 0.01,
             "ratio_to_torchaudio": 0.03, "oracle_over_this": 1.0,
             "peak_extra_bytes": 109, "logits_bytes": 100}]
    if with_warp:
        rows.append({"shape": [8, 200, 50, 29], "implementation": "warprnnt",
                     "median_s": 0.01 / oracle_over_warp, "ratio_to_torchaudio": 0.1,
                     "oracle_over_this": oracle_over_warp, "peak_extra_bytes": 400,
                     "logits_bytes": 100})
    return rows


def verdicts(lines):
    return {line.split(" worst")[0].strip(): line.rsplit("  ", 1)[1] for line in lines}


def test_every_target_within_its_limit_is_met():
    assert set(verdicts(target_lines(loss_rows(), CTC, FEATURES)).values()) == {"met"}


def test_a_target_over_its_limit_is_not_met_and_the_others_still_are():
    result = verdicts(target_lines(loss_rows(oracle_over_warp=0.6), CTC, FEATURES))
    assert result["1. RNN-T oracle / warp-transducer"] == "NOT met"
    assert result["1. RNN-T oracle / torchaudio"] == "met"


def test_a_peer_that_is_not_installed_leaves_its_target_unmeasured_not_met():
    result = verdicts(target_lines(loss_rows(with_warp=False), CTC, FEATURES))
    assert result["1. RNN-T oracle / warp-transducer"] == "not measured"


def test_float32_presets_count_but_float64_presets_and_extracts_do_not():
    line = [line for line in target_lines(loss_rows(), CTC, FEATURES)
            if line.startswith("3.")][0]
    assert "worst  1.400" in line
    slow = {**FEATURES, "kaldi (float32)": 0.016}
    assert verdicts(target_lines(loss_rows(), CTC, slow))[
        "3. float32 presets / MelSpectrogram()"] == "NOT met"
