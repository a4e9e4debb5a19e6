"""`qinggan jobs submit|status|results|list|purge`: sentiment jobs without an HTTP client."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qinggan.cli.archive import AppOpt, DbOpt, OrgOpt, open_job_store, resolve_org
from qinggan.cli.common import fail, print_json, stderr, stdout
from qinggan.errors import QingganError

if TYPE_CHECKING:
    from qinggan.jobs.model import TaskItem
    from qinggan.jobs.store import JobStore

app = typer.Typer(help="Sentiment jobs over the message archive.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
JobArg = Annotated[str, typer.Argument(help="The job id.")]


def parse_task(data: Any) -> tuple[list[TaskItem], list[dict[str, Any]]]:
    """Distinct task items (first occurrence wins) and the repeats, from ``{"msg_list": [...]}``
    or a plain list of ``{"msgid", "encrypt_info": {"secret_key"}}`` (or ``"secret_key"``)."""
    from qinggan.jobs.model import MAX_MESSAGES, MAX_MSGID_CHARS, InvalidTask, TaskItem

    msg_list = data.get("msg_list") if isinstance(data, dict) else data
    if not isinstance(msg_list, list) or not msg_list:
        raise InvalidTask("expected a non-empty msg_list")
    if len(msg_list) > MAX_MESSAGES:
        raise InvalidTask(f"a job holds at most {MAX_MESSAGES} messages, got {len(msg_list)}")
    items: dict[str, TaskItem] = {}
    repeats = []
    for index, entry in enumerate(msg_list):
        msgid = entry.get("msgid") if isinstance(entry, dict) else None
        if not isinstance(msgid, str) or not msgid.strip() or len(msgid) > MAX_MSGID_CHARS:
            raise InvalidTask(f"msg_list[{index}]: msgid is missing or invalid")
        info = entry.get("encrypt_info")
        key = info.get("secret_key") if isinstance(info, dict) else entry.get("secret_key", "")
        if not isinstance(key, str):
            raise InvalidTask(f"msg_list[{index}]: secret_key must be a string")
        if msgid in items:
            repeats.append({"msgid": msgid, "problem": "duplicate"})
        else:
            items[msgid] = TaskItem(msgid, key)
    return list(items.values()), repeats


def _read_task(file: Path) -> Any:
    raw = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:  # JSON lines
        return [json.loads(line) for line in raw.splitlines() if line.strip()]
    except ValueError:
        fail(f"{file}: neither JSON nor JSON lines")


def wait_for(store: JobStore, jobid: str, *, poll_s: float = 0.25, timeout: float | None = None):  # type: ignore[no-untyped-def]
    """Poll until the job is finished; a progress bar on a terminal, silent otherwise."""
    deadline = None if timeout is None else time.monotonic() + timeout
    show = stderr.is_terminal
    progress = None
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        )
        progress.start()
    try:
        task = None
        while True:
            summary = store.summary(jobid)
            if summary is None:
                fail(f"no job with id {jobid!r}")
            if progress is not None:
                if task is None:
                    task = progress.add_task(f"job {jobid[:8]}", total=summary.total)
                progress.update(task, completed=summary.resolved)
            if summary.status.finished:
                return summary
            if deadline is not None and time.monotonic() > deadline:
                fail(f"job {jobid} still running after {timeout} s", 1)
            time.sleep(poll_s)
    finally:
        if progress is not None:
            progress.stop()


@app.command("submit")
def submit_cli(
    file: Annotated[
        Path, typer.Argument(help="JSON {msg_list: [...]}, a JSON list or JSON lines; - = stdin")
    ],
    app_id: AppOpt = None,
    org: OrgOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job is done.")] = False,
    timeout: Annotated[float | None, typer.Option(help="Most seconds to --wait.")] = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Create a job over up to 1000 archived messages of --app (default: the only app); prints
    its id (and the repeats)."""
    from qinggan.jobs.model import JobError

    data = _read_task(file)
    chosen = resolve_org(db, org, app_id)
    store = open_job_store(db)
    try:
        try:
            items, repeats = parse_task(data)
            created = store.create_job(chosen, items)
        except JobError as exc:
            fail(str(exc))
        summary = wait_for(store, created.jobid, timeout=timeout) if wait else None
        view = store.get_job(created.jobid)
    finally:
        store.close()
    hint = view.hint if view is not None else None
    if json_output:
        out: dict[str, Any] = {"jobid": created.jobid, "total": created.total}
        out["fail_list"] = repeats
        if view is not None and wait:
            out.update(view.to_dict())
        elif hint is not None:
            out["hint"] = hint
        print_json(out)
        return
    stdout.print(created.jobid)
    for repeat in repeats:
        stderr.print(f"repeated msgid {repeat['msgid']!r}: the first occurrence is used")
    if summary is not None:
        stderr.print(f"{summary.status.value}: {summary.resolved}/{summary.total} resolved")
    if hint is not None:
        stderr.print(f"warning: {hint}", markup=False)


