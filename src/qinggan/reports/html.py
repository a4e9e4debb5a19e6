"""The aspect report as one self-contained HTML page: no script, no external file, plots as inline
SVG (drawn here, so the browser's own fonts draw the Chinese terms and nothing needs matplotlib).

Sections, in the order a product manager reads them: the headline numbers, the plots (mentions per
category; positive / negative / neutral share per category; the most mentioned aspect terms), the
categories table and the aspect terms table, each with its top opinion terms and example sentences
(aspect and opinion highlighted).
"""

from __future__ import annotations

from html import escape
from typing import Any

from qinggan.absa.spans import char_marks, mark_runs
from qinggan.reports.aspects import POLARITIES

COLOURS = {"positive": "#1f9d55", "negative": "#d64545", "neutral": "#9aa3b2"}
UNCATEGORISED = "(uncategorised)"
BAR_ROW = 26  # px per bar in the plots
LABEL_W = 150
PLOT_W = 640

_STYLE = """
body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;margin:0;background:#f6f7f9;color:#1d2330;line-height:1.45}
main{max-width:1040px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.4rem 0}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{background:#fff;border:1px solid #d9dde5;border-radius:8px;padding:.6rem 1rem;flex:1 1 8rem}
.cards b{display:block;font-size:1.5rem}.cards span{color:#5b6475;font-size:.85rem}
figure{background:#fff;border:1px solid #d9dde5;border-radius:8px;margin:.6rem 0;padding:.6rem;
overflow-x:auto}figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font-size:12px;fill:#1d2330}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid #d9dde5;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
.pos{color:#1f9d55}.neg{color:#d64545}.neu{color:#6b7383}
.share{display:flex;height:.7rem;min-width:6rem;border-radius:3px;overflow:hidden;background:#eef0f4}
.share i{display:block;height:100%}
mark.aspect{background:#dbe6fb;border-bottom:2px solid #2857c5;padding:0 1px}
mark.opinion{padding:0 1px}mark.positive{background:#d5f0df}mark.negative{background:#f8d9d9}
mark.neutral{background:#e6e8ec}
ul.ex{margin:0;padding-left:1.1rem}ul.ex li{margin:.15rem 0}
.muted{color:#5b6475;font-size:.85rem}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:.6rem;margin-top:.6rem}
.two h2{margin:.2rem 0}.two ol{margin:.3rem 0;padding-left:1.4rem}
#most-criticised h2{color:#d64545}#most-praised h2{color:#1f9d55}
"""


def render_html(report: dict[str, Any], title: str = "Aspect opinions") -> str:
    """The page for a report of :func:`~qinggan.reports.aspects.aspect_report`."""
    categories = report["categories"]
    aspects = report["aspects"]
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{escape(str(report.get("input", "")))}'
        f"{' (bulk output)' if report.get('source') == 'bulk' else ''}</p>",
        _cards(report),
    ]
    if report.get("most_criticised") or report.get("most_praised"):
        parts.append(
            '<div class="two">'
            + _highlights("most-criticised", "Most criticised", report.get("most_criticised", []))
            + _highlights("most-praised", "Most praised", report.get("most_praised", []))
            + "</div>"
        )
    if categories:
        parts += [
            '<h2 id="plots">Plots</h2>',
            _figure(
                "plot-mentions",
                "Mentions per category",
                _count_bars([(_category(c["category"]), c["mentions"]) for c in categories]),
            ),
            _figure(
                "plot-shares",
                "Positive / negative / neutral share per category",
                _share_bars([(_category(c["category"]), c) for c in categories]),
            ),
        ]
    if aspects:
        parts.append(
            _figure(
                "plot-aspects",
                f"The {len(aspects)} most mentioned aspect terms (mentions by polarity)",
                _stacked_counts([(a["aspect"], a) for a in aspects]),
            )
        )
    parts += [
        '<h2 id="categories">Categories</h2>',
        _table(categories, kind="category") if categories else "<p>No opinion found.</p>",
        '<h2 id="aspects">Aspect terms</h2>',
        _table(aspects, kind="aspect") if aspects else "<p>No aspect term found.</p>",
    ]
    if report.get("first_errors"):
        items = "".join(f"<li>{escape(e)}</li>" for e in report["first_errors"])
        parts.append(
            f"<h2>Rows skipped ({report['rows_failed']:,})</h2><ul class='muted'>{items}</ul>"
        )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _category(name: str | None) -> str:
    return name if name is not None else UNCATEGORISED


