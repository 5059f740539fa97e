"""Token-and-duration transducer (TDT) oracles (Xu et al. 2023): the loss (float64 NumPy
spec, NeMo's conventions) and greedy decoding on the canonical model."""

from reference_impls.tdt.decode import TDTHypothesis, tdt_greedy_decode, tdt_greedy_decode_batch
from reference_impls.tdt.loss import tdt_loss
from reference_impls.tdt.spec import tdt_alphas, tdt_betas

__all__ = ["TDTHypothesis", "tdt_alphas", "tdt_betas", "tdt_greedy_decode",
           "tdt_greedy_decode_batch", "tdt_loss"]
