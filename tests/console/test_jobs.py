"""The Jobs tab in a real Chromium: paste or upload, import in chunks, native jobs, progress,
results and downloads, past jobs; and the upload parser against Python's csv module."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from qinggan.service.store import AppStore
from tests.console.conftest import Console, screenshot, sign_in

PASTE = "或粘贴"  # the paste box's label starts so


def _open_jobs(page: Any, console: Console, app_id: str = "", secret: str = "") -> None:
    sign_in(page, console, app_id, secret)
    page.get_by_role("tab", name="任务").click()
    page.locator("#job-quota:not(:empty)").wait_for()


def _wait_until_done(page: Any) -> Any:
    from playwright.sync_api import expect

    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=20_000)
    assert progress.get_attribute("data-done") == progress.get_attribute("data-total")
    return progress


def _download(page: Any, name: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    return Path(info.value.path()).read_text(encoding="utf-8-sig")


def _unnamed_controls(page: Any) -> list[str]:
    """Visible inputs and buttons without a label, aria-label or text."""
    script = """() => [...document.querySelectorAll('input, button, select, textarea')]
      .filter(x => x.checkVisibility())
      .filter(x => !(x.labels && x.labels.length) && !x.getAttribute('aria-label')
                   && !(x.tagName === 'BUTTON' && x.textContent.trim()))
      .map(x => x.outerHTML)"""
    return list(page.evaluate(script))


def test_jobs_import_reports_counts(page: Any, console_server: Console) -> None:
    _open_jobs(page, console_server)
    lines = [
        {"msgid": "C1", "msgtype": "text", "content": "谢谢，问题解决了", "conversation_id": "c"},
        {"msgid": "C2", "msgtype": "text", "content": "太差了", "conversation_id": "c"},
        {"msgtype": "text", "content": "no msgid"},
    ]
    page.get_by_label(PASTE).fill("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    page.get_by_role("button", name="导入").click()
    page.locator("#import-result table").wait_for()
    cell = page.locator("#import-result td")
    assert cell.and_(page.locator("[data-k=read]")).inner_text() == "3"
    assert cell.and_(page.locator("[data-k=bad]")).inner_text() == "1"
    problems = page.locator("#import-result li")
    assert problems.count() == 1 and problems.first.get_attribute("data-line") == "3"
    assert "第 3 行" in problems.first.inner_text()
    assert "可分析的消息：2" in page.locator("#job-ready").inner_text()
    assert _unnamed_controls(page) == []
    screenshot(page, "jobs")


def test_jobs_paste_messages_run_and_download(page: Any, console_server: Console) -> None:
    _open_jobs(page, console_server)
    lines = [
        {"msgid": "J1", "msgtype": "text", "content": "非常满意，下次还会再来"},
        {"msgid": "J2", "msgtype": "text", "content": "气死我了，我要投诉你们"},
        {"msgid": "J3", "msgtype": "image"},
    ]
    jsonl = "\n".join(json.dumps({**x, "conversation_id": "j"}, ensure_ascii=False) for x in lines)
    page.get_by_label(PASTE).fill(jsonl)
    page.get_by_role("button", name="导入").click()
    page.get_by_role("button", name="开始任务").click()
    assert "3/3" in _wait_until_done(page).inner_text()
    rows = page.locator("#job-results tr[data-msgid]")
    assert rows.count() == 3
    cells = {
        msgid: page.locator(f"#job-results tr[data-msgid={msgid}] [data-k=sentiment]").inner_text()
        for msgid in ("J1", "J2")
    }
    assert cells == {"J1": "positive", "J2": "negative"}
    text = page.locator("#job-results tr[data-msgid=J1] [data-k=text]").inner_text()
    assert text == "非常满意，下次还会再来"
    results = [json.loads(x) for x in _download(page, "下载 JSONL").splitlines() if x.strip()]
    assert [r["msgid"] for r in results] == ["J1", "J2", "J3"]
    assert results[0]["sentiment"] == "positive" and 0 <= results[0]["confidence"] <= 1
    assert results[2]["problem"] == "unsupported_type" and "sentiment" not in results[2]
    screenshot(page, "job-results")


CSV_ROWS = [
    ("1", "非常满意，下次还会再来"),
    ("2", '他说："太差了，再也不来了"\n第二行，还有逗号'),
    ("3", "质量很好，物流也快，好评"),
    ("4", "服务态度恶劣，房间又脏又吵"),
]


def _csv_upload() -> bytes:
    """The texts of CSV_ROWS as a CSV file: BOM, CRLF, quotes, and an empty row on line 4."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "text"])
    writer.writerows(CSV_ROWS[:2])
    body = out.getvalue() + "\r\n"  # line 5: the second row spans lines 3-4, so 5 is empty
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(CSV_ROWS[2:])
    return ("\ufeff" + body + out.getvalue()).encode("utf-8")


