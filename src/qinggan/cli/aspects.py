"""`qinggan aspects`: which aspect, which opinion, which polarity, in each text."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from qinggan.absa.spans import char_marks, mark_runs
from qinggan.cli.analyze import JsonOpt, MaxBytesOpt, TextsArg, _analyzer
from qinggan.cli.common import TABLE_TEXT_CHARS
from qinggan.cli.texts import answer_texts, colour

#: the table's text column: the text with its spans marked (its own name, so that the shared
#: table code, which cuts and escapes a column called "text", leaves the markup alone)
TEXT_COLUMN = "text (spans marked)"
#: the styles of the spans in the table's text column
ASPECT_STYLE = "bold underline"
OPINION_STYLE = {"positive": "bold green", "negative": "bold red", "neutral": "bold yellow"}


def aspects_cli(
    texts: TextsArg = None,
    json_output: JsonOpt = False,
    max_bytes: MaxBytesOpt = None,
) -> None:
    """Aspect opinions of each text: aspect, opinion, polarity and category (spans with --json)."""
    analyzer = _analyzer(None, max_bytes)
    answer_texts(
        texts,
        lambda good: analyzer.aspects_batch(good, errors="report"),
        json_output=json_output,
        columns=[TEXT_COLUMN, "aspect", "opinion", "polarity", "confidence", "category"],
        row=table_row,
    )


def table_row(result: Any) -> list[str]:
    """One table row per text: the text with its spans marked, then one line per opinion."""
    if not result.opinions:
        return [marked(result.text, ()), "-", "-", "-", "", ""]
    lines: dict[str, list[str]] = {k: [] for k in ("aspect", "opinion", "polarity", "conf", "cat")}
    for o in result.opinions:
        lines["aspect"].append(escape(o.aspect) if o.aspect is not None else "[dim](implicit)[/]")
        lines["opinion"].append(escape(o.opinion))
        lines["polarity"].append(colour(o.polarity.value))
        lines["conf"].append(f"{o.confidence:.3f}")
        lines["cat"].append(escape(o.category) if o.category is not None else "-")
    return [
        marked(result.text, result.opinions),
        *("\n".join(lines[k]) for k in ("aspect", "opinion", "polarity", "conf", "cat")),
    ]


def marked(text: str, opinions: Any, limit: int = TABLE_TEXT_CHARS) -> str:
    """``text`` as rich markup on one line: aspect spans underlined, opinion spans in their
    polarity's colour (where the two overlap the aspect's style wins), cut to ``limit``
    characters (an ellipsis marks the cut; ``--json`` carries the whole text)."""
    styles = char_marks(
        len(text),
        [(o.aspect_span, ASPECT_STYLE) for o in opinions]  # listed first: the aspect wins
        + [(o.opinion_span, OPINION_STYLE.get(o.polarity.value, "bold")) for o in opinions],
    )
    shown = "".join(" " if c.isspace() else c for c in text)  # one line, offsets kept
    cut = len(shown) > limit
    if cut:
        shown = shown[: limit - 1]
    pieces = (
        f"[{style}]{escape(piece)}[/]" if style else escape(piece)
        for piece, style in mark_runs(shown, styles)
    )
    return "".join(pieces) + ("…" if cut else "")
