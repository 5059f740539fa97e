"""--fail-on thresholds: each rule fires exactly when its bound is crossed."""

import pytest

from rnnt_parity.wer.gate import failures, parse_threshold


def _report(wer_a, wer_b, ci=(-0.01, 0.01), identity=1.0):
    return {"wer": {"a": {"wer": wer_a}, "b": {"wer": wer_b}, "delta": wer_b - wer_a},
            "bootstrap": {"delta_ci95": list(ci)}, "identity": {"rate": identity}}


@pytest.mark.parametrize("rule, wer_b, fails", [
    ("abs:0.5%", 0.1049, False), ("abs:0.5%", 0.1051, True),
    ("rel:5%", 0.1049, False), ("rel:5%", 0.1051, True),
])
def test_threshold_fires_only_past_its_bound(rule, wer_b, fails):
    assert bool(failures(_report(0.10, wer_b), [parse_threshold(rule)])) == fails


def test_ci_rule_fires_when_the_whole_interval_is_above_zero():
    rule = [parse_threshold("ci")]
    assert failures(_report(0.1, 0.12, ci=(0.001, 0.03)), rule)
    assert not failures(_report(0.1, 0.12, ci=(-0.001, 0.03)), rule)


def test_identity_rule_fires_below_the_share():
    rule = [parse_threshold("identity:100%")]
    assert failures(_report(0.1, 0.1, identity=0.99), rule)
    assert not failures(_report(0.1, 0.1, identity=1.0), rule)


def test_relative_rule_with_zero_baseline_fails_any_rise():
    assert failures(_report(0.0, 0.001), [parse_threshold("rel:50%")])


def test_improvements_never_fail():
    rules = [parse_threshold(t) for t in ("abs:0%", "rel:0%", "ci")]
    assert failures(_report(0.10, 0.05, ci=(-0.06, -0.04)), rules) == []


@pytest.mark.parametrize("text", ["abs:0.5", "0.5%", "abs:x%", "mean:1%"])
def test_malformed_rules_are_refused(text):
    with pytest.raises(ValueError, match="--fail-on"):
        parse_threshold(text)
