"""The Numba kernels' build: compiled once, then loaded from the on-disk cache."""

from __future__ import annotations

import os
import subprocess
import sys

KERNELS = ("edge_weights", "lattice_alphas_betas", "logits_gradient")
CALL = ("import numpy as np\n"
        "from reference_impls.rnnt import rnnt_loss\n"
        "rnnt_loss(np.zeros((1, 2, 2, 3), dtype=np.float32), np.array([[1]]), np.array([2]),"
        " np.array([1]), blank=0)\n")


def run_with_cache_log() -> str:
    env = {**os.environ, "NUMBA_DEBUG_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", CALL], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_second_process_loads_every_kernel_from_the_cache_instead_of_compiling():
    run_with_cache_log()
    log = run_with_cache_log()
    for kernel in KERNELS:
        assert any("data loaded from" in line and f"kernels.{kernel}-" in line
                   for line in log.splitlines()), kernel
    assert "data saved to" not in log
