"""deepspeech-internal (DSI), the seed's other codebase: its RNN-T's key names (seed 000)
and forward pass (myrtlespeech 45899f7, which reproduced DSI's WER) in `model`, what its
weights show (`infer`), weight maps (`maps/`) and its model input (`model_input`). DSI has no
config format here; checkpoints are {'network': state dict} in float16."""

from rnnt_parity.codebases.base import Codebase
from rnnt_parity.codebases.dsi.infer import dsi_from_canonical, infer_dsi
from rnnt_parity.codebases.dsi.model import DSIRNNT, DSIConfig, stages
from rnnt_parity.codebases.dsi.model_input import read_dsi_model_input

CODEBASE = Codebase(
    "dsi", ("encoder.6.layers.", "joint_net.3.weight"), infer_dsi, DSIRNNT,
    DSIConfig.canonical, dsi_from_canonical, lambda c: c.vocab_size - 1, model_class=DSIRNNT,
    stages=stages, read_model_input=read_dsi_model_input,
    model_input_needs_config=False)

__all__ = ["CODEBASE", "DSIConfig", "DSIRNNT"]