def test_jobs_csv_upload_results_downloads_and_past_jobs(
    page: Any, console_server: Console
) -> None:
    _open_jobs(page, console_server)
    page.set_input_files(
        "#upload-file",
        files=[{"name": "texts.csv", "mimeType": "text/csv", "buffer": _csv_upload()}],
    )
    page.get_by_role("button", name="导入").click()
    page.locator("#import-result table").wait_for()
    assert page.locator("#import-result [data-k=read]").inner_text() == "5"
    assert page.locator("#import-result [data-k=bad]").inner_text() == "1"
    assert page.locator("#import-result li").all_inner_texts() == ["第 5 行：空行"]
    page.get_by_role("button", name="开始任务").click()
    _wait_until_done(page)
    msgids = page.locator("#job-results tr[data-msgid]").evaluate_all(
        "rows => rows.map(r => r.dataset.msgid)"
    )
    upload_id = msgids[0].rsplit("-", 1)[0]
    assert msgids == [f"{upload_id}-{i}" for i, _ in CSV_ROWS]
    texts = [text for _, text in CSV_ROWS]
    expected = console_server.post("polarity", {"texts": texts}).json()["results"]
    shown = page.locator("#job-results [data-k=sentiment]").all_inner_texts()
    assert shown == [r["label"] for r in expected]
    quoted = page.locator(f"#job-results tr[data-msgid={upload_id}-2] [data-k=text]")
    assert quoted.inner_text() == CSV_ROWS[1][1]
    screenshot(page, "job-upload")

    rows = list(csv.DictReader(io.StringIO(_download(page, "下载 CSV"), newline="")))
    assert [(r["msgid"], r["text"], r["sentiment"]) for r in rows] == [
        (f"{upload_id}-{i}", text, r["label"])
        for (i, text), r in zip(CSV_ROWS, expected, strict=True)
    ]
    lines = [json.loads(x) for x in _download(page, "下载 JSONL").splitlines() if x.strip()]
    assert [(x["msgid"], x["text"]) for x in lines] == [(r["msgid"], r["text"]) for r in rows]

    jobid = page.locator("#job-view").get_attribute("data-jobids")
    assert jobid == _newest_job(console_server)
    page.reload()  # forget the page's memory: the past job comes back from the server alone
    page.get_by_role("tab", name="任务").click()
    past = page.locator(f"#past-jobs tr[data-jobid='{jobid}']")
    assert past.get_attribute("data-status") == "done"
    assert past.locator("[data-k=progress]").inner_text() == "4/4"
    past.get_by_role("button", name=f"打开任务 {jobid}").click()
    _wait_until_done(page)
    again = page.locator("#job-results [data-k=sentiment]").all_inner_texts()
    assert again == shown
    assert page.get_by_role("link", name="下载 CSV").is_visible()
    screenshot(page, "past-jobs")


def test_jobs_many_texts_import_in_chunks_and_run_as_several_jobs(
    page: Any, console_server: Console
) -> None:
    _open_jobs(page, console_server)
    texts = [f"第{i}条：{'很好' if i % 2 else '太差了'}" for i in range(1, 1002)]
    page.get_by_label(PASTE).fill("\n".join(texts))  # not JSON: one text per line
    posted: list[tuple[str, int]] = []  # (path, messages) of each POST the page sends

    def count_posted(request: Any) -> None:
        if request.method == "POST":
            path = request.url.split("/api/v1/")[-1]
            posted.append((path, len(request.post_data_json["messages"])))

    page.on("request", count_posted)
    page.get_by_role("button", name="导入").click()
    page.locator("#job-ready:has-text('1001')").wait_for()
    assert posted == [("archive/import", 500), ("archive/import", 500), ("archive/import", 1)]
    page.get_by_role("button", name="开始任务").click()
    progress = _wait_until_done(page)
    assert posted[3:] == [("jobs", 1000), ("jobs", 1)]
    assert progress.get_attribute("data-total") == "1001"
    assert "（2 个任务）" in progress.inner_text()
    assert page.locator("#job-results tr[data-msgid]").count() == 200
    assert page.locator("#job-more").inner_text() == "只显示前 200 行，另有 801 行在下载文件里。"
    lines = [json.loads(x) for x in _download(page, "下载 JSONL").splitlines() if x.strip()]
    assert [x["text"] for x in lines] == texts
    assert all(x["sentiment"] in {"positive", "negative", "neutral"} for x in lines)


def _newest_job(console: Console) -> str:
    answer = httpx.get(f"{console.base_url}/api/v1/jobs", headers=console.headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["jobs"][0]["jobid"])


