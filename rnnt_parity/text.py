"""Character vocabularies: transcripts to label ids and back.

`CHARACTERS` is the seed's and Myrtle.ai/MLPerf's English character set: space, the 26
lowercase letters and the apostrophe (28 symbols), with blank after them (index 28, vocab 29).
"""

from __future__ import annotations

from dataclasses import dataclass

CHARACTERS = (" ", *"abcdefghijklmnopqrstuvwxyz", "'")


@dataclass(frozen=True)
class CharVocabulary:
    """Symbols in index order; `blank` is the index just past them unless given."""

    symbols: tuple[str, ...] = CHARACTERS
    blank: int | None = None

    def __post_init__(self):
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be distinct")
        if any(not isinstance(s, str) or len(s) != 1 for s in self.symbols):
            raise ValueError("every symbol must be a single character")
        if self.blank is None:
            object.__setattr__(self, "blank", len(self.symbols))
        if not 0 <= self.blank <= len(self.symbols):
            raise ValueError(f"blank={self.blank} must lie in [0, {len(self.symbols)}]")

    @property
    def size(self) -> int:
        """V: the symbols plus blank."""
        return len(self.symbols) + 1

    def _index(self) -> dict[str, int]:
        return {s: i + (i >= self.blank) for i, s in enumerate(self.symbols)}

    def encode(self, text: str) -> list[int]:
        """Label ids of `text` (no blank); ValueError names the first character outside."""
        index = self._index()
        unknown = [c for c in text if c not in index]
        if unknown:
            raise ValueError(f"transcript {text!r} holds {unknown[0]!r}, which is not in the "
                             "vocabulary")
        return [index[c] for c in text]

    def decode(self, ids) -> str:
        """The text of label ids; ValueError on blank or an id outside [0, V)."""
        out = []
        for position, i in enumerate(ids):
            i = int(i)
            if i == self.blank or not 0 <= i < self.size:
                raise ValueError(f"id {i} at position {position} is blank or outside "
                                 f"[0, {self.size})")
            out.append(self.symbols[i - (i > self.blank)])
        return "".join(out)
