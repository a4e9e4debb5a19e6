"""Shared plumbing of the per-text commands (analyze, emotions, dialogue): read texts from the
arguments or from stdin lines, answer them in batches, print a table or JSON lines, report each
bad item by its argument or line number, and exit 2 when any item was bad."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from qinggan.cli.common import EXIT_BAD_INPUT, fail, print_json, shorten, stderr, stdout
from qinggan.results import ItemError

BATCH = 1024
NUMERIC_COLUMNS = frozenset({"positive", "negative", "neutral", "confidence"})
Item = tuple[int, str | None, str]  # (number, text or None when unreadable, problem)


def read_items(texts: Sequence[str] | None) -> tuple[Iterator[Item], str]:
    """The texts to answer and what to call their numbers ("argument" or "line")."""
    if texts:
        return ((i, t, "") for i, t in enumerate(texts, start=1)), "argument"
    if sys.stdin.isatty():
        fail("give texts as arguments or pipe lines on stdin")
    return _stdin_lines(), "line"


def _stdin_lines() -> Iterator[Item]:
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield number, None, "line is not valid UTF-8"
            continue
        if line.strip():
            yield number, line, ""


def answer_texts(
    texts: Sequence[str] | None,
    answer: Callable[[list[str]], Sequence[Any]],
    *,
    json_output: bool,
    columns: Sequence[str],
    row: Callable[[Any], Sequence[str]],
) -> None:
    """Answer every text with ``answer`` (a batch call with errors="report"), print, exit.

    A table shows each text on one line, cut to :data:`~qinggan.cli.common.TABLE_TEXT_CHARS`
    characters; ``--json`` carries it whole. Nothing to answer (empty stdin) exits 2."""
    items, where = read_items(texts)
    text_column = list(columns).index("text") if "text" in columns else None
    table = Table()
    for column in columns:
        numeric = column in NUMERIC_COLUMNS
        table.add_column(
            column,
            overflow="fold",
            max_width=60 if column == "text" else None,
            justify="right" if numeric else "left",
        )
    bad = 0
    seen = 0
    batch: list[Item] = []

    def flush() -> None:
        nonlocal bad
        good = [text for _, text, _ in batch if text is not None]
        results = iter(answer(good)) if good else iter(())
        for number, text, problem in batch:
            result = next(results) if text is not None else ItemError(number, problem)
            if isinstance(result, ItemError):
                bad += 1
                message = problem or result.message
                stderr.print(f"error: {where} {number}: {message}", markup=False)
                if json_output:
                    print_json({where: number, "error": message})
            elif json_output:
                print_json(result.to_dict())
            else:
                cells = list(row(result))
                if text_column is not None:
                    cells[text_column] = escape(shorten(cells[text_column]))
                table.add_row(*cells)
        batch.clear()

    for item in items:
        seen += 1
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    flush()
    if not seen:
        fail("nothing to analyse: stdin held no text (give texts as arguments or pipe lines)")
    if not json_output and table.row_count:
        stdout.print(table)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def colour(label: str) -> str:
    positive = {"positive", "happy", "optimistic", "thankful", "like", "turn_good"}
    negative = {
        "negative",
        "anger",
        "angry",
        "pessimistic",
        "complaining",
        "turn_bad",
        "disgusting",
    }
    tint = "green" if label in positive else "red" if label in negative else "yellow"
    return f"[{tint}]{label}[/]"
