"""The WER-drift report as report.json, report.md and report.html (plots embedded as PNG).

`write_report` writes all three to temporary files first and renames them only when all
three are complete: an interrupted run leaves the old files or none, never half a report.
Existing files are kept unless `force`.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
from pathlib import Path

from rnnt_parity.files import atomic_output, refuse_to_overwrite

REPORT_FILES = ("report.json", "report.md", "report.html")
MAX_CHANGED_SHOWN = 50


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _headline(report: dict) -> list[str]:
    wer, boot, pairs = report["wer"], report["bootstrap"], report["matched_pairs"]
    low, high = boot["delta_ci95"]
    identity = report["identity"]
    verdict = ("No drift: every hypothesis is identical." if identity["rate"] == 1.0
               else f"{len(report['changed'])} of {report['scored']} hypotheses differ.")
    return [
        verdict,
        f"Scored {report['scored']} of {report['total']} utterances "
        f"({len(report['skipped'])} skipped, listed below).",
        f"WER A {_pct(wer['a']['wer'])}, WER B {_pct(wer['b']['wer'])}, delta (B - A) "
        f"{100 * wer['delta']:+.3f} points (relative {_pct(wer['relative_delta'])}).",
        f"Paired bootstrap ({boot['replicates']} draws, Bisani and Ney 2004): 95% interval of "
        f"the delta [{100 * low:+.3f}, {100 * high:+.3f}] points; P(B better than A) = "
        f"{boot['probability_b_better']:.3f}.",
        f"{pairs['test']}: B better on {pairs['b_better']}, worse on {pairs['b_worse']}, "
        f"tied on {pairs['ties']} utterances; p = {pairs['p_value']:.4g}.",
        f"Identical hypotheses: {identity['identical']} of {identity['scored']} "
        f"({_pct(identity['rate'])}).",
        *_gate_lines(report.get("gate")),
    ]


def _gate_lines(gate: dict | None) -> list[str]:
    """The --fail-on verdict, as the terminal gives it."""
    if gate is None or not gate["fail_on"]:
        return ["Gate: no --fail-on threshold was given."]
    rules = ", ".join(gate["fail_on"])
    if gate["passed"]:
        return [f"Gate ({rules}): passed."]
    return [f"Gate ({rules}): FAILED: " + "; ".join(gate["failures"]) + "."]


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _difference_rows(report: dict) -> list[list]:
    return [[d["field"], f"`{d['a']}`", f"`{d['b']}`"]
            for d in report["conditions"]["differences"]]


def _error_rows(report: dict) -> list[list]:
    return [[name.upper(), _pct(s["wer"]), s["substitutions"], s["deletions"], s["insertions"],
             s["hits"], s["words"]] for name, s in (("a", report["wer"]["a"]),
                                                    ("b", report["wer"]["b"]))]


def _speaker_rows(report: dict) -> list[list]:
    return [[name, s["utterances"], s["words"], _pct(s["wer_a"]), _pct(s["wer_b"]),
             f"{100 * s['delta']:+.3f}"] for name, s in report["speakers"].items()]


def _changed(report: dict) -> list[dict]:
    by_id = {u["id"]: u for u in report["utterances"]}
    return [by_id[i] for i in report["changed"][:MAX_CHANGED_SHOWN]]


def render_markdown(report: dict) -> str:
    lines = ["# WER drift report", ""] + [f"- {line}" for line in _headline(report)]
    lines += ["", "## Conditions that differ (A vs B)", ""]
    lines += (_table(["condition", "A", "B"], _difference_rows(report))
              if report["conditions"]["differences"] else ["None: the conditions are identical."])
    lines += ["", "## Errors", ""]
    lines += _table(["system", "WER", "S", "D", "I", "hits", "words"], _error_rows(report))
    lines += ["", "## Per speaker", ""]
    lines += _table(["speaker", "utterances", "words", "WER A", "WER B", "delta (points)"],
                    _speaker_rows(report))
    lines += ["", f"## Changed utterances ({len(report['changed'])}, first "
                  f"{MAX_CHANGED_SHOWN} shown)", ""]
    for u in _changed(report):
        lines += [f"### {u['id']} ({u['speaker']})", "", "```", "A " + u["alignment_a"][0],
                  "A " + u["alignment_a"][1], "  " + u["alignment_a"][2],
                  "B " + u["alignment_b"][1], "  " + u["alignment_b"][2], "```", ""]
    lines += ["", f"## Skipped ({len(report['skipped'])})", ""]
    lines += [f"- `{s['id']}`: {s['reason']}" for s in report["skipped"]] or ["None."]
    lines += ["", "## Conditions of each system", "", "```json",
              json.dumps(report["conditions"], indent=1), "```", ""]
    return "\n".join(lines)


def _figure_png(report: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    utterances = report["utterances"]
    deltas = [(sum(u["errors_b"][k] for k in ("substitutions", "deletions", "insertions"))
               - sum(u["errors_a"][k] for k in ("substitutions", "deletions", "insertions")))
              / u["words"] for u in utterances]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
    left.bar(range(len(deltas)), [100 * d for d in deltas], width=1.0,
             color=["tab:red" if d > 0 else "tab:green" for d in deltas])
    left.set(title="per-utterance WER delta (B - A)", xlabel="utterance (manifest order)",
             ylabel="points")
    kinds = ("substitutions", "deletions", "insertions")
    for offset, name in ((-0.2, "a"), (0.2, "b")):
        right.bar([k + offset for k in range(3)], [report["wer"][name][k] for k in kinds],
                  width=0.4, label=name.upper())
    right.set_xticks(range(3), ["S", "D", "I"])
    right.set(title="errors by kind")
    right.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _html_table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c).strip('`'))}</td>" for c in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: dict) -> str:
    parts = ["<!doctype html><meta charset='utf-8'><title>WER drift report</title>",
             "<style>body{font-family:sans-serif;max-width:70em}td,th{border:1px solid #ccc;"
             "padding:2px 6px}table{border-collapse:collapse}pre{background:#f6f6f6}</style>",
             "<h1>WER drift report</h1><ul>"]
    parts += [f"<li>{html.escape(line)}</li>" for line in _headline(report)]
    parts += ["</ul><h2>Conditions that differ (A vs B)</h2>",
              _html_table(["condition", "A", "B"], _difference_rows(report))
              if report["conditions"]["differences"] else "<p>None: identical.</p>",
              f"<img alt='per-utterance delta and error kinds' "
              f"src='data:image/png;base64,{_figure_png(report)}'>",
              "<h2>Errors</h2>",
              _html_table(["system", "WER", "S", "D", "I", "hits", "words"], _error_rows(report)),
              "<h2>Per speaker</h2>",
              _html_table(["speaker", "utterances", "words", "WER A", "WER B", "delta"],
                          _speaker_rows(report)),
              f"<h2>Changed utterances ({len(report['changed'])})</h2>"]
    for u in _changed(report):
        block = "\n".join(["A " + u["alignment_a"][0], "A " + u["alignment_a"][1],
                           "  " + u["alignment_a"][2], "B " + u["alignment_b"][1],
                           "  " + u["alignment_b"][2]])
        parts.append(f"<h3>{html.escape(u['id'])}</h3><pre>{html.escape(block)}</pre>")
    parts.append(f"<h2>Skipped ({len(report['skipped'])})</h2><ul>")
    parts += [f"<li><code>{html.escape(s['id'])}</code>: {html.escape(s['reason'])}</li>"
              for s in report["skipped"]]
    parts.append("</ul>")
    return "\n".join(parts)


def write_report(report: dict, folder: str | Path, force: bool = False) -> list[Path]:
    """Write the three report files into `folder`, all or none; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in REPORT_FILES]
    for path in paths:
        refuse_to_overwrite(path, force)
    texts = [json.dumps(report, indent=1) + "\n", render_markdown(report), render_html(report)]
    with contextlib.ExitStack() as stack:
        temporaries = [stack.enter_context(atomic_output(path, force)) for path in paths]
        for temporary, text in zip(temporaries, texts, strict=True):
            temporary.write_text(text)
    return paths

