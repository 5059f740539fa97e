"""Production losses behind one interface (see `base.RNNTLossBackend`)."""

from rnnt_parity.backends.base import BackendUnavailable, LossAndGrad, RNNTLossBackend
from rnnt_parity.backends.nemo_rnnt import NeMoRNNTLoss
from rnnt_parity.backends.optimized_transducer import OptimizedTransducerLoss
from rnnt_parity.backends.torchaudio_rnnt import TorchaudioRNNTLoss
from rnnt_parity.backends.warprnnt import WarpRNNTLoss

RNNT_LOSS_BACKENDS: dict[str, RNNTLossBackend] = {
    backend.name: backend for backend in (TorchaudioRNNTLoss(), WarpRNNTLoss(),
                                          OptimizedTransducerLoss(), NeMoRNNTLoss())
}


def rnnt_loss_backend(name: str) -> RNNTLossBackend:
    """The registered backend called `name`; ValueError listing the names otherwise."""
    try:
        return RNNT_LOSS_BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown RNN-T loss backend {name!r}; "
                         f"known: {sorted(RNNT_LOSS_BACKENDS)}") from None


__all__ = ["BackendUnavailable", "LossAndGrad", "RNNTLossBackend", "RNNT_LOSS_BACKENDS",
           "rnnt_loss_backend"]
