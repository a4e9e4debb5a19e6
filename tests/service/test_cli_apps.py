from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qinggan.cli.main import app

runner = CliRunner()


def test_cli_apps_life_cycle(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'apps.db'}"
    added = runner.invoke(
        app,
        ["apps", "add", "shop", "--dialects", "jd,native", "--daily-quota", "10", "--rps", "5",
         "--allow-ip", "10.0.0.0/8", "--json", "--db", db],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    created = json.loads(added.stdout)
    assert {"app_id", "secret"} <= set(created) and created["dialects"] == ["jd", "native"]
    listed = json.loads(runner.invoke(app, ["apps", "list", "--json", "--db", db]).stdout)
    assert [a["app_id"] for a in listed] == [created["app_id"]]
    assert "secret" not in listed[0] and listed[0]["used_today"] == 0
    quota = runner.invoke(
        app, ["apps", "quota", created["app_id"], "--rps", "0", "--json", "--db", db]
    )
    assert json.loads(quota.stdout)["rps"] is None and json.loads(quota.stdout)["daily_quota"] == 10
    assert runner.invoke(app, ["apps", "disable", created["app_id"], "--db", db]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["apps", "list", "--json", "--db", db]).stdout)
    assert listed[0]["enabled"] is False
    assert runner.invoke(app, ["apps", "enable", created["app_id"], "--db", db]).exit_code == 0
    assert runner.invoke(app, ["apps", "remove", created["app_id"], "--db", db]).exit_code == 0
    missing = runner.invoke(app, ["apps", "remove", created["app_id"], "--db", db])
    assert missing.exit_code == 2 and "no app" in missing.output


def test_cli_apps_bad_values_are_clear(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'apps.db'}"
    bad = runner.invoke(app, ["apps", "add", "x", "--dialects", "baidu", "--db", db])
    assert bad.exit_code == 2 and "unknown dialect" in bad.output
    bad = runner.invoke(app, ["apps", "list", "--db", "mysql://x@h/db"])
    assert bad.exit_code == 2 and "unsupported database" in bad.output
    bad = runner.invoke(app, ["apps", "quota", "nope", "--db", db])
    assert bad.exit_code == 2 and "no app" in bad.output
