"""Running a conformance report's replay snippet as a user would."""

import contextlib
import io


def markdown_snippet(markdown: str) -> str:
    """The first Python snippet of a conformance.md."""
    return markdown.split("```python\n")[1].split("```")[0]


def replayed(snippet: str) -> tuple[str, str]:
    """(what running `snippet` prints, the oracle's answer written in its last line)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {})
    return printed.getvalue().strip(), snippet.rsplit(": ", 1)[1].strip()


def scalar(printed: str) -> float:
    """A printed 0-d tensor or a one-element list as a float."""
    return float(printed.removeprefix("tensor(").removesuffix(")").strip("[]"))