@app.command("status")
def status_cli(jobid: JobArg, json_output: JsonOpt = False, db: DbOpt = None) -> None:
    """A job's status and progress."""
    store = open_job_store(db)
    try:
        summary = store.summary(jobid)
    finally:
        store.close()
    if summary is None:
        fail(f"no job with id {jobid!r}")
    if json_output:
        print_json(summary.to_dict())
    else:
        stdout.print(
            f"{summary.jobid}  {summary.status.value}  {summary.resolved}/{summary.total} "
            f"resolved  org {summary.org}"
        )


@app.command("results")
def results_cli(
    jobid: JobArg,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the job is done.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write JSON lines here.")] = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Every message of a job: its sentiment, or why there is none (yet)."""
    store = open_job_store(db)
    try:
        if wait:
            wait_for(store, jobid)
        view = store.get_job(jobid)
    except QingganError as exc:
        fail(str(exc))
    finally:
        store.close()
    if view is None:
        fail(f"no job with id {jobid!r}")
    if output is not None:
        with output.open("w", encoding="utf-8") as sink:
            for item in view.items:
                sink.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
        stderr.print(f"wrote {len(view.items)} results to {output}")
    if json_output:
        print_json(view.to_dict())
    elif output is None:
        stdout.print(f"{view.summary.jobid}  {view.status.value}")
        if view.hint is not None:
            stderr.print(f"warning: {view.hint}", markup=False)
        for item in view.items:
            if item.sentiment is not None:
                stdout.print(f"{item.msgid}\t{item.sentiment.value}\t{item.confidence:.3f}")
            elif item.problem is not None:
                stdout.print(f"{item.msgid}\terror\t{item.problem.value}")
            else:
                stdout.print(f"{item.msgid}\tpending")


@app.command("list")
def list_cli(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N jobs.")] = 50,
    json_output: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """The newest jobs with their status and progress."""
    store = open_job_store(db)
    try:
        jobs = store.list_jobs(org=org, limit=limit)
    finally:
        store.close()
    if json_output:
        print_json([job.to_dict() for job in jobs])
        return
    from datetime import UTC, datetime

    from rich.table import Table

    table = Table("jobid", "org", "status", "resolved", "created (UTC)")
    for job in jobs:
        created = datetime.fromtimestamp(job.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(job.jobid, job.org, job.status.value, f"{job.resolved}/{job.total}", created)
    stdout.print(table)


@app.command("purge")
def purge_cli(json_output: JsonOpt = False, db: DbOpt = None) -> None:
    """Delete the jobs past their retention (QINGGAN_JOBS_RETENTION_DAYS, default 7) now."""
    store = open_job_store(db)
    try:
        report = store.purge()
    finally:
        store.close()
    if json_output:
        print_json({"jobs": report.jobs, "items": report.items})
    else:
        stdout.print(f"purged {report.jobs} jobs ({report.items} items)")
