"""Model pieces shared by every codebase: LSTM building blocks (`lstm`), exact state-dict
loading (`loading`), the stage-by-stage layout adapter (`stages`), greedy and beam decoding
(`greedy`, `beam`) and the tiny models trained here (`tiny`). Each codebase's own module
tree lives in its package under `rnnt_parity.codebases`."""
