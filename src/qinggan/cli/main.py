"""The `qinggan` command."""

from __future__ import annotations

import logging

import typer

from qinggan._version import __version__
from qinggan.cli import apps, archive, bulk, evaluate, jobs, train
from qinggan.cli.analyze import analyze_cli, dialogue_cli, emotions_cli
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
app.command("trend")(trend_cli)
bulk.register(app)
app.add_typer(evaluate.app, name="evaluate")
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
    app()
