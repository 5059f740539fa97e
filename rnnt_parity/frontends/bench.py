"""`rnnt-parity bench features`: reference presets vs the production front ends, one run.

Input: the committed utterances tiled to `seconds` of 16 kHz audio. Every front end makes
80 mel bins. Peers run as their users run them: python_speech_features.logfbank (float64
NumPy), torchaudio.transforms.MelSpectrogram + log (its defaults, and on the 512-point
presets' frames) and torchaudio.compliance.kaldi.fbank on float32 tensors, built once outside
the timed call. Each reference preset is timed in
float32 and float64, and each codebase's whole model input (`features extract`: front end,
normalisation, splicing or context windows) from its shipped config in float32; each front end
in its own child process, every front end once per round. Reported: the median over rounds of
each child's median of `repeats` calls, and ratios against the fastest torchaudio front end
and against python_speech_features.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from reference_impls.features import PRESETS, log_mel_with_length, preset
from rnnt_parity.bench import run_in_child
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT, load_audio_fixtures

N_MELS = 80
SAMPLE_RATE = 16000
FASTEST = "torchaudio MelSpectrogram"
"""torchaudio's defaults: 400-point FFTs every 200 samples (4,800 frames a minute)."""
PRESET_TARGET = 1.5
"""Each float32 reference preset's time over MelSpectrogram()'s at most (issue 19, item 3)."""
SAME_FRAMES = "torchaudio MelSpectrogram 512/400/160"
"""The same transform on the frames the 512-point presets compute: n_fft 512, 25 ms windows
every 10 ms (6,000 frames a minute, 1.6x the FFT work of the defaults)."""
CONFIGS = DEFAULT_FIXTURE_ROOT / "configs"
NATIVE_CONFIGS = {
    "myrtle_rnnt": CONFIGS / "myrtle" / "v1.3.0" / "testing-1023sp.yaml",
    "myrtlespeech": CONFIGS / "myrtlespeech" / "24d2df3" / "rnn_t_en.config",
    "dsi": None,
    "nemo": CONFIGS / "nemo" / "hybrid_char_tiny" / "model_config.yaml",
}
"""Each family's shipped config whose model input `features extract` computes."""


def benchmark_audio(seconds: int) -> np.ndarray:
    """The committed utterances, concatenated and tiled to exactly `seconds` seconds."""
    speech = np.concatenate([fixture.signal for fixture in load_audio_fixtures()])
    repeats = -(-seconds * SAMPLE_RATE // speech.size)
    return np.tile(speech, repeats)[:seconds * SAMPLE_RATE]


def peer_calls(signal: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch
    import torchaudio
    from python_speech_features import logfbank
    from torchaudio.compliance import kaldi

    pcm = signal * 32768.0
    melspec = torchaudio.transforms.MelSpectrogram(sample_rate=SAMPLE_RATE, n_mels=N_MELS)
    same_frames = torchaudio.transforms.MelSpectrogram(
        sample_rate=SAMPLE_RATE, n_fft=512, win_length=400, hop_length=160, n_mels=N_MELS)
    waveform = torch.from_numpy(signal.astype(np.float32))
    int16_waveform = torch.from_numpy(pcm.astype(np.float32))[None]
    return {
        "python_speech_features": lambda: logfbank(pcm, SAMPLE_RATE, nfilt=N_MELS),
        "torchaudio MelSpectrogram": lambda: torch.log(melspec(waveform) + 1e-6),
        SAME_FRAMES: lambda: torch.log(same_frames(waveform) + 1e-6),
        "torchaudio kaldi.fbank": lambda: kaldi.fbank(int16_waveform, num_mel_bins=N_MELS,
                                                      dither=0.0),
    }


def reference_calls(signal: np.ndarray) -> dict[str, Callable[[], object]]:
    calls = {}
    for name in PRESETS:
        for dtype in ("float32", "float64"):
            config = preset(name, n_mels=N_MELS, dtype=dtype)
            source = signal.astype(dtype)
            calls[f"{name} ({dtype})"] = (
                lambda config=config, source=source: log_mel_with_length(source, SAMPLE_RATE,
                                                                        config))
    return calls


def model_input_calls(signal: np.ndarray) -> dict[str, Callable[[], object]]:
    """Each family's model input from its shipped config, in float32."""
    import dataclasses

    from rnnt_parity.frontends.native import read_native_input

    calls = {}
    source = signal.astype(np.float32)
    for family, config in NATIVE_CONFIGS.items():
        model_input = read_native_input(config, family).model_input
        single = dataclasses.replace(model_input, overrides={**dict(model_input.overrides),
                                                             "dtype": "float32"})
        calls[f"extract {family} (float32)"] = (
            lambda single=single: single.rows_and_length(source, SAMPLE_RATE))
    return calls


def all_calls(signal: np.ndarray) -> dict[str, Callable[[], object]]:
    return {**peer_calls(signal), **reference_calls(signal), **model_input_calls(signal)}


def measure_in_this_process(name: str, seconds: int, repeats: int) -> float:
    """Median seconds of `repeats` calls of front end `name`, after one warm-up call."""
    call = all_calls(benchmark_audio(seconds))[name]
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, seconds: int, repeats: int) -> float:
    """`measure_in_this_process` in a fresh child process: torch's and scipy's worker
    threads spin after their calls and would slow whichever front end runs next."""
    return run_in_child("rnnt_parity.frontends.bench:measure_in_this_process", name, seconds,
                        repeats)


def run_features_benchmark(seconds: int = 60, repeats: int = 15, rounds: int = 3,
                           out=print) -> dict[str, float]:
    """Time every peer, reference preset and model input; print the table; return
    {name: seconds}. Each of `rounds` rounds measures every front end once, in turn, so
    that a machine that speeds up or slows down during the run moves every front end alike;
    the figure is the median over the rounds."""
    signal = benchmark_audio(seconds)
    peer_names = list(peer_calls(signal))
    names = [*peer_names, *reference_calls(signal), *model_input_calls(signal)]
    samples = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            samples[name].append(measure(name, seconds, repeats))
    timings = {name: statistics.median(values) for name, values in samples.items()}
    peers = {name: timings[name] for name in peer_names}
    ours = {name: value for name, value in timings.items() if name not in peers}
    fastest_torch = peers[FASTEST]
    same = peers[SAME_FRAMES]
    psf = peers["python_speech_features"]
    header = (f"{'front end':<38} {'seconds':>8} {'/ MelSpectrogram':>17} "
              f"{'/ same frames':>14} {'/ psf':>7}")
    out(f"{seconds} s of 16 kHz speech, {N_MELS} mel bins, median of {repeats} calls, "
        f"median of {rounds} rounds")
    out(header)
    out("-" * len(header))
    for name, value in [*peers.items(), *ours.items()]:
        out(f"{name:<38} {value:8.4f} {value / fastest_torch:17.2f} {value / same:14.2f} "
            f"{value / psf:7.2f}")
    out(f"targets: each float32 preset <= {PRESET_TARGET:.2f} x MelSpectrogram (torchaudio's "
        "defaults), each float32 extract <= 2.00 x MelSpectrogram and < 1.00 x psf; each "
        "float64 preset <= 2.00 x psf")
    return {**peers, **ours}
