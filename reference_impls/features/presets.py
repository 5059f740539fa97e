"""The named presets: each library's or codebase's front end, written as a `FrontEndConfig`.

python_speech_features   logfbank() of python_speech_features 0.6 (PyPI): 25 ms / 10 ms
                         rounded half up, whole-signal pre-emphasis 0.97 (y0 = x0),
                         rectangular window, frames past the end zero-padded, 512-point FFT
                         truncating longer frames, |X|^2 / NFFT, 26 integer-bin HTK filters,
                         exact zeros replaced by float64 eps before ln. int16 amplitude, as
                         from scipy.io.wavfile.
torchaudio_melspectrogram
                         torchaudio.transforms.MelSpectrogram() then ln(x + 1e-6): n_fft 400,
                         hop 200, periodic Hann, centred with reflect padding, power 2,
                         128 HTK triangles, no area norm. The log guard is this project's
                         choice (MelSpectrogram has no log); [-1, 1] amplitude.
kaldi                    torchaudio.compliance.kaldi.fbank() with dither 0: int16 amplitude,
                         25 ms / 10 ms (int()), snip_edges, per-frame DC removal and
                         pre-emphasis 0.97 (y0 = 0.03 x0), povey window, FFT at the next
                         power of two, power, 23 Kaldi mel-domain triangles from 20 Hz, ln of
                         max(x, float32 eps).
nemo                     NeMo 3.0.0's AudioToMelSpectrogramPreprocessor (FilterbankFeatures)
                         with its own defaults, in eval mode (no dither): int(0.02 sr) /
                         int(0.01 sr) samples, pre-emphasis 0.97 (y0 = x0), symmetric Hann
                         (torch.hann_window(periodic=False)), n_fft null = the next power of
                         two of the window (512 at 16 kHz, 256 at 8 kHz), torch.stft centred
                         with zero padding (pad_mode="constant"), |X|^2, 64 Slaney triangles
                         with area norm (librosa.filters.mel, norm="slaney"), ln(x + 2^-24),
                         per_feature normalisation (ddof 1, 1e-5 added to the std) over the
                         reported length (N + 2 pad - n_fft)//hop, one fewer than the frames
                         computed, frames past it set to pad_value 0, padded to a multiple
                         of 16. Checked against NeMo 3.0.0 itself (fixtures/goldens/frontends/
                         nemo_*; a model_config.yaml's preprocessor is read by
                         rnnt_parity.codebases.nemo.config). Older versions:
                         centre_padding="reflect", reported_length="samples_div_hop_plus_one".
myrtle                   Myrtle.ai RNN-T v1.3 (caiman-asr c5d9abf) as its DALI pipeline
                         computes it for evaluation, dither off: pre-emphasis 0.97 with
                         y0 = 0.03 x0 (DALI's clamp border), frames NOT centred
                         (`Spectrogram(center_windows=False)`: 1 + (N - L)//hop frames from
                         sample 0), 20 ms / 10 ms (testing-1023sp; base-8703sp uses 25 ms),
                         DALI's half-sample-shifted Hann, n_fft 512, power, 80 Slaney
                         triangles with area norm, ln(max(x, 1e-20)), per_feature
                         normalisation with ddof 0 and no epsilon. Checked against NVIDIA DALI
                         running the real pipeline (fixtures/goldens/frontends). Frame
                         splicing (3, keep every third) is a model-input step.
myrtle_centred           The Myrtle-like front end this project first wrote from
                         documentation: `myrtle` with centred, reflect-padded frames. It is
                         NOT what Myrtle's code computes; the tiny fixture models were trained
                         on it, so their recorded model input names it.
myrtlespeech_psf         myrtlespeech's LogMelFB at ef42c3f (also 45899f7, the DSI port):
                         python_speech_features.logfbank on the (1, N) float tensor of
                         torchaudio.load, i.e. [-1, 1] amplitude, and psf's pre-emphasis on a
                         2-D array returns the signal unchanged, so none; 25 ms / 10 ms at a
                         fixed 16 kHz (the config's win_length/hop_length are not read),
                         80 filters, otherwise psf's defaults.
myrtlespeech_torchaudio  myrtlespeech's LogMelFB before 45899f7 (a7eea9a):
                         torchaudio.transforms.MelSpectrogram(n_mels, win_length, hop_length)
                         (n_fft 400, periodic Hann, centred reflect, power 2, 80 HTK
                         triangles), exact zeros replaced by float32 eps, then ln.
"""

from __future__ import annotations

from reference_impls.features.config import FrontEndConfig

