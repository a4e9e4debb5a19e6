"""`qinggan archive import FILE.jsonl`: load archived chat messages for the sentiment jobs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qinggan.cli.common import fail, print_json, require_extra, stderr, stdout
from qinggan.config import DEFAULT_DB_URL, Settings
from qinggan.errors import QingganError

if TYPE_CHECKING:
    from qinggan.jobs.store import JobStore

app = typer.Typer(help="The message archive the sentiment jobs read.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help=f"Database URL (default: $QINGGAN_DB_URL, else {DEFAULT_DB_URL})."),
]
OrgOpt = Annotated[
    str,
    typer.Option(
        "--org", help="Organisation owning the messages: the app_id whose WeCom jobs read them."
    ),
]
DEFAULT_ORG = "local"


def open_job_store(db: str | None) -> JobStore:
    """The job store of ``--db`` (or the settings' default), migrated; exits on error."""
    require_extra("serve", "sqlalchemy")
    from qinggan.jobs.model import JobSettings
    from qinggan.jobs.store import JobStore

    try:
        import os

        url = Settings.from_env().with_overrides(db_url=db).db_url
        return JobStore.open(url, settings=JobSettings.from_env(os.environ))
    except QingganError as exc:
        fail(str(exc))
    except Exception as exc:  # a database that cannot be reached or opened
        fail(f"cannot open the database: {type(exc).__name__}: {exc}")


@app.command("import")
def import_cli(
    file: Annotated[Path, typer.Argument(help="JSONL file, one archived message per line.")],
    org: OrgOpt = DEFAULT_ORG,
    db: DbOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import messages (msgid, msgtype, content or encrypted_content, transcript ...).

    Bad lines are reported with their line numbers and skipped; the rest is imported. Importing
    the same file again changes nothing. Exit status 1 when any line was bad.
    """
    require_extra("serve", "sqlalchemy", "cryptography")
    from qinggan.jobs.archive import import_file

    if not file.is_file():
        fail(f"no such file: {file}")
    store = open_job_store(db)
    try:
        report = import_file(store, org, file)
    finally:
        store.close()
    if json_output:
        print_json(report.to_dict())
    else:
        stdout.print(
            f"{report.read} lines: {report.inserted} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.bad} bad"
        )
        for problem in report.problems:
            stderr.print(f"{file}:{problem.line}: {problem.kind}: {problem.message}")
    if report.bad:
        raise typer.Exit(1)
