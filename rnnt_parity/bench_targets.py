"""`bench loss --all`: issue 19's speed targets, each with its verdict, from one run.

1. The RNN-T oracle at most RNNT_OVER_WARP x warp-transducer's time and RNNT_OVER_TORCHAUDIO
   x torchaudio's on every shape, with peak extra memory at most MEMORY_OVER_LOGITS x the
   logits (a target whose peer is not installed is reported as unmeasured, not met).
2. The CTC oracle at most CTC_OVER_TORCH x torch.nn.functional.ctc_loss on every shape.
3. Every float32 reference preset at most `PRESET_TARGET` x torchaudio's MelSpectrogram()
   (the fastest torchaudio front end) on the same audio.
"""

from __future__ import annotations

from rnnt_parity.frontends.bench import FASTEST, PRESET_TARGET

RNNT_OVER_WARP = 0.5
RNNT_OVER_TORCHAUDIO = 0.1
MEMORY_OVER_LOGITS = 1.1
CTC_OVER_TORCH = 0.5


def _verdict(worst: float | None, limit: float) -> str:
    if worst is None:
        return "not measured"
    return "met" if worst <= limit else "NOT met"


def target_lines(loss_rows: list[dict], ctc_rows: list[dict],
                 feature_seconds: dict[str, float]) -> list[str]:
    """One line per target: the worst measured ratio, the limit and the verdict."""
    oracle = [row for row in loss_rows if row["implementation"] == "oracle"]
    over_warp = [row["oracle_over_this"] for row in loss_rows
                 if row["implementation"] == "warprnnt"]
    worst_warp = max(over_warp) if oracle and len(over_warp) == len(oracle) else None
    worst_torchaudio = max((row["ratio_to_torchaudio"] for row in oracle), default=None)
    worst_memory = max((row["peak_extra_bytes"] / row["logits_bytes"] for row in oracle),
                       default=None)
    worst_ctc = max((row["ratio"] for row in ctc_rows if "ratio" in row), default=None)
    reference = feature_seconds.get(FASTEST)
    worst_preset = max((seconds / reference for name, seconds in feature_seconds.items()
                        if reference and name.endswith("(float32)")
                        and not name.startswith("extract ")), default=None)
    rows = [
        ("1. RNN-T oracle / warp-transducer", worst_warp, RNNT_OVER_WARP),
        ("1. RNN-T oracle / torchaudio", worst_torchaudio, RNNT_OVER_TORCHAUDIO),
        ("1. RNN-T oracle extra memory / logits", worst_memory, MEMORY_OVER_LOGITS),
        ("2. CTC oracle / torch", worst_ctc, CTC_OVER_TORCH),
        ("3. float32 presets / MelSpectrogram()", worst_preset, PRESET_TARGET),
    ]
    return [f"{name:<40} worst {'-' if worst is None else f'{worst:.3f}':>6} "
            f"limit {limit:.2f}  {_verdict(worst, limit)}" for name, worst, limit in rows]
