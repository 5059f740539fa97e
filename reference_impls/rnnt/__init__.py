"""RNN-T loss oracle (Graves 2012): NumPy spec and Numba kernels, torchaudio's conventions."""

from reference_impls.rnnt.loss import rnnt_loss
from reference_impls.rnnt.spec import rnnt_alphas, rnnt_betas, rnnt_occupancy

__all__ = ["rnnt_loss", "rnnt_alphas", "rnnt_betas", "rnnt_occupancy"]
