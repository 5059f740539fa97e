"""Report files: all three or none, never overwritten silently, differences listed first."""

import json

import pytest

from rnnt_parity.corpus.manifests import Entry
from rnnt_parity.wer import report as report_module
from rnnt_parity.wer.drift import Side, compare_hypotheses
from rnnt_parity.wer.report import REPORT_FILES, render_markdown, write_report

ENTRIES = [Entry("u1", "u1.flac", "one two three", 1.0, "theo"),
           Entry("u2", "u2.flac", "four five", 1.0, "george")]


@pytest.fixture(scope="module")
def report():
    a = Side({"model_input": {"source": "myrtle"}}, {"u1": "one two three", "u2": "four five"},
             {})
    b = Side({"model_input": {"source": "lib:python_speech_features"}},
             {"u1": "one too three", "u2": "four five"}, {})
    return compare_hypotheses(ENTRIES, a, b, replicates=200)


def test_markdown_names_the_differing_condition_before_the_figures(report):
    text = render_markdown(report)
    assert text.index("model_input.source") < text.index("## Errors")
    assert "`myrtle`" in text and "`lib:python_speech_features`" in text
    assert "REF: one two three" in text and "Scored 2 of 2" in text


def test_all_three_files_are_written_and_the_json_is_the_report(tmp_path, report):
    paths = write_report(report, tmp_path)
    assert [p.name for p in paths] == list(REPORT_FILES)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "u1" in html


def test_a_failure_while_rendering_leaves_no_report_file(tmp_path, report, monkeypatch):
    def broken(_):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "render_html", broken)
    with pytest.raises(KeyboardInterrupt):
        write_report(report, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_interruption_keeps_the_previous_report_whole(tmp_path, report, monkeypatch):
    write_report(report, tmp_path)
    before = {name: (tmp_path / name).read_text() for name in REPORT_FILES}
    original = report_module.render_html

    def interrupted(r):
        original(r)
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "render_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(report, tmp_path, force=True)
    assert {name: (tmp_path / name).read_text() for name in REPORT_FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(REPORT_FILES)


def test_existing_reports_are_not_overwritten_without_force(tmp_path, report):
    write_report(report, tmp_path)
    with pytest.raises(FileExistsError, match="--force"):
        write_report(report, tmp_path)
    write_report(report, tmp_path, force=True)
