"""`qinggan trend`: the mood trend of one conversation, given turn by turn."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from qinggan.cli.common import fail, print_json, shorten, stdout
from qinggan.cli.texts import colour
from qinggan.conversation import CUSTOMER_SPEAKERS, Turn, analyze_conversation
from qinggan.errors import QingganError

_SPEAKER = re.compile(r"^\s*([^:：]{1,20})[:：]\s*(.+)$")


def _parse(line: str, with_speakers: bool) -> Turn:
    if with_speakers:
        match = _SPEAKER.match(line)
        if match:
            return Turn(text=match.group(2), speaker=match.group(1).strip())
    return Turn(text=line)


def trend_cli(
    turns: Annotated[
        list[str] | None, typer.Argument(help="The turns in order; stdin lines when none.")
    ] = None,
    speakers: Annotated[
        bool, typer.Option("--speakers", help='Read "speaker: text" turns; only customers count.')
    ] = False,
    customer: Annotated[
        list[str] | None,
        typer.Option(
            "--customer",
            help="With --speakers: a speaker name that is the customer (repeatable); default: "
            f"{', '.join(sorted(CUSTOMER_SPEAKERS))}.",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Whether a conversation's mood turns good, turns bad or keeps smooth, with per-turn scores."""
    if not turns:
        if sys.stdin.isatty():
            fail("give the turns as arguments or pipe one turn per line on stdin")
        try:
            turns = [
                line
                for line in sys.stdin.buffer.read().decode("utf-8").splitlines()
                if line.strip()
            ]
        except UnicodeDecodeError as exc:
            fail(f"stdin is not valid UTF-8 (byte {exc.start})")
    if customer and not speakers:
        fail("--customer names a speaker: give --speakers too")
    try:
        result = analyze_conversation(
            [_parse(line, speakers) for line in turns], customer_speakers=customer or None
        )
    except QingganError as exc:
        fail(str(exc).replace("pass customer_speakers=...", "name the customer with --customer"))
    if json_output:
        print_json(result.to_dict())
        return
    probs = "  ".join(f"{k.value} {v:.3f}" for k, v in result.probabilities.items())
    stdout.print(f"trend: {colour(result.label.value)}   ({probs})")
    table = Table()
    for column in ("#", "speaker", "text", "score", "counted"):
        table.add_column(column, overflow="fold", max_width=60 if column == "text" else None)
    for turn in result.turns:
        table.add_row(
            str(turn.index + 1),
            escape(turn.speaker or ""),
            escape(shorten(turn.text)),
            f"{turn.score:+.3f}",
            "yes" if turn.counted else "no",
        )
    stdout.print(table)