def _cards(report: dict[str, Any]) -> str:
    total = report["opinions"]
    polarity = report["polarity"]

    def pct(label: str) -> str:
        return f"{polarity[label] / total:.0%}" if total else "-"

    cards = [
        (f"{report['rows'] - report['rows_failed']:,}", "texts analysed"),
        (f"{report['texts_with_opinions']:,}", "texts with an opinion"),
        (f"{total:,}", "opinions"),
        (pct("positive"), "positive"),
        (pct("negative"), "negative"),
        (f"{report['aspects_total']:,}", "aspect terms"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f"<div class='card'><b>{escape(v)}</b><span>{escape(k)}</span></div>" for v, k in cards
        )
        + "</div>"
    )


def _highlights(ident: str, title: str, entries: list[dict[str, Any]]) -> str:
    """The aspect terms with the most complaints (or praise) and what is said of them."""
    items = "".join(
        f"<li><b>{escape(e['aspect'])}</b> {e['count']:,} of {e['mentions']:,} "
        f"({e['share']:.0%})"
        + (" — " if e["opinions"] else "")
        + ", ".join(f"{escape(o['opinion'])}&nbsp;{o['count']:,}" for o in e["opinions"])
        + "</li>"
        for e in entries
    )
    body = f"<ol>{items}</ol>" if entries else '<p class="muted">none</p>'
    return f'<section id="{ident}" class="card"><h2>{escape(title)}</h2>{body}</section>'


def _figure(ident: str, caption: str, svg: str) -> str:
    return f'<figure id="{ident}"><figcaption>{escape(caption)}</figcaption>{svg}</figure>'


def _svg(height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{PLOT_W}" '
        f'height="{height}" viewBox="0 0 {PLOT_W} {height}">' + "".join(body) + "</svg>"
    )


def _label(y: int, text: str) -> str:
    shown = text if len(text) <= 16 else text[:15] + "…"
    return (
        f'<text x="{LABEL_W - 6}" y="{y + BAR_ROW // 2 + 4}" text-anchor="end">'
        f"<title>{escape(text)}</title>{escape(shown)}</text>"
    )


def _count_bars(rows: list[tuple[str, int]]) -> str:
    peak = max((n for _, n in rows), default=1) or 1
    room = PLOT_W - LABEL_W - 60
    body: list[str] = []
    for i, (name, n) in enumerate(rows):
        y = i * BAR_ROW
        w = max(1, round(room * n / peak))
        body += [
            _label(y, name),
            f'<rect class="bar" x="{LABEL_W}" y="{y + 4}" width="{w}" height="{BAR_ROW - 8}" '
            f'fill="#2857c5"><title>{escape(name)}: {n:,}</title></rect>',
            f'<text x="{LABEL_W + w + 4}" y="{y + BAR_ROW // 2 + 4}">{n:,}</text>',
        ]
    return _svg(len(rows) * BAR_ROW + 4, body)


def _segments(y: int, x0: int, widths: list[tuple[str, float, str]]) -> list[str]:
    out: list[str] = []
    x = float(x0)
    for label, w, tip in widths:
        if w <= 0:
            continue
        out.append(
            f'<rect class="{label}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
            f'height="{BAR_ROW - 8}" fill="{COLOURS[label]}"><title>{escape(tip)}</title></rect>'
        )
        x += w
    return out


def _share_bars(rows: list[tuple[str, dict[str, Any]]]) -> str:
    room = PLOT_W - LABEL_W - 70
    body: list[str] = _legend(len(rows) * BAR_ROW + 4)
    for i, (name, entry) in enumerate(rows):
        y = i * BAR_ROW
        widths = [
            (p, room * entry[p], f"{name}: {entry[p]:.0%} {p} ({entry['counts'][p]:,})")
            for p in POLARITIES
        ]
        body += [_label(y, name), *_segments(y, LABEL_W, widths)]
        body.append(
            f'<text x="{LABEL_W + room + 4}" y="{y + BAR_ROW // 2 + 4}">'
            f"{entry['positive']:.0%} / {entry['negative']:.0%}</text>"
        )
    return _svg(len(rows) * BAR_ROW + 26, body)


