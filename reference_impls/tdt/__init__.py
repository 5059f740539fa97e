"""Token-and-duration transducer (TDT) loss oracle (Xu et al. 2023): float64 NumPy spec,
NeMo's conventions."""

from reference_impls.tdt.loss import tdt_loss
from reference_impls.tdt.spec import tdt_alphas, tdt_betas

__all__ = ["tdt_loss", "tdt_alphas", "tdt_betas"]