FLOAT32_EPS = 1.1920928955078125e-07
FLOAT64_EPS = 2.220446049250313e-16

PRESETS: dict[str, FrontEndConfig] = {
    "python_speech_features": FrontEndConfig(
        signal_range="int16", preemphasis=0.97, preemphasis_first="copy",
        framing="ceil_zero_pad", frame_length_s=0.025, frame_shift_s=0.01,
        frame_rounding="half_up", window="rectangular", n_fft=512, truncate_frames=True,
        spectrum="power", power_scale_by_nfft=True, n_mels=26, mel_scale="htk",
        filters="integer_bins", log="e", log_floor_rule="replace_zeros",
        log_floor=FLOAT64_EPS),
    "torchaudio_melspectrogram": FrontEndConfig(
        signal_range="unit", framing="centre", centre_padding="reflect", win_length=400,
        hop_length=200, window="hann_periodic", n_fft=400, spectrum="power", n_mels=128,
        mel_scale="htk", filters="hz_triangles", log="e", log_floor_rule="add",
        log_floor=1e-6),
    "kaldi": FrontEndConfig(
        signal_range="int16", remove_dc_offset=True, preemphasis=0.97,
        preemphasis_scope="frame", preemphasis_first="scaled", framing="snip_edges",
        frame_length_s=0.025, frame_shift_s=0.01, frame_rounding="floor", window="povey",
        n_fft=None, spectrum="power", n_mels=23, f_min=20.0, f_max=0.0, mel_scale="kaldi",
        filters="mel_triangles", log="e", log_floor_rule="clamp", log_floor=FLOAT32_EPS),
    "nemo": FrontEndConfig(
        signal_range="unit", preemphasis=0.97, preemphasis_first="copy", framing="centre",
        centre_padding="constant", frame_length_s=0.02, frame_shift_s=0.01,
        frame_rounding="floor", window="hann_symmetric", n_fft=None, spectrum="power",
        n_mels=64, mel_scale="slaney", filters="hz_triangles", area_norm=True, log="e",
        log_floor_rule="add", log_floor=2.0 ** -24, normalise="per_feature", norm_ddof=1,
        norm_epsilon=1e-5, norm_epsilon_placement="std", mask_beyond_length=True, pad_to=16,
        reported_length="frames_minus_one"),
    "myrtle": FrontEndConfig(
        signal_range="unit", preemphasis=0.97, preemphasis_first="scaled",
        framing="snip_edges", frame_length_s=0.02, frame_shift_s=0.01, frame_rounding="floor",
        window="hann_half_sample", n_fft=512, spectrum="power", n_mels=80, mel_scale="slaney",
        filters="hz_triangles", area_norm=True, log="e", log_floor_rule="clamp",
        log_floor=1e-20, normalise="per_feature", norm_ddof=0, norm_epsilon=0.0),
    "myrtle_centred": FrontEndConfig(
        signal_range="unit", preemphasis=0.97, preemphasis_first="scaled", framing="centre",
        centre_padding="reflect", frame_length_s=0.02, frame_shift_s=0.01,
        frame_rounding="floor", window="hann_half_sample", n_fft=512, spectrum="power",
        n_mels=80, mel_scale="slaney", filters="hz_triangles", area_norm=True, log="e",
        log_floor_rule="clamp", log_floor=1e-20, normalise="per_feature", norm_ddof=0,
        norm_epsilon=0.0),
    "myrtlespeech_psf": FrontEndConfig(
        signal_range="unit", preemphasis=None, framing="ceil_zero_pad", frame_length_s=0.025,
        frame_shift_s=0.01, frame_rounding="half_up", window="rectangular", n_fft=512,
        truncate_frames=True, spectrum="power", power_scale_by_nfft=True, n_mels=80,
        mel_scale="htk", filters="integer_bins", log="e", log_floor_rule="replace_zeros",
        log_floor=FLOAT64_EPS),
    "myrtlespeech_torchaudio": FrontEndConfig(
        signal_range="unit", framing="centre", centre_padding="reflect", win_length=400,
        hop_length=160, window="hann_periodic", n_fft=400, spectrum="power", n_mels=80,
        mel_scale="htk", filters="hz_triangles", log="e", log_floor_rule="replace_zeros",
        log_floor=FLOAT32_EPS),
}


def preset(name: str, **overrides) -> FrontEndConfig:
    """The preset `name` with `overrides` applied (ValueError listing the presets if unknown)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {sorted(PRESETS)}")
    return PRESETS[name].with_overrides(**overrides)
