"""`qinggan bulk`: annotate a large CSV, TSV, JSONL or Parquet file, on all cores or on Ray."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from typer.core import TyperCommand

from qinggan.cli.common import fail, print_json, require_extra, stderr

LOCAL_RAY = "local"  # what a bare --ray means: start a Ray on this machine
_HOST_PORT = re.compile(r"[\w.-]+:\d+")


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s", style="cyan")


class BulkCommand(TyperCommand):
    """Lets ``--ray`` be given with or without an ADDRESS (typer's parser has no optional values).

    A bare ``--ray`` becomes ``--ray=local``; the word after ``--ray`` is taken as its address only
    when it looks like one (``auto``, ``local``, ``ray://...``, ``HOST:PORT``), so
    ``qinggan bulk --ray in.parquet -o out.parquet`` still reads ``in.parquet`` as the input.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        fixed: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--ray":
                following = args[i + 1] if i + 1 < len(args) else None
                if following is None or not _looks_like_address(following):
                    arg = f"--ray={LOCAL_RAY}"
            fixed.append(arg)
        return super().parse_args(ctx, fixed)


def _looks_like_address(word: str) -> bool:
    return word in ("auto", LOCAL_RAY) or "://" in word or bool(_HOST_PORT.fullmatch(word))


def register(app: typer.Typer) -> None:
    """Add ``qinggan bulk`` to the ``qinggan`` command."""
    app.command("bulk", cls=BulkCommand)(bulk_cli)


def bulk_cli(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="A .csv, .tsv, .jsonl or .parquet file.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write (same format as INPUT).")
    ],
    column: Annotated[str, typer.Option(help="The column (or JSON field) holding the text.")] = (
        "text"
    ),
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks",
            "--task",
            help="Comma-separated: polarity, emotion7, emotion8, dialogue, aspects.",
        ),
    ] = "polarity",
    scene: Annotated[
        str, typer.Option(help="Scene of the dialogue task: default, talk, task, customer_service.")
    ] = "default",
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (or Ray actors); default: every usable CPU."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk handed to a worker.")] = 1000,
    resume: Annotated[
        bool, typer.Option("--resume", help="Carry on an interrupted run; finished chunks stay.")
    ] = False,
    summary: Annotated[
        Path | None, typer.Option(help="Also write the summary (counts, means, speed) as JSON.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of the label counts (needs matplotlib).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="Run on Ray: bare --ray starts one here; --ray=auto or --ray=ray://HEAD:10001 "
            "joins a cluster (the input must be readable from every node).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Annotate every row of a large file with labels and probabilities, keeping its order.

    Rows that cannot be analysed are kept, with the reason in the `error` column.
    """
    from qinggan import bulk
    from qinggan.errors import QingganError

    try:
        plan = bulk.parse_tasks(tasks, scene)
        formats = {bulk.detect_format(input_path), bulk.detect_format(output)}
    except QingganError as exc:
        fail(str(exc))
    if ray is not None:
        require_extra("distributed", "ray", "pyarrow")
        if resume:
            fail("--resume is for local runs; a Ray run retries failed tasks itself")
        if not logging.getLogger().isEnabledFor(logging.INFO):  # quiet unless --verbose
            logging.getLogger("ray.data").setLevel(logging.WARNING)
    elif bulk.Format.PARQUET in formats:
        require_extra("bulk", "pyarrow")
    if plot is not None:
        require_extra("bulk", "matplotlib")
    job = bulk.BulkJob(
        input=input_path,
        output=output,
        plan=plan,
        column=column,
        workers=workers if workers is not None else bulk.usable_cpus(),
        chunk_size=chunk_size,
        resume=resume,
    )
    show = stderr.is_terminal
    try:
        with _progress(show) as progress:
            on_rows = _tracker(progress, input_path, job) if show else None
            if ray is not None:
                address = None if ray == LOCAL_RAY else ray
                result = bulk.run_ray(job, address=address, on_rows=on_rows)
            else:
                result = bulk.run_local(job, on_rows=on_rows)
    except QingganError as exc:
        fail(str(exc))
    if summary is not None:
        summary.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    if plot is not None:
        bulk.write_plot(result, plot)
    if json_output:
        print_json(result)
    else:
        _print_summary(result)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]bulk"),
        BarColumn(),
        MofNCompleteColumn(),
        _RowsPerSecond(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=stderr,
        disable=not show,
        transient=False,
    )


def _tracker(progress: Progress, input_path: Path, job: Any) -> Any:
    from qinggan.bulk.formats import open_layout

    try:
        total = open_layout(input_path, job.column, job.plan).estimate_rows()
    except Exception:  # the run itself reports a bad input properly
        total = None
    task = progress.add_task("rows", total=total)
    return lambda n: progress.advance(task, n)


def _print_summary(result: dict[str, Any]) -> None:
    stderr.print(
        f"{result['rows']:,} rows -> {result['output']} ({result['rows_failed']:,} failed), "
        f"{result['rows_per_second']:,.0f} rows/s on {result['workers']} "
        f"{'Ray actor(s)' if result['runner'] == 'ray' else 'process(es)'}",
        markup=False,
    )
    for name, counts in result["labels"].items():
        shown = ", ".join(f"{label} {count:,}" for label, count in counts.items())
        stderr.print(f"  {name}: {shown}", markup=False)
    for error in result["first_errors"]:
        stderr.print(f"  error: {error}", markup=False)
