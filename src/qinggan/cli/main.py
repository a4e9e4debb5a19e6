"""The `qinggan` command."""

from __future__ import annotations

import logging
import os

import typer
from rich.markup import escape

from qinggan._version import __version__
from qinggan.cli import apps, archive, bulk, evaluate, jobs, report, train
from qinggan.cli.analyze import analyze_cli, dialogue_cli, emotions_cli
from qinggan.cli.aspects import aspects_cli
from qinggan.cli.common import EXIT_INTERNAL, stderr
from qinggan.cli.serve import serve_cli
from qinggan.cli.trend import trend_cli
from qinggan.cli.worker import worker_cli

app = typer.Typer(
    name="qinggan",
    help="qinggan (情感): offline Chinese sentiment and emotion analysis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("analyze")(analyze_cli)
app.command("emotions")(emotions_cli)
app.command("dialogue")(dialogue_cli)
app.command("aspects")(aspects_cli)
app.command("trend")(trend_cli)
bulk.register(app)
app.add_typer(evaluate.app, name="evaluate")
app.add_typer(report.app, name="report")
app.add_typer(train.app, name="train")
app.add_typer(apps.app, name="apps")
app.command("serve")(serve_cli)
app.add_typer(jobs.app, name="jobs")
app.add_typer(archive.app, name="archive")
app.command("worker")(worker_cli)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qinggan {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def run() -> None:
    """The console entry point: a user's mistake exits 2 with a message (each command's own
    handling); an unexpected exception, which is a bug of ours, exits 70 with one line that says
    so instead of a traceback (``QINGGAN_DEBUG=1`` shows the traceback)."""
    try:
        app()
    except Exception as exc:
        if os.environ.get("QINGGAN_DEBUG"):
            raise
        stderr.print(
            f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
            "This is a bug in qinggan, not in your input; rerun with QINGGAN_DEBUG=1 for the "
            "traceback and report it.",
            markup=True,
        )
        raise SystemExit(EXIT_INTERNAL) from None
