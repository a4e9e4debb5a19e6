"""`qinggan apps add|list|remove|quota|disable|enable`: credentials and limits in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qinggan.cli.common import fail, print_json, require_extra, stdout
from qinggan.config import DEFAULT_DB_URL, Settings
from qinggan.errors import QingganError
from qinggan.service.apps import DEFAULT_DAILY_QUOTA, DEFAULT_RPS

if TYPE_CHECKING:
    from qinggan.service.apps import App
    from qinggan.service.store import AppStore

app = typer.Typer(
    help="Manage the apps (credentials, allowed dialects, quotas) of the HTTP service.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (default: $QINGGAN_DB_URL, else {DEFAULT_DB_URL}: ./qinggan.db).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
QuotaOpt = Annotated[
    int | None,
    typer.Option(
        "--daily-quota",
        min=0,
        help=f"Calls per UTC day (a new app gets {DEFAULT_DAILY_QUOTA:,}); 0 = unlimited.",
    ),
]
RpsOpt = Annotated[
    int | None,
    typer.Option(
        "--rps",
        min=0,
        help=f"Requests per second (a new app gets {DEFAULT_RPS}); 0 = unlimited.",
    ),
]


def open_store(db: str | None) -> AppStore:
    """The store of ``--db`` (or the settings' default), migrated; exits with a message on error."""
    require_extra("serve", "sqlalchemy")
    from qinggan.service.store import AppStore

    try:
        url = Settings.from_env().with_overrides(db_url=db).db_url
        return AppStore.open(url)
    except QingganError as exc:
        fail(str(exc))
    except Exception as exc:  # a database that cannot be reached or opened
        fail(f"cannot open the database: {type(exc).__name__}: {exc}")


def _limit(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _show(found: App, *, as_json: bool, with_secret: bool = False) -> None:
    if as_json:
        print_json(found.to_dict(with_secret=with_secret))
        return
    stdout.print(f"app_id       {found.app_id}")
    if with_secret:
        stdout.print(f"secret       {found.secret}")
    stdout.print(f"name         {found.name}")
    stdout.print(f"dialects     {', '.join(sorted(found.dialects))}")
    stdout.print(f"daily quota  {_limit(found.daily_quota)}")
    stdout.print(f"rps          {_limit(found.rps)}")
    stdout.print(f"allowed IPs  {', '.join(found.allow_ips) or 'any'}")
    stdout.print(f"enabled      {'yes' if found.enabled else 'no'}")


@app.command("add")
def add_cli(
    name: Annotated[str, typer.Argument(help="A name for people (the client, the team).")],
    dialects: Annotated[
        str,
        typer.Option(help="Allowed APIs, comma-separated: native, jd, jumdata, iflytek, wecom."),
    ] = "native,jd,jumdata,iflytek,wecom",
    daily_quota: QuotaOpt = None,
    rps: RpsOpt = None,
    allow_ip: Annotated[
        list[str] | None,
        typer.Option("--allow-ip", help="Allowed client network (CIDR); repeatable; default any."),
    ] = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Create an app and print its new app_id and secret (shown only now).

    Limits of a new app unless given: 50,000 calls per UTC day and 50 requests per second (0 =
    unlimited, as everywhere in qinggan); change them later with `qinggan apps quota`."""
    store = open_store(db)
    try:
        created = store.add_app(
            name,
            dialects=[dialects],
            daily_quota=DEFAULT_DAILY_QUOTA if daily_quota is None else daily_quota,
            rps=DEFAULT_RPS if rps is None else rps,
            allow_ips=allow_ip or (),
        )
    except QingganError as exc:
        fail(str(exc))
    finally:
        store.close()
    _show(created, as_json=json_output, with_secret=True)


@app.command("list")
def list_cli(json_output: JsonOpt = False, db: DbOpt = None) -> None:
    """Every app with its limits and today's usage (secrets are never listed)."""
    store = open_store(db)
    try:
        rows = [(a, store.usage(a.app_id)) for a in store.list_apps()]
    finally:
        store.close()
    if json_output:
        print_json([{**a.to_dict(), "used_today": used} for a, used in rows])
        return
    from rich.table import Column, Table

    table = Table("name", "dialects", "daily quota", "used today", "rps", "IPs", "on")
    table.columns.insert(0, Column("app_id", no_wrap=True))
    for a, used in rows:
        table.add_row(
            a.app_id,
            a.name,
            ",".join(sorted(a.dialects)),
            _limit(a.daily_quota),
            str(used),
            _limit(a.rps),
            ",".join(a.allow_ips) or "any",
            "yes" if a.enabled else "no",
        )
    stdout.print(table)


AppIdArg = Annotated[str, typer.Argument(help="The app's id.")]


@app.command("remove")
def remove_cli(app_id: AppIdArg, db: DbOpt = None) -> None:
    """Delete an app and its counters."""
    store = open_store(db)
    try:
        removed = store.remove_app(app_id)
    finally:
        store.close()
    if not removed:
        fail(f"no app with id {app_id!r}")
    stdout.print(f"removed {app_id}")


@app.command("quota")
def quota_cli(
    app_id: AppIdArg,
    daily_quota: QuotaOpt = None,
    rps: RpsOpt = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Show an app's limits, or change them with --daily-quota / --rps."""
    store = open_store(db)
    try:
        changed = store.set_limits(app_id, daily_quota=daily_quota, rps=rps)
        used = store.usage(app_id)
    except QingganError as exc:
        fail(str(exc))
    finally:
        store.close()
    if json_output:
        print_json({**changed.to_dict(), "used_today": used})
        return
    _show(changed, as_json=False)
    stdout.print(f"used today   {used}")


def _set_enabled(app_id: str, enabled: bool, db: str | None) -> None:
    store = open_store(db)
    try:
        store.set_enabled(app_id, enabled)
    except QingganError as exc:
        fail(str(exc))
    finally:
        store.close()
    stdout.print(f"{'enabled' if enabled else 'disabled'} {app_id}")


@app.command("disable")
def disable_cli(app_id: AppIdArg, db: DbOpt = None) -> None:
    """Refuse every request of an app until it is enabled again."""
    _set_enabled(app_id, False, db)


@app.command("enable")
def enable_cli(app_id: AppIdArg, db: DbOpt = None) -> None:
    """Accept an app's requests again."""
    _set_enabled(app_id, True, db)
