"""The message archive: line checks, line numbers, idempotent re-import, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import qinggan
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


# -- WeCom's own archive shape, per-message validation, the app the messages belong to ---------
WECOM_LINES = [
    {
        "msgid": "w1",
        "action": "send",
        "from": "zhangsan",
        "tolist": ["kefu"],
        "roomid": "",
        "msgtime": 1547087894783,
        "msgtype": "text",
        "text": {"content": "非常满意，下次还会再来"},
    },
    {
        "msgid": "w2",
        "action": "send",
        "from": "lisi",
        "tolist": ["kefu"],
        "roomid": "room1",
        "msgtime": 1547087894784,
        "msgtype": "text",
        "text": {"content": "太差了，再也不来了"},
    },
    {
        "msgid": "w3",
        "msgtype": "voice",
        "from": "lisi",
        "voice": {
            "md5sum": "x",
            "voice_size": 6810,
            "play_length": 10,
            "sdkfileid": "f",
            "transcript": "谢谢，问题解决了",
        },
    },
    {
        "msgid": "w4",
        "msgtype": "meeting_voice_call",
        "meeting_voice_call": {"endtime": 1547087894, "sdkfileid": "f"},
    },
    {
        "msgid": "w5",
        "msgtype": "link",
        "link": {"title": "t", "description": "d", "link_url": "https://x", "image_url": ""},
    },
    {"msgid": "w6", "action": "switch", "time": 1554119421840, "user": "zhangsan"},
    {
        "msgid": "w7",
        "msgtype": "mixed",
        "mixed": {
            "item": [
                {"type": "text", "content": '{"content":"你好，东西收到了"}'},
                {"type": "image", "content": '{"md5sum":"x"}'},
            ]
        },
    },
]


def test_archive_reads_wecoms_own_message_shapes(tmp_path: Path) -> None:
    store = JobStore.open(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        lines = [json.dumps(obj, ensure_ascii=False) for obj in WECOM_LINES]
        report = import_lines(store, "acme", lines)
        assert report.inserted == 7 and report.bad == 0
        assert [(p.line, p.kind) for p in report.problems] == [
            (5, "unsupported"),
            (6, "unsupported"),
        ]
        w1, w2 = store.archived("acme", "w1"), store.archived("acme", "w2")
        assert w1 is not None and w1.text == "非常满意，下次还会再来" and w1.sender == "zhangsan"
        assert w1.conversation_id is None and w1.msgtime == 1547087894783
        assert w2 is not None and w2.conversation_id == "room1"
        w3, w4 = store.archived("acme", "w3"), store.archived("acme", "w4")
        assert w3 is not None and (w3.msgtype, w3.text) == ("voice", "谢谢，问题解决了")
        assert w4 is not None and (w4.msgtype, w4.text) == ("audio", None)  # no transcript
        w7 = store.archived("acme", "w7")
        assert w7 is not None and (w7.msgtype, w7.text) == ("text", "你好，东西收到了")
    finally:
        store.close()


def test_archive_a_hostile_message_is_reported_and_the_good_ones_kept(
    make_store: Callable[..., JobStore],
) -> None:
    """Lone surrogates, NUL, fields over the column widths and huge integers: each message is
    refused by line, on SQLite and PostgreSQL alike, and nothing good is rolled back."""
    store = make_store()
    org = org_name()
    good = {"msgid": "ok", "msgtype": "text", "content": "谢谢"}
    hostile = [
        {"msgid": "s1", "msgtype": "text", "content": "\ud800"},
        {"msgid": "s2\ud800", "msgtype": "text", "content": "好"},
        {"msgid": "s3", "msgtype": "text", "text": {"content": "好\udfff"}},
        {"msgid": "n1", "msgtype": "text", "content": "a\x00b"},
        {"msgid": "n2\x00", "msgtype": "text", "content": "好"},
        {"msgid": "n3", "msgtype": "text", "content": "好", "sender": "\x00"},
        {"msgid": "l1", "msgtype": "text", "content": "好", "conversation_id": "c" * 257},
        {"msgid": "l2", "msgtype": "text", "content": "好", "sender": "s" * 257},
        {"msgid": "l3", "msgtype": "t" * 33, "content": "好"},
        {"msgid": "i1", "msgtype": "text", "content": "好", "msgtime": 2**63},
        {"msgid": "i2", "msgtype": "text", "content": "好", "msgtime": -(2**63) - 1},
    ]
    lines = [
        json.dumps(good),
        *(json.dumps(h) for h in hostile),
        json.dumps({**good, "msgid": "ok2"}),
    ]
    report = import_lines(store, org, lines)
    assert (report.inserted, report.bad) == (2, len(hostile))
    assert [p.line for p in report.problems] == list(range(2, len(hostile) + 2))
    messages = [p.message for p in report.problems]
    assert "lone surrogate" in messages[0] and "msgid" in messages[1]
    assert "text.content" in messages[2] and "NUL" in messages[3]
    assert "conversation_id is longer than 256" in messages[6]
    assert "msgtype is longer than 32" in messages[8] and "64 bits" in messages[9]
    assert store.archived(org, "ok") is not None and store.archived(org, "ok2") is not None
    edge = {"msgid": "edge", "msgtype": "t" * 32, "sender": "s" * 256, "msgtime": 2**63 - 1}
    assert import_lines(store, org, [json.dumps(edge)]).inserted == 1  # the limits themselves


def _add_app(runner: CliRunner, db: str, name: str) -> dict[str, object]:
    added = runner.invoke(cli, ["apps", "add", name, "--db", db, "--json"])
    assert added.exit_code == 0, added.output
    created: dict[str, object] = json.loads(added.stdout)
    return created


def test_archive_cli_files_messages_under_the_only_app_or_asks_which(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'apps.db'}"
    runner = CliRunner()
    path = tmp_path / "wecom.jsonl"
    path.write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in WECOM_LINES) + "\n", encoding="utf-8"
    )
    shop = _add_app(runner, db, "shop")
    only = runner.invoke(cli, ["archive", "import", str(path), "--db", db, "--json"])
    assert only.exit_code == 0, only.output
    assert json.loads(only.stdout)["org"] == shop["app_id"]
    other = _add_app(runner, db, "other")
    ambiguous = runner.invoke(cli, ["archive", "import", str(path), "--db", db])
    assert ambiguous.exit_code == 2
    assert "--app" in ambiguous.stderr
    assert f"{shop['app_id']} (shop)" in ambiguous.stderr
    assert f"{other['app_id']} (other)" in ambiguous.stderr
    unknown = runner.invoke(cli, ["archive", "import", str(path), "--db", db, "--app", "nosuch"])
    assert unknown.exit_code == 2 and "no app with id 'nosuch'" in unknown.stderr
    chosen = runner.invoke(
        cli, ["archive", "import", str(path), "--db", db, "--app", str(other["app_id"]), "--json"]
    )
    assert chosen.exit_code == 0 and json.loads(chosen.stdout)["inserted"] == 7
    both = runner.invoke(
        cli, ["archive", "import", str(path), "--db", db, "--app", "x", "--org", "y"]
    )
    assert both.exit_code == 2 and "not both" in both.stderr


def test_archive_the_readme_path_reaches_the_wecom_jobs(
    tmp_path: Path, analyzer: qinggan.Analyzer
) -> None:
    """`apps add`, then `archive import FILE` with no flag, then WeCom's calls: results, not
    710602; a job over messages imported elsewhere says how to import them."""
    from fastapi.testclient import TestClient

    from qinggan.config import Settings
    from qinggan.jobs.model import JobSettings
    from qinggan.service.app import create_app

    db = f"sqlite:///{tmp_path / 'readme.db'}"
    runner = CliRunner()
    shop = _add_app(runner, db, "shop")
    path = tmp_path / "wecom.jsonl"
    path.write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in WECOM_LINES[:3]) + "\n",
        encoding="utf-8",
    )
    assert runner.invoke(cli, ["archive", "import", str(path), "--db", db]).exit_code == 0
    jobs = JobSettings(in_process_worker=True, poll_s=0.05)
    with TestClient(create_app(Settings(db_url=db), analyzer, jobs=jobs)) as client:
        token = client.get(
            "/cgi-bin/gettoken", params={"corpid": shop["app_id"], "corpsecret": shop["secret"]}
        ).json()["access_token"]

        def run(msgids: list[str]) -> dict[str, Any]:
            msg_list = [{"msgid": m, "encrypt_info": {"secret_key": ""}} for m in msgids]
            created = client.post(
                "/cgi-bin/chatdata/create_sentiment_task",
                params={"access_token": token},
                json={"msg_list": msg_list},
            )
            jobid = created.json()["jobid"]
            deadline = time.monotonic() + 30
            while True:
                answer: dict[str, Any] = client.post(
                    "/cgi-bin/chatdata/get_sentiment_result",
                    params={"access_token": token},
                    json={"jobid": jobid},
                ).json()
                if answer["status"] != 0 or time.monotonic() > deadline:
                    return answer
                time.sleep(0.05)

        done = run(["w1", "w2", "w3"])
        assert done["status"] == 1
        assert [i["errcode"] for i in done["analyze_result_list"]] == [0, 0, 0]
        assert [i["sentiment_result"] for i in done["analyze_result_list"]] == [1, 2, 1]
        missing = run(["elsewhere1", "elsewhere2"])
        item = missing["analyze_result_list"][0]
        assert item["errcode"] == 710602
        assert f"qinggan archive import FILE --app {shop['app_id']}" in item["errmsg"]
        key = f"{shop['app_id']}:{shop['secret']}"
        native = client.get("/api/v1/jobs", headers={"X-API-Key": key})
        assert native.status_code == 200
    store = JobStore.open(db)
    try:
        newest = store.list_jobs(limit=1)[0]
        view = store.get_job(newest.jobid)
        assert view is not None and view.hint is not None
        assert f"--app {shop['app_id']}" in view.hint and "hint" in view.to_dict()
    finally:
        store.close()
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"msg_list": [{"msgid": "nowhere"}]}), encoding="utf-8")
    submitted = runner.invoke(cli, ["jobs", "submit", str(task), "--db", db])
    assert submitted.exit_code == 0, submitted.output
    assert "no message of this job is in the archive" in submitted.stderr
    assert f"qinggan archive import FILE --app {shop['app_id']}" in submitted.stderr
