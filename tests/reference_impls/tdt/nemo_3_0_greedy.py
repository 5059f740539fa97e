"""NeMo 3.0.0's greedy TDT loop, planted: the known bug NVIDIA-NeMo/Speech#16095 that the
oracle (`reference_impls.tdt.decode`) must not reproduce, and that NeMo 3.0.0's own
`GreedyTDTInfer` does (tests/reference_impls/tdt/test_nemo_greedy_golden.py)."""

from reference_impls.models.canonical import joint_step, prediction_step
from reference_impls.tdt.decode import TDTHypothesis, split_joint_output


def nemo_3_0_greedy_tdt(params, config, encodings, length, max_symbols):
    """NeMo 3.0.0's GreedyTDTInfer._greedy_decode loop, as it is there (before #16096):
    every step, blank included, counts against the budget, and a spent budget moves time one
    more frame even after a step that moved it by its duration."""
    g, state = prediction_step(params, config, None, None)
    tokens, frames, durations = [], [], []
    t = 0
    while t < length:
        added, need_loop = 0, True
        while need_loop and added < max_symbols:
            token, duration = split_joint_output(config, joint_step(params, config,
                                                                    encodings[t], g))
            if token != config.blank:
                tokens.append(token)
                frames.append(t)
                durations.append(duration)
                g, state = prediction_step(params, config, token, state)
            added += 1
            t += duration
            need_loop = duration == 0
        if added == max_symbols:
            t += 1
    return TDTHypothesis(tuple(tokens), tuple(frames), tuple(durations))
