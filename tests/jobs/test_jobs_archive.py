"""The message archive: line checks, line numbers, idempotent re-import, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from qinggan.cli.main import app as cli
from qinggan.jobs.archive import import_file, import_lines
from qinggan.jobs.crypto import encrypt, new_key
from qinggan.jobs.store import JobStore

from .conftest import archive_lines, org_name


def _lines(key: str) -> list[str]:
    rows = [
        {"msgid": "t1", "msgtype": "text", "content": "谢谢", "sender": "a", "msgtime": 1},
        {"msgid": "t2", "msgtype": "text", "encrypted_content": encrypt(key, "好")},
        {"msgid": "v1", "msgtype": "voice", "transcript": "好的"},
        {"msgid": "v2", "msgtype": "audio"},
        {"msgid": "img", "msgtype": "image"},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    bad = [
        "not json",
        json.dumps({"msgtype": "text", "content": "x"}),
        json.dumps({"msgid": "b1", "msgtype": "text"}),
        json.dumps({"msgid": "b2", "msgtype": "text", "content": "x", "encrypted_content": "y"}),
        json.dumps({"msgid": "b3", "msgtype": "text", "encrypted_content": "!!"}),
        json.dumps({"msgid": "b4", "msgtype": "text", "content": "x", "msgtime": "noon"}),
        json.dumps(["msgid"]),
    ]
    return [*lines[:2], "", *bad[:3], *lines[2:], *bad[3:]]


def test_archive_bad_lines_are_numbered_and_the_rest_imported(tmp_path: Path) -> None:
    store = JobStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        org, key = org_name(), new_key()
        path = tmp_path / "archive.jsonl"
        path.write_text("\n".join(_lines(key)) + "\n", encoding="utf-8")
        report = import_file(store, org, path)
        assert (report.inserted, report.updated, report.unchanged) == (5, 0, 0)
        bad = [(p.line, p.kind) for p in report.problems]
        assert bad == [(4, "bad"), (5, "bad"), (6, "bad"), (9, "unsupported"),
                       (10, "bad"), (11, "bad"), (12, "bad"), (13, "bad")]  # fmt: skip
        assert "msgid" in report.problems[1].message
        stored = store.archived(org, "t2")
        assert stored is not None and stored.text is None and stored.encrypted is not None
        assert store.archived(org, "t1").sender == "a"  # type: ignore[union-attr]
        assert store.archived("another-org", "t1") is None
        again = import_file(store, org, path)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
        changed = import_lines(store, org, [json.dumps({"msgid": "t1", "msgtype": "text",
                                                         "content": "改了"})])  # fmt: skip
        assert (changed.inserted, changed.updated) == (0, 1)
    finally:
        store.close()


def test_archive_cli_import(tmp_path: Path, make_store: Callable[..., JobStore]) -> None:
    store = make_store()
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join([*archive_lines(3), "{oops"]) + "\n", encoding="utf-8")
    runner = CliRunner()
    args = ["archive", "import", str(path), "--db", store.url, "--org", "acme"]
    first = runner.invoke(cli, [*args, "--json"])
    assert first.exit_code == 1, first.output
    report = json.loads(first.stdout)
    assert report["inserted"] == 3 and report["problems"][0]["line"] == 4
    second = runner.invoke(cli, args)
    assert "0 new, 0 updated, 3 unchanged, 1 bad" in second.stdout
    assert f"{path}:4: bad" in second.stderr
