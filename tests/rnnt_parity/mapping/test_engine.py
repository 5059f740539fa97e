"""The weight-mapping engine: each rule kind, template arithmetic, and every problem reported
at once (nothing dropped or invented silently)."""

from __future__ import annotations

import pytest
import torch

from rnnt_parity.mapping.engine import MappingError, WeightMap, apply_map, fill, load_map


def one_map(*rules) -> WeightMap:
    return WeightMap.from_json({"name": "test", "version": 1, "source_family": "a",
                                "target_family": "b", "rules": list(rules)})


def test_template_arithmetic_maps_nn_lstm_layers_to_sequential_indices():
    assert fill("dec_rnn.layers.{k*2}.rnn.{w}_l0", {"k": "1", "w": "weight_ih"}) == (
        "dec_rnn.layers.2.rnn.weight_ih_l0")
    assert fill("{k//2}.{k+1}.{k-1}", {"k": "4"}) == "2.5.3"


def test_rename_with_index_arithmetic():
    weight_map = one_map({"kind": "rename", "source": r"lstm\.weight_ih_l(?P<k>\d+)",
                          "target": "layers.{k*2}.weight_ih_l0"})
    state = {"lstm.weight_ih_l0": torch.ones(2), "lstm.weight_ih_l1": torch.zeros(2)}
    out = apply_map(weight_map, state)
    assert set(out) == {"layers.0.weight_ih_l0", "layers.2.weight_ih_l0"}


def test_merge_sum_fuses_two_biases_and_split_sum_undoes_it_into_one_plus_zeros():
    fuse = one_map({"kind": "merge_sum", "source": [r"b_ih", "b_hh"], "target": "bias"})
    out = apply_map(fuse, {"b_ih": torch.tensor([1.0, 2.0]), "b_hh": torch.tensor([3.0, 4.0])})
    assert out["bias"].tolist() == [4.0, 6.0]
    split = one_map({"kind": "split_sum", "source": "bias", "target": ["b_ih", "b_hh"],
                     "reason": "a fused bias carries only the sum"})
    back = apply_map(split, out)
    assert back["b_ih"].tolist() == [4.0, 6.0] and back["b_hh"].tolist() == [0.0, 0.0]


def test_concat_and_split_columns():
    concat = one_map({"kind": "concat_columns", "source": [r"enc\.weight", "pred.weight"],
                      "target": "joint.weight"})
    out = apply_map(concat, {"enc.weight": torch.ones(2, 3), "pred.weight": torch.zeros(2, 1)})
    assert out["joint.weight"].shape == (2, 4)
    split = one_map({"kind": "split_columns", "source": r"joint\.weight",
                     "target": ["enc.weight", "pred.weight"], "options": {"at": 3}})
    back = apply_map(split, out)
    assert back["enc.weight"].shape == (2, 3) and back["pred.weight"].shape == (2, 1)


def test_gate_reorder_moves_whole_gate_blocks():
    weight_map = one_map({"kind": "gate_reorder", "source": "w", "target": "w",
                          "options": {"from": "ifgo", "to": "ifog"}})
    out = apply_map(weight_map, {"w": torch.arange(8.0)})
    assert out["w"].tolist() == [0, 1, 2, 3, 6, 7, 4, 5]


def test_move_row_puts_blank_first():
    weight_map = one_map({"kind": "move_row", "source": "out", "target": "out",
                          "options": {"from": -1, "to": 0}})
    out = apply_map(weight_map, {"out": torch.tensor([[1.0], [2.0], [9.0]])})
    assert out["out"].flatten().tolist() == [9.0, 1.0, 2.0]


def test_conv1d_weight_squeezes_to_linear_and_back():
    to_linear = one_map({"kind": "squeeze", "source": "c", "target": "l"})
    out = apply_map(to_linear, {"c": torch.ones(4, 3, 1)})
    assert out["l"].shape == (4, 3)
    back = apply_map(one_map({"kind": "unsqueeze", "source": "l", "target": "c"}), out)
    assert back["c"].shape == (4, 3, 1)


def test_pad_and_drop_rows():
    pad = one_map({"kind": "pad_rows", "source": "e", "target": "e",
                   "options": {"rows": 1, "at": "end"}, "reason": "blank row"})
    out = apply_map(pad, {"e": torch.ones(2, 3)})
    assert out["e"].shape == (3, 3) and out["e"][2].abs().sum() == 0
    drop = one_map({"kind": "drop_rows", "source": "e", "target": "e",
                    "options": {"rows": 1, "at": "start"}, "reason": "blank row"})
    assert apply_map(drop, out)["e"].shape == (2, 3)


def test_a_declared_drop_consumes_the_tensor():
    weight_map = one_map({"kind": "drop", "source": r"bn\..*", "reason": "no counterpart"},
                         {"kind": "rename", "source": "w", "target": "w"})
    assert set(apply_map(weight_map, {"bn.mean": torch.ones(1), "w": torch.ones(1)})) == {"w"}