def test_jobs_one_app_never_sees_another_apps_jobs(page: Any, console_server: Console) -> None:
    store = AppStore.open(console_server.db_url)
    try:
        other = store.add_app("other", dialects=["native"], daily_quota=1000, rps=0)
    finally:
        store.close()
    imported = console_server.post(
        "archive/import", {"messages": [{"msgid": "S1", "msgtype": "text", "content": "好"}]}
    )
    assert imported.status_code == 200, imported.text
    created = console_server.post("jobs", {"messages": [{"msgid": "S1"}]})
    assert created.status_code == 200, created.text
    jobid = created.json()["jobid"]

    _open_jobs(page, console_server, other.app_id, other.secret)
    assert page.locator("#past-jobs").inner_text() == "还没有任务"
    assert page.locator("#past-jobs tr[data-jobid]").count() == 0
    theirs = httpx.get(
        f"{console_server.base_url}/api/v1/jobs/{jobid}",
        headers={"X-API-Key": f"{other.app_id}:{other.secret}"},
    )
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "unknown_job"
    mine = httpx.get(
        f"{console_server.base_url}/api/v1/jobs/{jobid}", headers=console_server.headers
    )
    assert mine.status_code == 200


# -- the upload parser (upload.js) in the page ---------------------------------------------------
TABLES = [
    'a,b\r\n1,"x, y"\r\n2,"say ""hi"""\r\n',
    'id,text\n1,"two\nlines"\n\n3,last',
    "\ufeffid,text\n1,no newline at the end",
    'a,b\n"",""\n,\n',
    "x\ty\n1\t2\n",
]


@pytest.mark.parametrize("text", TABLES)
def test_upload_parser_reads_csv_as_python_does(
    page: Any, console_server: Console, text: str
) -> None:
    page.goto(console_server.base_url + "/")
    delimiter = "\t" if "\t" in text else ","
    script = """async ([text, delimiter]) => {
      const { parseDelimited } = await import('/console/upload.js');
      return parseDelimited(text, delimiter);
    }"""
    got = page.evaluate(script, [text, delimiter])
    assert "error" not in got
    want = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))
    assert [row["fields"] for row in got["rows"]] == [row or [""] for row in want]
    starts, line = [], 1
    for row in want:  # the line each row starts on: 1 + newlines in the rows before it
        starts.append(line)
        line += 1 + sum(field.count("\n") for field in row)
    assert [row["line"] for row in got["rows"]] == starts


def test_upload_reports_bad_lines_and_keeps_the_rest(page: Any, console_server: Console) -> None:
    page.goto(console_server.base_url + "/")
    script = """async ([text, kind]) => {
      const { readUpload } = await import('/console/upload.js');
      const got = readUpload(text, kind, 'U');
      return { messages: got.messages.map(m => [m.line, m.message]),
               problems: got.problems.map(p => [p.line, p.key]) };
    }"""
    jsonl = '{"text": "好"}\nnot json\n\n{"msgid": "M", "msgtype": "image"}\n[1]\n{"id": 7}\n'
    got = page.evaluate(script, [jsonl, "jsonl"])
    assert got["messages"] == [
        [1, {"msgid": "U-1", "msgtype": "text", "content": "好"}],
        [4, {"msgid": "M", "msgtype": "image"}],
    ]
    assert got["problems"] == [[2, "notJson"], [5, "notObject"], [6, "notMessageOrText"]]
    table = 'msgid,msgtype,content,msgtime\r\nA,text,"好,的",17\r\nA,text,again,\r\nB,text\r\n'
    got = page.evaluate(script, [table, "csv"])
    assert got["messages"] == [
        [2, {"msgid": "A", "msgtype": "text", "content": "好,的", "msgtime": 17}]
    ]
    assert got["problems"] == [[3, "duplicateId"], [4, "fieldCount"]]
    got = page.evaluate(script, ['text\n"open', "csv"])
    assert got["problems"] == [[2, "unclosedQuote"]]
    got = page.evaluate(script, ["一\r\n\r\n二", "txt"])
    assert [m[1]["content"] for m in got["messages"]] == ["一", "二"]
    assert [m[0] for m in got["messages"]] == [1, 3]


def test_upload_decodes_utf8_and_gb18030(page: Any, console_server: Console) -> None:
    page.goto(console_server.base_url + "/")
    script = """async (bytes) => {
      const { decodeText } = await import('/console/upload.js');
      return decodeText(new Uint8Array(bytes));
    }"""
    text = "编号,文本\n1,很好"
    for raw in (text.encode("gb18030"), "\ufeff".encode() + text.encode(), text.encode()):
        assert page.evaluate(script, list(raw)) == text
