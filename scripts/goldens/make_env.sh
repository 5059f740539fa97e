#!/usr/bin/env bash
# Create or update VENV, a Python 3.11 virtual environment that runs every real upstream
# pipeline this project makes goldens from (scripts/goldens/*.py):
#   NVIDIA DALI (Myrtle's DALI front end), python_speech_features, and NVIDIA NeMo 3.0.0
#   (AudioToMelSpectrogramPreprocessor, EncDecHybridRNNTCTCModel and .nemo archives).
#
#   bash scripts/goldens/make_env.sh VENV       # idempotent: rerun to repair or update
#
# nemo-toolkit is installed with --no-deps: its full requirement set pulls training-only
# services (wandb, aistore, tensorboard, ...) and lets pip pick lightning 2.6, which NeMo
# 3.0.0 refuses (`lightning<=2.4.0,>2.2.1`, `hydra-core<=1.3.2,>1.3`, `omegaconf<=2.3` in
# its METADATA); with lightning 2.6 `import nemo.collections.asr` fails inside
# nv_one_logger (OneLoggerPTLTrainer.save_checkpoint's signature). The packages below are
# what `import nemo.collections.asr`, building the preprocessor and the hybrid model and
# `save_to` need, pinned to versions checked together with torch 2.14.1. NeMo imports both
# `lightning.pytorch` and (models/hybrid_rnnt_ctc_bpe_models_prompt.py) `pytorch_lightning`,
# so both distributions are pinned to the same release.
#
# Time on this project's 2-core machine: 4 min 40 s into an empty VENV (wheels downloaded),
# about 30 s to rerun on a VENV that is already up to date.
set -euo pipefail

VENV=${1:?usage: make_env.sh VENV}
PYTHON=${PYTHON:-python3.11}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet)

# The project's pins (pyproject.toml) and the front-end libraries goldens are made from.
"${PIP[@]}" torch==2.14.1 torchaudio==2.11.0 "numpy>=2,<3" scipy soundfile pyyaml \
    python_speech_features==0.6 nvidia-dali-cuda120==2.4.0 sentencepiece \
    text-unidecode==1.3 inflect==7.6.0 mlperf-logging==4.1.68 grpcio-tools==1.85.1

# What caiman-asr's training code imports to build its RNNT and save its checkpoints
# (scripts/goldens/myrtle_checkpoints.py): v1.3's custom LSTM imports qtorch; v1.14 imports
# beartype (its own pin) and jaxtyping (0.2.36: the first without typeguard==2.13.3, which
# would break inflect 7.6's typeguard>=4) and orjson (its own pin).
"${PIP[@]}" qtorch==0.3.0 beartype==0.15.0 jaxtyping==0.2.36 orjson==3.10.6

# NeMo without its declared dependencies, then what its ASR collection imports.
"${PIP[@]}" --no-deps nemo-toolkit==3.0.0
"${PIP[@]}" \
    lightning==2.4.0 pytorch-lightning==2.4.0 hydra-core==1.3.2 omegaconf==2.3.0 \
    torchmetrics==1.9.0 lhotse==1.33.0 librosa==0.11.0 einops==0.8.2 transformers==5.24.0 pandas==3.1.1 \
    kaldialign==0.12.0 braceexpand==0.1.7 webdataset==1.0.2 datasets==5.2.0 \
    onnx==1.23.2 wrapt==2.5.2 huggingface_hub==2.4.0 sentencepiece==0.2.3 \
    nv-one-logger-core==2.3.1 nv-one-logger-training-telemetry==2.3.1 \
    nv-one-logger-pytorch-lightning-integration==2.3.1 numba==0.68.1

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md

import nemo.collections.asr  # noqa: F401  (fails with lightning > 2.4.0)
from nemo.collections.asr.modules import AudioToMelSpectrogramPreprocessor

AudioToMelSpectrogramPreprocessor()
for name in ("torch", "nemo-toolkit", "lightning", "hydra-core", "omegaconf",
             "nvidia-dali-cuda120", "python_speech_features"):
    print(f"{name}=={md.version(name)}")
PY
