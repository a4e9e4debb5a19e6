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
AppOpt = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="The app (its app_id) whose jobs read the messages: its WeCom and native jobs. "
        "Default: the only app in the database.",
    ),
]
OrgOpt = Annotated[
    str | None,
    typer.Option(
        "--org",
        help="Advanced: file under an organisation name of your own instead of an app's "
        "(only `qinggan jobs submit --org` reads it).",
    ),
]
#: where messages go when the database has no app yet (only `qinggan jobs` reads it)
DEFAULT_ORG = "local"


def resolve_org(db: str | None, org: str | None, app_id: str | None) -> str:
    """The organisation of ``--org``, else of ``--app``, else the only app's; exits 2 with the
    choices when that is ambiguous or unknown. Without any app: :data:`DEFAULT_ORG`, with a note."""
    if org is not None and app_id is not None:
        fail("give --app or --org, not both")
    if org is not None:
        if not org.strip():
            fail("--org must not be empty")
        return org
    from qinggan.cli.apps import open_store

    store = open_store(db)
    try:
        apps = store.list_apps()
    finally:
        store.close()
    choices = ", ".join(f"{a.app_id} ({a.name})" for a in apps)
    if app_id is not None:
        if any(a.app_id == app_id for a in apps):
            return app_id
        if not apps:
            fail(f"no app with id {app_id!r}: the database has no app; create one with "
                 "`qinggan apps add NAME`")  # fmt: skip
        fail(f"no app with id {app_id!r}; the apps are: {choices}")
    if len(apps) == 1:
        return apps[0].app_id
    if apps:
        fail(f"{len(apps)} apps in the database; say whose jobs read these messages with "
             f"--app APP_ID, one of: {choices}")  # fmt: skip
    stderr.print(
        f"note: no app in the database yet, so the messages go to organisation {DEFAULT_ORG!r}, "
        "which only `qinggan jobs submit` reads; for the HTTP and WeCom jobs create an app "
        "(`qinggan apps add NAME`) and import with --app APP_ID",
        markup=False,
    )
    return DEFAULT_ORG


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
    app_id: AppOpt = None,
    org: OrgOpt = None,
    db: DbOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import messages: flat ({"msgid", "msgtype", "content" | "encrypted_content" |
    "transcript", ...}) or WeCom's archive shape ({"msgid", "msgtype": "text", "text":
    {"content"}, "from", "roomid", "msgtime"}).

    The messages go to the archive of --app (default: the only app), which that app's WeCom and
    native jobs read. Bad lines (and lone surrogates, NUL characters, over-long fields) are
    reported with their line numbers and skipped; the rest is imported. Importing the same file
    again changes nothing. Exit status 1 when any line was bad.
    """
    require_extra("serve", "sqlalchemy", "cryptography")
    from qinggan.jobs.archive import import_file

    if not file.is_file():
        fail(f"no such file: {file}")
    chosen = resolve_org(db, org, app_id)
    store = open_job_store(db)
    try:
        report = import_file(store, chosen, file)
    finally:
        store.close()
    if json_output:
        print_json({**report.to_dict(), "org": chosen})
    else:
        stdout.print(
            f"{report.read} lines: {report.inserted} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.bad} bad (archive of {chosen})"
        )
        for problem in report.problems:
            stderr.print(f"{file}:{problem.line}: {problem.kind}: {problem.message}", markup=False)
    if report.bad:
        raise typer.Exit(1)