def _stacked_counts(rows: list[tuple[str, dict[str, Any]]]) -> str:
    peak = max((e["mentions"] for _, e in rows), default=1) or 1
    room = PLOT_W - LABEL_W - 60
    body: list[str] = _legend(len(rows) * BAR_ROW + 4)
    for i, (name, entry) in enumerate(rows):
        y = i * BAR_ROW
        widths = [
            (p, room * entry["counts"][p] / peak, f"{name}: {entry['counts'][p]:,} {p}")
            for p in POLARITIES
        ]
        total = sum(w for _, w, _ in widths)
        body += [_label(y, name), *_segments(y, LABEL_W, widths)]
        body.append(
            f'<text x="{LABEL_W + total + 4:.1f}" y="{y + BAR_ROW // 2 + 4}">'
            f"{entry['mentions']:,}</text>"
        )
    return _svg(len(rows) * BAR_ROW + 26, body)


def _legend(y: int) -> list[str]:
    out: list[str] = []
    x = LABEL_W
    for label in POLARITIES:
        out += [
            f'<rect x="{x}" y="{y + 6}" width="12" height="12" fill="{COLOURS[label]}"></rect>',
            f'<text x="{x + 16}" y="{y + 16}">{label}</text>',
        ]
        x += 90
    return out


def _share_cell(entry: dict[str, Any]) -> str:
    bar = "".join(
        f'<i style="width:{entry[p] * 100:.1f}%;background:{COLOURS[p]}"></i>' for p in POLARITIES
    )
    return (
        f'<td><div class="share" title="{entry["positive"]:.0%} positive, '
        f'{entry["negative"]:.0%} negative, {entry["neutral"]:.0%} neutral">{bar}</div>'
        f'<span class="pos">{entry["positive"]:.0%}</span> / '
        f'<span class="neg">{entry["negative"]:.0%}</span></td>'
    )


def _opinions_cell(entry: dict[str, Any]) -> str:
    css = {"positive": "pos", "negative": "neg", "neutral": "neu"}
    return (
        "<td>"
        + ", ".join(
            f'<span class="{css[o["polarity"]]}">{escape(o["opinion"])}</span>&nbsp;{o["count"]:,}'
            for o in entry["top_opinions"]
        )
        + "</td>"
    )


def highlighted(example: dict[str, Any]) -> str:
    """An example sentence with its aspect and opinion spans marked (overlaps drawn once)."""
    text: str = example["text"]
    spans = (
        ("aspect", example.get("aspect_span")),
        (f"opinion {example.get('polarity', '')}", example.get("opinion_span")),
    )
    # a span that does not fit the text is left out; the aspect wins where the two overlap
    roles = char_marks(
        len(text),
        [(span, role) for role, span in spans if span and 0 <= span[0] <= span[1] <= len(text)],
    )
    return "".join(
        f'<mark class="{role.strip()}">{escape(piece)}</mark>' if role else escape(piece)
        for piece, role in mark_runs(text, roles)
    )


def _examples_cell(entry: dict[str, Any]) -> str:
    if not entry["examples"]:
        return "<td></td>"
    items = "".join(f"<li>{highlighted(e)}</li>" for e in entry["examples"])
    return f'<td><ul class="ex">{items}</ul></td>'


def _table(entries: list[dict[str, Any]], *, kind: str) -> str:
    head = [kind, *(["category"] if kind == "aspect" else ["top aspect terms"])]
    head += ["mentions", "positive / negative", "top opinion terms", "examples"]
    rows: list[str] = []
    for e in entries:
        if kind == "aspect":
            category = escape(_category(e["category"]))
            first = f"<td><b>{escape(e['aspect'])}</b></td><td>{category}</td>"
        else:
            tops = ", ".join(f"{escape(a['aspect'])}&nbsp;{a['count']:,}" for a in e["top_aspects"])
            first = f"<td><b>{escape(_category(e['category']))}</b></td><td>{tops}</td>"
        rows.append(
            f'<tr data-{kind}="{escape(str(e[kind]))}">{first}<td class="n">{e["mentions"]:,}</td>'
            + _share_cell(e)
            + _opinions_cell(e)
            + _examples_cell(e)
            + "</tr>"
        )
    header = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(rows)
    return f'<table class="{kind}s"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'
