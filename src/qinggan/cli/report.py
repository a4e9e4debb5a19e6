"""`qinggan report aspects FILE`: the corpus view of aspect opinions (table, JSON or HTML page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qinggan.cli.common import fail, print_json, stderr, stdout

app = typer.Typer(help="Corpus views over a file of texts or of results.", no_args_is_help=True)

TINT = {"positive": "green", "negative": "red", "neutral": "yellow"}
SHARE_WIDTH = 12  # characters of the positive/negative bar in the terminal table


@app.command("aspects")
def report_aspects_cli(
    file: Annotated[
        Path,
        typer.Argument(
            help="Texts (.txt lines; .jsonl, .csv, .tsv or .parquet with a text column) or the "
            "output of `qinggan bulk --tasks aspects` (read as it is, not analysed again)."
        ),
    ],
    column: Annotated[str, typer.Option(help="The column (or JSON field) holding the text.")] = (
        "text"
    ),
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML page with plots here."),
    ] = None,
    top: Annotated[int, typer.Option(help="How many aspect terms to list.")] = 30,
    top_opinions: Annotated[int, typer.Option(help="Opinion terms listed per row.")] = 5,
    examples: Annotated[int, typer.Option(help="Example sentences kept per row.")] = 3,
    max_bytes: Annotated[
        int | None, typer.Option(help="Skip texts longer than this in UTF-8.")
    ] = None,
) -> None:
    """Per aspect term and per category: mentions, share positive / negative / neutral, the most
    frequent opinion terms and example sentences."""
    from qinggan.engine import Analyzer
    from qinggan.errors import QingganError
    from qinggan.reports import aspect_report, render_html

    if file.suffix.lower() in (".parquet", ".pq"):
        from qinggan.cli.common import require_extra

        require_extra("bulk", "pyarrow")
    show = stderr.is_terminal and not json_output
    try:
        analyzer = Analyzer(max_bytes=max_bytes)
        with _progress(show) as progress:
            task = progress.add_task("texts", total=None)
            report = aspect_report(
                file,
                analyzer=analyzer,
                column=column,
                top=top,
                top_opinions=top_opinions,
                examples=examples,
                on_rows=lambda n: progress.advance(task, n),
            )
    except QingganError as exc:
        fail(str(exc))
    if report["rows"] == report["rows_failed"]:
        first = report["first_errors"][0] if report["first_errors"] else "the file is empty"
        fail(f"no text of {file} could be read ({first})")
    if html is not None:
        html.write_text(render_html(report, title=f"Aspect opinions: {file.name}"), "utf-8")
    if json_output:
        print_json(report)
    else:
        print_report(report)
        if html is not None:
            stderr.print(f"wrote {html}", markup=False)
    for error in report["first_errors"]:
        stderr.print(f"skipped: {error}", markup=False)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]aspects"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=not show,
        transient=True,
    )


def _share_bar(entry: dict[str, Any]) -> str:
    positive = round(entry["positive"] * SHARE_WIDTH)
    negative = round(entry["negative"] * SHARE_WIDTH)
    rest = max(0, SHARE_WIDTH - positive - negative)
    return (
        f"[green]{'█' * positive}[/][red]{'█' * negative}[/][dim]{'░' * rest}[/] "
        f"[green]{entry['positive']:.0%}[/]/[red]{entry['negative']:.0%}[/]"
    )


def _opinions(entry: dict[str, Any]) -> str:
    return ", ".join(
        f"[{TINT[o['polarity']]}]{escape(o['opinion'])}[/] {o['count']}"
        for o in entry["top_opinions"]
    )


def _example(entry: dict[str, Any]) -> str:
    if not entry["examples"]:
        return ""
    text = entry["examples"][0]["text"]
    return escape(text if len(text) <= 40 else text[:39] + "…")


def _highlight(entry: dict[str, Any]) -> str:
    said = ", ".join(escape(o["opinion"]) for o in entry["opinions"])
    head = f"[bold]{escape(entry['aspect'])}[/] {entry['count']:,}/{entry['mentions']:,}"
    return f"{head} ({said})" if said else head


def print_report(report: dict[str, Any]) -> None:
    """The report as two rich tables (categories, then aspect terms)."""
    total = report["opinions"]
    polarity = report["polarity"]
    analysed = report["rows"] - report["rows_failed"]
    share = ""
    if total:
        positive, negative = polarity["positive"] / total, polarity["negative"] / total
        share = f"  positive {positive:.0%}, negative {negative:.0%}"
    stdout.print(
        f"[bold]{analysed:,}[/] texts ({report['texts_with_opinions']:,} with an opinion, "
        f"{report['rows_failed']:,} skipped): [bold]{total:,}[/] opinions{share}; "
        f"{report['aspects_total']:,} aspect terms, {report['implicit']:,} implicit"
    )
    if not total:
        return
    for key, tint, title in (("most_criticised", "red", "most criticised"),
                             ("most_praised", "green", "most praised")):  # fmt: skip
        if report[key]:
            shown = "; ".join(_highlight(e) for e in report[key][:5])
            stdout.print(f"[{tint}]{title}:[/] {shown}")
    categories = Table(title="categories")
    for name, right in [("category", False), ("mentions", True), ("positive / negative", False),
                        ("top aspect terms", False), ("top opinion terms", False)]:  # fmt: skip
        categories.add_column(name, justify="right" if right else "left", overflow="fold")
    for c in report["categories"]:
        categories.add_row(
            escape(c["category"] or "(uncategorised)"),
            f"{c['mentions']:,}",
            _share_bar(c),
            ", ".join(f"{escape(a['aspect'])} {a['count']}" for a in c["top_aspects"]),
            _opinions(c),
        )
    stdout.print(categories)
    listed = len(report["aspects"])
    aspects = Table(title=f"aspect terms (top {listed} of {report['aspects_total']})")
    for name, right in [("aspect", False), ("category", False), ("mentions", True),
                        ("positive / negative", False), ("top opinion terms", False),
                        ("example", False)]:  # fmt: skip
        aspects.add_column(name, justify="right" if right else "left", overflow="fold")
    for a in report["aspects"]:
        aspects.add_row(
            escape(a["aspect"]),
            escape(a["category"] or "-"),
            f"{a['mentions']:,}",
            _share_bar(a),
            _opinions(a),
            _example(a),
        )
    stdout.print(aspects)