def test_every_problem_is_reported_at_once():
    weight_map = one_map({"kind": "rename", "source": r"a\.(?P<p>weight|bias)",
                          "target": "x.{p}"},
                         {"kind": "merge_sum", "source": ["b_ih", "b_hh"], "target": "b"})
    state = {"a.weight": torch.ones(2, 2), "a.bias": torch.ones(3), "b_ih": torch.ones(1),
             "stray": torch.ones(1)}
    expected = {"x.weight": (2, 2), "x.bias": (2,), "b": (1,), "c": (5,)}
    with pytest.raises(MappingError) as raised:
        apply_map(weight_map, state, expected)
    problems = "\n".join(raised.value.problems)
    assert "stray is not consumed" in problems
    assert "needs source tensor b_hh, which is missing" in problems
    assert "x.bias: shape (3,) where the target expects (2,)" in problems
    assert "c (5,) is not filled by any rule" in problems
    assert "b (1,) is not filled" in problems
    assert len(raised.value.problems) == 5


def test_a_tensor_produced_that_the_target_lacks_is_a_problem():
    weight_map = one_map({"kind": "rename", "source": "w", "target": "extra"})
    with pytest.raises(MappingError, match="extra is produced but the target has no such"):
        apply_map(weight_map, {"w": torch.ones(1)}, {})


def test_ambiguous_rules_are_refused():
    weight_map = one_map({"kind": "rename", "source": r"w.*", "target": "a"},
                         {"kind": "rename", "source": r".*", "target": "b"})
    with pytest.raises(MappingError, match="matches 2 rules"):
        apply_map(weight_map, {"w": torch.ones(1)})


def test_a_non_tensor_payload_is_refused_naming_the_key():
    weight_map = one_map({"kind": "rename", "source": "w", "target": "w"})
    with pytest.raises(MappingError, match="w is a list, not a tensor"):
        apply_map(weight_map, {"w": [1.0]})


@pytest.mark.parametrize(("rule", "message"), [
    ({"kind": "reshape", "source": "w", "target": "w"}, "unknown kind 'reshape'"),
    ({"kind": "drop", "source": "w"}, "a drop rule needs a reason"),
    ({"kind": "pad_rows", "source": "w", "target": "w", "options": {"rows": 1}},
     "a pad_rows rule needs a reason"),
])
def test_malformed_maps_are_refused(rule, message):
    with pytest.raises(ValueError, match=message):
        one_map(rule)


def test_unknown_map_name_lists_the_known():
    with pytest.raises(ValueError, match="no weight map named 'kaldi'.*myrtle_rnnt_to_canonical"):
        load_map("kaldi")


def test_surplus_rows_drop_what_the_source_has_beyond_the_target_and_are_declared():
    weight_map = one_map({"kind": "drop_rows", "source": "j", "target": "j",
                          "options": {"rows": "surplus", "at": "end"}, "reason": "durations"})
    declared = {}
    out = apply_map(weight_map, {"j": torch.arange(12.0).reshape(6, 2)}, {"j": (4, 2)}, declared)
    assert torch.equal(out["j"], torch.arange(8.0).reshape(4, 2))
    assert declared == {"j rows 4-5": "durations"}


def test_surplus_rows_need_the_targets_layout_and_never_add_rows():
    weight_map = one_map({"kind": "drop_rows", "source": "j", "target": "j",
                          "options": {"rows": "surplus"}, "reason": "durations"})
    with pytest.raises(MappingError, match="needs the target's expected shape"):
        apply_map(weight_map, {"j": torch.ones(3, 2)})
    with pytest.raises(MappingError, match="j has 3 rows, fewer than the target's 4"):
        apply_map(weight_map, {"j": torch.ones(3, 2)}, {"j": (4, 2)})


def test_a_target_pattern_writes_to_the_one_layout_key_it_matches():
    weight_map = one_map({"kind": "rename", "source": r"fc\.(?P<p>weight)",
                          "target": r"seq\.[23]\.{p}", "options": {"target_pattern": True}})
    for index in ("2", "3"):
        out = apply_map(weight_map, {"fc.weight": torch.ones(1)}, {f"seq.{index}.weight": (1,)})
        assert set(out) == {f"seq.{index}.weight"}


def test_a_target_pattern_matching_no_key_or_several_is_a_problem():
    weight_map = one_map({"kind": "rename", "source": "w", "target": r"seq\.[23]\.w",
                          "options": {"target_pattern": True}})
    with pytest.raises(MappingError, match="matches 2 keys"):
        apply_map(weight_map, {"w": torch.ones(1)}, {"seq.2.w": (1,), "seq.3.w": (1,)})
    with pytest.raises(MappingError, match="matches 0 keys"):
        apply_map(weight_map, {"w": torch.ones(1)}, {"seq.4.w": (1,)})
    with pytest.raises(MappingError, match="a target pattern needs the target's layout"):
        apply_map(weight_map, {"w": torch.ones(1)})


def test_a_declared_drop_is_reported_with_its_reason():
    weight_map = one_map({"kind": "drop", "source": r"bn\..*", "reason": "no counterpart"},
                         {"kind": "rename", "source": "w", "target": "w"})
    declared = {}
    apply_map(weight_map, {"bn.mean": torch.ones(1), "w": torch.ones(1)}, declared=declared)
    assert declared == {"bn.mean": "no counterpart"}
