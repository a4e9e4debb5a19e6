"""Spans drawn onto a text (for the CLI's table and the report's page): the mark each character
carries, and the runs of characters that carry the same one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

Span = tuple[int, int]


def char_marks(length: int, spans: Iterable[tuple[Span | None, str]]) -> list[str]:
    """The mark of each of ``length`` characters: that of the first ``(span, mark)`` covering
    it, ``""`` where none does; spans are clipped to the text, ``None`` spans skipped."""
    marks = [""] * length
    for span, mark in spans:
        if span is None:
            continue
        for i in range(max(0, span[0]), min(length, span[1])):
            if not marks[i]:
                marks[i] = mark
    return marks


def mark_runs(text: str, marks: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``text`` cut into maximal runs of characters with the same mark: ``(piece, mark)``."""
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marks[j] == marks[i]:
            j += 1
        yield text[i:j], marks[i]
        i = j
