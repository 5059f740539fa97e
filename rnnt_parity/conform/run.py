"""One entry point for every conformance kind (the CLI's, the catalogue's and the pytest
plugin's)."""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.conform.report import ConformanceReport

KINDS = ("rnnt-loss", "ctc-loss", "rnnt-greedy", "rnnt-beam", "tdt-greedy", "model", "features")
OPTIONS = ("convention", "device", "profile", "checkpoint", "family", "preset", "model_input",
           "framework")
"""`conform`'s keyword options (the CLI's flags and the pytest target's query keys)."""


def conform(kind: str, target: str, convention: str = "auto", device: str = "cpu",
            profile: str = "ci", checkpoint: Path | None = None, family: str | None = None,
            preset: str | None = None, model_input: Path | None = None,
            assume: dict[str, str] | None = None, framework: str = "auto",
            bad_input: bool = True) -> ConformanceReport:
    """Run the `kind` kit against `target` ("package.module:callable"); options that do not
    apply to the kind are ignored (`assume`: for "model", statements of what the
    checkpoint's weights cannot show; `framework`: for the loss kinds, the callable's
    framework, `frameworks.FRAMEWORKS`, "auto" detecting it; `bad_input`: for the loss
    kinds, whether to probe malformed inputs, each in a subprocess, for the report's
    table). ValueError for `device`
    "cuda" without CUDA, and for a framework other than torch for any other kind."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu or cuda, got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda: CUDA is not available")
    if kind.endswith("-loss"):
        from rnnt_parity.conform.frameworks import qualify
        from rnnt_parity.conform.targets import load_callable

        target = qualify(target, framework, load_callable(target))
    elif framework not in ("auto", "torch"):
        raise ValueError(f"--framework {framework}: only the loss kinds (rnnt-loss, ctc-loss) "
                         "take other frameworks; the other kits hand the callable torch models")
    if kind == "rnnt-loss":
        from rnnt_parity.conform.rnnt_loss import conform_rnnt_loss

        return conform_rnnt_loss(target, convention, profile, device, bad_input)
    if kind == "ctc-loss":
        from rnnt_parity.conform.ctc_loss import conform_ctc_loss

        return conform_ctc_loss(target, convention, profile, device, bad_input)
    if kind == "rnnt-greedy":
        from rnnt_parity.conform.decoders import conform_rnnt_greedy

        return conform_rnnt_greedy(target, profile)
    if kind == "rnnt-beam":
        from rnnt_parity.conform.decoders import conform_rnnt_beam

        return conform_rnnt_beam(target, profile)
    if kind == "tdt-greedy":
        from rnnt_parity.conform.tdt_decoders import conform_tdt_greedy

        return conform_tdt_greedy(target, profile)
    if kind == "model":
        from rnnt_parity.conform.model import conform_model

        if checkpoint is None:
            raise ValueError("conform model needs --checkpoint")
        return conform_model(target, checkpoint, family, assume=assume)
    if kind == "features":
        from rnnt_parity.conform.features import conform_features, read_model_input

        return conform_features(target, read_model_input(preset, model_input), profile)
    raise ValueError(f"unknown conformance kind {kind!r}; known: {', '.join(KINDS)}")
