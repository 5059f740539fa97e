"""Conformance reports: both files or neither, never over an old report without force."""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.conform.report import (
    CheckOutcome,
    ConformanceReport,
    render_markdown,
    write_conformance_report,
)


def _report(passed=True):
    return ConformanceReport("RNN-T loss", "pkg.mod:fn", {"blank": 0},
                             [CheckOutcome("a | check", passed, 1e-7, None, "x | y",
                                           None if passed else {"blank": 0})])


def test_an_existing_report_is_kept_without_force(tmp_path):
    write_conformance_report(_report(), tmp_path)
    (tmp_path / "conformance.md").write_text("old")
    with pytest.raises(FileExistsError, match="--force"):
        write_conformance_report(_report(False), tmp_path)
    assert (tmp_path / "conformance.md").read_text() == "old"
    assert json.loads((tmp_path / "conformance.json").read_text())["passed"]
    write_conformance_report(_report(False), tmp_path, force=True)
    assert not json.loads((tmp_path / "conformance.json").read_text())["passed"]


def test_the_markdown_table_survives_pipes_and_lists_the_shrunk_example():
    text = render_markdown(_report(False))
    assert "| a / check | FAIL |" in text and "| x / y |" in text
    assert "## Shrunk failing example" in text


def test_conform_without_a_kind_or_catalogue_is_refused(capsys):
    assert main(["conform"]) == 2
    assert "needs a kind" in capsys.readouterr().err
