"""WER drift between two speech recognisers: decode, score with jiwer, compare with
statistics, report (`rnnt-parity wer-drift`)."""
