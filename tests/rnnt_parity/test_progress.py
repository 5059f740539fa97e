"""Progress shows on a terminal and nowhere else."""

from __future__ import annotations

import io

from rnnt_parity.progress import Progress, activity, step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_redrawn_on_a_terminal_and_ends_its_line():
    screen = Terminal()
    bar = Progress("decoding", 4, screen)
    bar.advance(2)
    bar.close()
    assert screen.getvalue().startswith("\rdecoding [" + "#" * 15 + "." * 15 + "] 2/4 ")
    assert screen.getvalue().endswith("\n")


def test_steps_advance_the_innermost_activity_and_its_line_is_cleared():
    screen = Terminal()
    with activity("rnnt-parity check", screen):
        step("first row")
        step("second row")
    text = screen.getvalue()
    assert "rnnt-parity check: 2 done" in text and "(second row)" in text
    assert text.endswith("\r\x1b[K")


def test_nothing_is_written_where_stderr_is_not_a_terminal():
    log = io.StringIO()
    with activity("rnnt-parity check", log):
        step("row")
    bar = Progress("decoding", 2, log)
    bar.advance(2)
    bar.close()
    assert log.getvalue() == ""


def test_a_step_outside_any_activity_does_nothing():
    step("nobody is watching")
