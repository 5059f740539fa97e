"""A backoff n-gram language model read from an ARPA file, for prefix beam search.

Written here rather than taken from PyPI: the only pure-Python ARPA reader there (`arpa`,
0.1.0b4) has had no release since 2018, and kenlm needs a C++ build.

ARPA format: a `\\data\\` header with `ngram N=count` lines, then one `\\N-grams:` section per
order whose lines are `log10(p) w_1 .. w_N [log10(backoff)]`, then `\\end\\`. Scoring uses
Katz backoff: log P(w | h) = log p(h w) if that n-gram is listed, else log b(h) + log P(w | h')
with h' = h minus its first word (b = 1 when h is not listed).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

LN_10 = math.log(10.0)


class ArpaLanguageModel:
    """An ARPA n-gram model; `log_prob(words)` is the natural-log probability of a word prefix.

    Args:
        path: the .arpa file.
        unknown_log10: log10 probability of a word absent from the vocabulary when the model
            has no `<unk>` (default -100, effectively impossible but finite).
    """

    def __init__(self, path, unknown_log10: float = -100.0):
        self.path = Path(path)
        self.unknown_log10 = unknown_log10
        self.order, self.probabilities, self.backoffs = _read_arpa(self.path)

    def word_log10(self, word: str, history: tuple[str, ...]) -> float:
        """log10 P(word | history) with backoff."""
        history = history[-(self.order - 1):] if self.order > 1 else ()
        penalty = 0.0
        while True:
            gram = history + (word,)
            if gram in self.probabilities:
                return penalty + self.probabilities[gram]
            if not history:
                unknown = self.probabilities.get(("<unk>",), self.unknown_log10)
                return penalty + unknown
            penalty += self.backoffs.get(history, 0.0)
            history = history[1:]

    def log_prob(self, words, bos: bool = True, eos: bool = False) -> float:
        """Natural-log probability of `words` (a prefix: no `</s>` unless `eos`)."""
        history = ("<s>",) if bos else ()
        total = 0.0
        for word in tuple(words) + (("</s>",) if eos else ()):
            total += self.word_log10(word, history)
            history = history + (word,)
        return total * LN_10

    __call__ = log_prob


def _read_arpa(path: Path):
    section = None
    counts: dict[int, int] = {}
    probabilities: dict[tuple[str, ...], float] = {}
    backoffs: dict[tuple[str, ...], float] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "\\data\\":
            section = "data"
            continue
        if line == "\\end\\":
            section = "end"
            continue
        header = re.fullmatch(r"\\(\d+)-grams:", line)
        if header:
            section = int(header.group(1))
            continue
        if section == "data":
            match = re.fullmatch(r"ngram (\d+)\s*=\s*(\d+)", line)
            if not match:
                raise ValueError(f"{path}:{number}: expected 'ngram N=count', got {line!r}")
            counts[int(match.group(1))] = int(match.group(2))
        elif isinstance(section, int):
            fields = line.split()
            if len(fields) not in (section + 1, section + 2):
                raise ValueError(f"{path}:{number}: a {section}-gram line needs {section + 1} "
                                 f"or {section + 2} fields, got {len(fields)}")
            gram = tuple(fields[1: section + 1])
            probabilities[gram] = float(fields[0])
            if len(fields) == section + 2:
                backoffs[gram] = float(fields[-1])
        elif section is None:
            continue
        else:
            raise ValueError(f"{path}:{number}: unexpected line after \\end\\: {line!r}")
    if not counts:
        raise ValueError(f"{path}: no \\data\\ section")
    for order, count in counts.items():
        found = sum(1 for gram in probabilities if len(gram) == order)
        if found != count:
            raise ValueError(f"{path}: header says {count} {order}-grams, file has {found}")
    return max(counts), probabilities, backoffs
