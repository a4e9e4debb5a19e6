"""`qinggan report aspects`: the corpus view over a bulk output (hand-made, known numbers) and over
plain texts (analysed on the fly: the same numbers as the library's results), as JSON, a terminal
table and a self-contained HTML page with plots."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from qinggan.errors import ConfigError
from qinggan.reports import AspectTally, aspect_report, render_html, report_from_results
from qinggan.reports.aspects import Mention
from tests.conftest import FIXTURES, run_cli

BULK = FIXTURES / "aspects_bulk.jsonl"
TEXTS = ["菜很好吃，但是服务太慢了", "房间很干净，就是价格有点贵", "请问几点开门", "服务员态度很好"]


def _bulk_as_csv(path: Path, delimiter: str = ",") -> Path:
    records = [json.loads(line) for line in BULK.read_text("utf-8").splitlines()]
    names = list(records[0])
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(names)
        for r in records:
            writer.writerow(["" if r[k] is None else r[k] for k in names])
    return path


def _numbers(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("input", "first_errors")}


def test_report_aspects_counts_a_bulk_output_exactly() -> None:
    report = aspect_report(BULK)
    assert report["source"] == "bulk"
    assert (report["rows"], report["rows_failed"]) == (7, 1)
    assert report["first_errors"] == [
        "line 6: the bulk run could not analyse it: the text is empty"
    ]
    assert (report["texts_with_opinions"], report["opinions"], report["implicit"]) == (5, 7, 1)
    assert report["polarity"] == {"positive": 4, "negative": 2, "neutral": 1}
    cats = {c["category"]: c for c in report["categories"]}
    assert [c["category"] for c in report["categories"]] == ["service", "food", "price", None]
    service = cats["service"]
    assert service["mentions"] == 3
    assert service["counts"] == {"positive": 1, "negative": 1, "neutral": 1}
    assert service["positive"] == service["negative"] == service["neutral"] == 0.3333
    assert {o["opinion"]: o["polarity"] for o in service["top_opinions"]} == {
        "太慢": "negative", "热情": "positive", "一般": "neutral",
    }  # fmt: skip
    assert service["top_aspects"] == [{"aspect": "服务", "count": 3}]
    assert (cats["food"]["positive"], cats["price"]["negative"]) == (1.0, 1.0)
    assert cats[None]["top_opinions"] == [{"opinion": "惊艳", "count": 1, "polarity": "positive"}]
    assert report["aspects_total"] == 3
    aspects = report["aspects"]
    assert [(a["aspect"], a["category"], a["mentions"]) for a in aspects] == [
        ("服务", "service", 3), ("菜", "food", 2), ("价格", "price", 1),
    ]  # fmt: skip
    assert aspects[1]["top_opinions"] == [{"opinion": "好吃", "count": 2, "polarity": "positive"}]
    assert report["most_criticised"] == [
        {"aspect": "价格", "category": "price", "count": 1, "mentions": 1, "share": 1.0,
         "opinions": [{"opinion": "太贵", "count": 1}]},
        {"aspect": "服务", "category": "service", "count": 1, "mentions": 3, "share": 0.3333,
         "opinions": [{"opinion": "太慢", "count": 1}]},
    ]  # fmt: skip
    assert [(e["aspect"], e["count"]) for e in report["most_praised"]] == [("菜", 2), ("服务", 1)]
    # examples: one per polarity first, each with its spans pointing at the terms
    assert {e["polarity"] for e in aspects[0]["examples"]} == {"positive", "negative", "neutral"}
    for entry in [*aspects, *report["categories"]]:
        for e in entry["examples"]:
            s, t = e["opinion_span"]
            assert e["text"][s:t] == e["opinion"]
            if e["aspect_span"] is not None:
                s, t = e["aspect_span"]
                assert e["text"][s:t] == e["aspect"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet"])
def test_report_aspects_reads_every_bulk_format_alike(tmp_path: Path, fmt: str) -> None:
    path = _bulk_as_csv(tmp_path / f"out.{fmt}", "\t" if fmt == "tsv" else ",")
    if fmt == "parquet":
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        records = [json.loads(line) for line in BULK.read_text("utf-8").splitlines()]
        pq.write_table(pa.Table.from_pylist(records), path)
    report = aspect_report(path)
    assert _numbers(report) == _numbers(aspect_report(BULK))
    assert report["first_errors"][0].startswith("row ")


def test_report_aspects_long_sentences_give_snippets_around_the_spans() -> None:
    text = "开头" * 50 + "服务太慢了" + "结尾" * 50
    s = text.index("服务")
    tally = AspectTally(examples=1)
    tally.add(text, [Mention("服务", "太慢", "negative", "service", (s, s + 2), (s + 2, s + 4))])
    example = tally.result()["aspects"][0]["examples"][0]
    assert example["text"].startswith("…") and example["text"].endswith("…")
    assert len(example["text"]) < 90
    a, b = example["aspect_span"]
    assert (
        example["text"][a:b] == "服务"
        and example["text"][slice(*example["opinion_span"])] == "太慢"
    )


def test_report_aspects_limits_and_bad_settings() -> None:
    tally = AspectTally(top=1, top_opinions=1, examples=0)
    for word, n in (("服务", 3), ("菜", 1)):
        for i in range(n):
            tally.add(f"{word}好{i}", [Mention(word, "好", "positive", None)])
    report = tally.result()
    assert [a["aspect"] for a in report["aspects"]] == ["服务"] and report["aspects_total"] == 2
    assert report["aspects"][0]["examples"] == []
    with pytest.raises(ConfigError, match="at least 1"):
        AspectTally(top=0)


def test_report_aspects_html_is_self_contained_with_plots() -> None:
    page = render_html(aspect_report(BULK), title="Aspect opinions: test")
    for ident in ("plot-mentions", "plot-shares", "plot-aspects"):
        assert f'<figure id="{ident}">' in page
    assert page.count("<svg") == 3
    # mentions per category: bars in proportion (service 3, food 2, price 1, uncategorised 1)
    mentions = page.split('id="plot-mentions"')[1].split("</figure>")[0]
    widths = [int(w) for w in re.findall(r'<rect class="bar"[^>]* width="(\d+)"', mentions)]
    assert len(widths) == 4 and widths[0] > widths[1] > widths[2] == widths[3]
    assert widths[0] == pytest.approx(1.5 * widths[1], abs=1)
    shares = page.split('id="plot-shares"')[1].split("</figure>")[0]
    assert shares.count('class="negative"') == 2  # service and price have complaints
    for category in ("service", "food", "price", "(uncategorised)"):
        assert f"<b>{category}</b>" in page
    assert '<mark class="aspect">服务</mark><mark class="opinion negative">太慢</mark>' in page
    criticised = page.split('id="most-criticised"')[1].split("</section>")[0]
    assert criticised.index("价格") < criticised.index("服务") and "太慢" in criticised
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "line 6" in page  # the skipped row is listed

    class Balance(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag not in {"meta", "br", "img", "input", "link", "hr"}:
                self.open.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"

    parser = Balance()
    parser.feed(page)
    assert parser.open == []


def test_report_aspects_html_escapes_terms() -> None:
    page = render_html(
        report_from_results(
            [_Result("<b>屏幕</b>很好", [_Opinion("<b>屏幕</b>", (0, 9), "很好", (9, 11))])]
        )
        | {"input": "x", "source": "texts"}
    )
    assert "<b>屏幕</b>很好" not in page and "&lt;b&gt;屏幕&lt;/b&gt;" in page


class _Opinion:
    def __init__(self, aspect: str, aspect_span: Any, opinion: str, opinion_span: Any) -> None:
        self.aspect, self.aspect_span = aspect, aspect_span
        self.opinion, self.opinion_span = opinion, opinion_span
        self.polarity, self.category = "positive", "screen"


class _Result:
    def __init__(self, text: str, opinions: list[_Opinion]) -> None:
        self.text, self.opinions = text, tuple(opinions)


def test_cli_report_aspects_json_table_and_html(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    proc = run_cli("report", "aspects", str(BULK), "--json", "--html", str(page))
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert _numbers(report) == _numbers(aspect_report(BULK))
    assert "line 6" in proc.stderr.decode()
    assert page.read_text("utf-8").count("<svg") == 3
    proc = run_cli("report", "aspects", str(BULK), "--top", "2")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "categories" in out and "aspect terms (top 2 of 3)" in out and "服务" in out
    assert "most criticised: 价格 1/1 (太贵); 服务 1/3 (太慢)" in out
    assert "价格" in out  # in the categories table, though not among the top 2 terms


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        ("missing.jsonl", None, (), "does not exist"),
        ("texts.doc", "好", (), "cannot tell the format"),
        ("texts.csv", "id,body\n1,好\n", (), "column 'text' is not in the header"),
        ("texts.jsonl", "not json\n", (), "no text of"),
        ("texts.txt", "好\n", ("--top", "0"), "at least 1"),
    ],
)
def test_cli_report_aspects_bad_input_exits_2(
    tmp_path: Path, name: str, content: str | None, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, "utf-8")
    proc = run_cli("report", "aspects", str(path), *args)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert message in err and "Traceback" not in err


# -- texts analysed on the fly (the shipped aspect model) -------------------------------------
def test_report_aspects_on_texts_equals_the_library_results(tmp_path: Path, analyzer: Any) -> None:
    path = tmp_path / "reviews.jsonl"
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in TEXTS] + ['{"id": 5}']
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = aspect_report(path, analyzer=analyzer, batch_size=2)
    assert report["source"] == "texts" and report["rows"] == 5 and report["rows_failed"] == 1
    assert report["first_errors"] == ["line 5: the 'text' field is missing or null"]
    expected = report_from_results(analyzer.aspects_batch(TEXTS))
    assert {k: report[k] for k in expected if k not in ("rows", "rows_failed", "first_errors")} == {
        k: v for k, v in expected.items() if k not in ("rows", "rows_failed", "first_errors")
    }
    assert report["opinions"] >= 2  # 菜很好吃，但是服务太慢了 alone holds two
