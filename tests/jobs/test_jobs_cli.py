"""`qinggan jobs submit|status|results|list|purge` and `qinggan worker` over one database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qinggan.cli.main import app as cli

from .conftest import archive_lines


def test_cli_jobs_round_trip(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    archive = tmp_path / "a.jsonl"
    archive.write_text("\n".join(archive_lines(4)) + "\n", encoding="utf-8")
    assert runner.invoke(cli, ["archive", "import", str(archive), "--db", db]).exit_code == 0
    task = tmp_path / "task.json"
    msg_list = [{"msgid": f"m{i}", "encrypt_info": {"secret_key": ""}} for i in (0, 1, 1, 2)]
    task.write_text(json.dumps({"msg_list": msg_list}), encoding="utf-8")
    submitted = runner.invoke(cli, ["jobs", "submit", str(task), "--db", db, "--json"])
    assert submitted.exit_code == 0, submitted.output
    created = json.loads(submitted.stdout)
    jobid = created["jobid"]
    assert created["total"] == 3 and created["fail_list"] == [
        {"msgid": "m1", "problem": "duplicate"}
    ]
    checked = runner.invoke(cli, ["jobs", "status", jobid, "--db", db, "--json"])
    assert checked.exit_code == 0, (checked.output, repr(checked.exception))
    status = json.loads(checked.stdout)
    assert (status["status"], status["resolved"]) == ("running", 0)
    worked = runner.invoke(cli, ["worker", "--db", db, "--until-idle", "--json"])
    assert worked.exit_code == 0 and '"written": 3' in worked.stdout
    out = tmp_path / "results.jsonl"
    results = runner.invoke(cli, ["jobs", "results", jobid, "--db", db, "--output", str(out)])
    assert results.exit_code == 0, results.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["sentiment"] for r in rows] == ["positive", "negative", "positive"]
    waited = runner.invoke(cli, ["jobs", "results", jobid, "--wait", "--db", db, "--json"])
    assert json.loads(waited.stdout)["status"] == "done"
    listed = json.loads(runner.invoke(cli, ["jobs", "list", "--db", db, "--json"]).stdout)
    assert [j["jobid"] for j in listed] == [jobid]
    assert "purged 0 jobs" in runner.invoke(cli, ["jobs", "purge", "--db", db]).stdout
    missing = runner.invoke(cli, ["jobs", "status", "nosuch", "--db", db])
    assert missing.exit_code == 2 and "no job" in missing.stderr
    empty = tmp_path / "empty.json"
    empty.write_text('{"msg_list": []}', encoding="utf-8")
    refused = runner.invoke(cli, ["jobs", "submit", str(empty), "--db", db])
    assert refused.exit_code == 2 and "non-empty" in refused.stderr
