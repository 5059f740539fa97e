"""CTC oracle (Graves et al. 2006): loss, lattices, alignments and decoders; no torch."""

from reference_impls.ctc.loss import ctc_logits_gradient, ctc_loss
from reference_impls.ctc.spec import (
    ViterbiAlignment,
    ctc_alphas,
    ctc_betas,
    ctc_soft_alignment,
    ctc_viterbi_alignment,
)

__all__ = ["ctc_loss", "ctc_logits_gradient", "ctc_alphas", "ctc_betas", "ctc_soft_alignment",
           "ctc_viterbi_alignment", "ViterbiAlignment"]
