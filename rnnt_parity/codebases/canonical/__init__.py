"""The canonical RNN-T: the hub every weight map routes through (`model.CanonicalRNNT`,
oracle `reference_impls.models.canonical`)."""

from rnnt_parity.codebases.base import Codebase, TimeStacking
from rnnt_parity.codebases.canonical.infer import CONFIG_EXTRA, UNREADABLE, infer_canonical
from rnnt_parity.codebases.canonical.model import CanonicalRNNT, stages

CODEBASE = Codebase(
    "canonical", ("prediction.embedding.weight", "joint.output.weight"), infer_canonical,
    CanonicalRNNT, lambda c: c, lambda c: c, lambda c: c.blank, model_class=CanonicalRNNT,
    stages=stages, unreadable=UNREADABLE,
    time_stacking=TimeStacking(
        "zeros past each utterance's own length",
        "zeros (the canonical model zeroes every frame past each utterance's own length "
        "before stacking)", lambda c: c.time_stack))

__all__ = ["CODEBASE", "CONFIG_EXTRA", "CanonicalRNNT"]
