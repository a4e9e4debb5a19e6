"""The corpus view of aspect opinions: what people praise and complain about, per aspect.

:func:`aspect_report` reads one file and returns a JSON-ready dict. The file is either

* texts: ``.txt`` (one text a line), ``.jsonl`` (objects with a text field), ``.csv`` / ``.tsv``
  (a header with a text column) or ``.parquet``; each text is analysed by
  :meth:`Analyzer.aspects_batch`, in batches; or
* the output of ``qinggan bulk --tasks aspects`` (local or Ray, any of its formats): recognised by
  its ``aspects_count`` column; the opinions are read from its ``aspects`` column (a JSON list,
  as the API answers them) and nothing is analysed again.

What the report holds (every share is of the mentions of that aspect or category):

``rows``, ``rows_failed``, ``first_errors``, ``texts_with_opinions``, ``opinions``, ``implicit``
(opinions without an aspect term), ``polarity`` (counts over every opinion), ``categories`` (every
category, most mentioned first; ``category`` is null for opinions no category was assigned to),
``aspects`` (the ``top`` most mentioned aspect terms), ``aspects_total``, and
``most_criticised`` / ``most_praised``: the aspect terms with the most negative / positive
mentions (``aspect``, ``category``, ``count``, ``mentions``, ``share``, and the ``opinions`` of
that polarity most said about it: what people complain about first). Each entry has
``mentions``, ``counts`` per polarity, ``positive`` / ``negative`` / ``neutral`` shares,
``top_opinions`` (``opinion``, ``count``, its majority ``polarity``) and ``examples`` (a snippet
of the sentence with the aspect and opinion spans in it); categories add ``top_aspects``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qinggan.errors import ConfigError, DataError
from qinggan.labels import POLARITY_LABELS
from qinggan.results import ItemError

if TYPE_CHECKING:
    from qinggan.engine import Analyzer

#: the column a ``qinggan bulk --tasks aspects`` output is recognised by
BULK_MARKER = "aspects_count"
BULK_COLUMN = "aspects"
POLARITIES: tuple[str, ...] = tuple(label.value for label in POLARITY_LABELS)
SUFFIXES = (".txt", ".jsonl", ".ndjson", ".csv", ".tsv", ".tab", ".parquet", ".pq")
BATCH = 512
KEEP_ERRORS = 5
HIGHLIGHTS = 10  # aspect terms listed as most criticised / most praised
SNIPPET = 36  # characters kept on each side of an example's spans


@dataclass(frozen=True, slots=True)
class Mention:
    """One opinion as the report counts it (from a result or from a bulk output's JSON)."""

    aspect: str | None
    opinion: str
    polarity: str
    category: str | None
    aspect_span: tuple[int, int] | None = None
    opinion_span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of the input: its number, its text, the opinions already known (a bulk output)
    or None (texts to analyse), and why it cannot be used (or None)."""

    number: int
    text: str | None
    mentions: tuple[Mention, ...] | None
    problem: str | None = None


@dataclass(slots=True)
class _Group:
    """Running counts of one aspect term or one category."""

    counts: Counter[str] = field(default_factory=Counter)
    opinions: Counter[tuple[str, str]] = field(default_factory=Counter)
    aspects: Counter[str] = field(default_factory=Counter)
    categories: Counter[str | None] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, text: str, m: Mention, keep: int) -> None:
        self.counts[m.polarity] += 1
        self.opinions[(m.opinion, m.polarity)] += 1
        if m.aspect is not None:
            self.aspects[m.aspect] += 1
        self.categories[m.category] += 1
        kept = self.examples.setdefault(m.polarity, [])
        if len(kept) < keep and all(e["source"] != text for e in kept):
            kept.append({"source": text, **_snippet(text, m)})

    def to_dict(self, top_opinions: int, examples: int) -> dict[str, Any]:
        mentions = sum(self.counts.values())
        by_term: dict[str, Counter[str]] = {}
        for (term, polarity), count in self.opinions.items():
            by_term.setdefault(term, Counter())[polarity] += count
        ranked = sorted(by_term.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return {
            "mentions": mentions,
            "counts": {p: self.counts.get(p, 0) for p in POLARITIES},
            **{p: _share(self.counts.get(p, 0), mentions) for p in POLARITIES},
            "top_opinions": [
                {
                    "opinion": term,
                    "count": sum(tally.values()),
                    "polarity": _majority(tally),
                }
                for term, tally in ranked[:top_opinions]
            ],
            "examples": self._examples(examples),
        }

    def _examples(self, limit: int) -> list[dict[str, Any]]:
        """Round robin over the polarities, the most frequent polarity first."""
        order = sorted(POLARITIES, key=lambda p: (-self.counts.get(p, 0), POLARITIES.index(p)))
        queues = [list(self.examples.get(p, ())) for p in order]
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        while len(out) < limit and any(queues):
            for queue in queues:
                while queue:
                    example = queue.pop(0)
                    if example["source"] not in seen:
                        seen.add(example["source"])
                        out.append({k: v for k, v in example.items() if k != "source"})
                        break
                if len(out) == limit:
                    break
        return out


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _majority(tally: Counter[str]) -> str:
    return min(tally, key=lambda p: (-tally[p], POLARITIES.index(p)))


def _snippet(text: str, m: Mention) -> dict[str, Any]:
    """The sentence around the spans (at most SNIPPET characters either side), spans rebased."""
    spans = [s for s in (m.aspect_span, m.opinion_span) if s is not None]
    if not spans:
        start, end = 0, min(len(text), 2 * SNIPPET)
    else:
        start = max(0, min(s for s, _ in spans) - SNIPPET)
        end = min(len(text), max(e for _, e in spans) + SNIPPET)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start

    def moved(span: tuple[int, int] | None) -> list[int] | None:
        return None if span is None else [span[0] + shift, span[1] + shift]

    return {
        "text": prefix + text[start:end] + suffix,
        "aspect": m.aspect,
        "aspect_span": moved(m.aspect_span),
        "opinion": m.opinion,
        "opinion_span": moved(m.opinion_span),
        "polarity": m.polarity,
    }


class AspectTally:
    """Adds up opinions text by text; :meth:`result` is the report.

    ``top_opinions`` opinion terms and ``examples`` example sentences are kept per aspect term
    and per category; :meth:`result` lists the ``top`` most mentioned aspect terms.
    """

    def __init__(self, *, top: int = 30, top_opinions: int = 5, examples: int = 3) -> None:
        if top < 1 or top_opinions < 1 or examples < 0:
            raise ConfigError(
                f"top and top_opinions must be at least 1 and examples at least 0, got "
                f"{top}, {top_opinions} and {examples}"
            )
        self.top = top
        self.top_opinions = top_opinions
        self.examples = examples
        self.rows = 0
        self.failed = 0
        self.errors: list[str] = []
        self.with_opinions = 0
        self.implicit = 0
        self.polarity: Counter[str] = Counter()
        self._aspects: dict[str, _Group] = {}
        self._categories: dict[str | None, _Group] = {}

    def add(self, text: str, mentions: Iterable[Mention]) -> None:
        """One analysed text and its opinions (none is fine: it still counts as a row)."""
        self.rows += 1
        found = False
        for m in mentions:
            found = True
            self.polarity[m.polarity] += 1
            if m.aspect is None:
                self.implicit += 1
            else:
                self._aspects.setdefault(m.aspect, _Group()).add(text, m, self.examples)
            self._categories.setdefault(m.category, _Group()).add(text, m, self.examples)
        self.with_opinions += found

    def fail(self, where: str, message: str) -> None:
        """A row that could not be read or analysed (the first few are kept)."""
        self.rows += 1
        self.failed += 1
        if len(self.errors) < KEEP_ERRORS:
            self.errors.append(f"{where}: {message}")

    def result(self) -> dict[str, Any]:
        categories = sorted(
            self._categories.items(),
            key=lambda kv: (-sum(kv[1].counts.values()), kv[0] is None, kv[0] or ""),
        )
        aspects = sorted(self._aspects.items(), key=lambda kv: (-sum(kv[1].counts.values()), kv[0]))
        opinions = sum(self.polarity.values())
        return {
            "rows": self.rows,
            "rows_failed": self.failed,
            "first_errors": list(self.errors),
            "texts_with_opinions": self.with_opinions,
            "opinions": opinions,
            "implicit": self.implicit,
            "polarity": {p: self.polarity.get(p, 0) for p in POLARITIES},
            "categories": [
                {
                    "category": name,
                    **group.to_dict(self.top_opinions, self.examples),
                    "top_aspects": [
                        {"aspect": a, "count": c}
                        for a, c in sorted(group.aspects.items(), key=lambda kv: (-kv[1], kv[0]))[
                            : self.top_opinions
                        ]
                    ],
                }
                for name, group in categories
            ],
            "aspects": [
                {
                    "aspect": name,
                    "category": _top_category(group.categories),
                    **group.to_dict(self.top_opinions, self.examples),
                }
                for name, group in aspects[: self.top]
            ],
            "aspects_total": len(aspects),
            "most_criticised": self._highlights("negative"),
            "most_praised": self._highlights("positive"),
        }

    def _highlights(self, polarity: str) -> list[dict[str, Any]]:
        """The aspect terms with the most mentions of ``polarity``, and what is said of them."""
        ranked = sorted(
            ((name, g) for name, g in self._aspects.items() if g.counts.get(polarity, 0)),
            key=lambda kv: (-kv[1].counts[polarity], kv[0]),
        )
        out: list[dict[str, Any]] = []
        for name, group in ranked[:HIGHLIGHTS]:
            said = Counter({t: n for (t, p), n in group.opinions.items() if p == polarity})
            mentions = sum(group.counts.values())
            out.append(
                {
                    "aspect": name,
                    "category": _top_category(group.categories),
                    "count": group.counts[polarity],
                    "mentions": mentions,
                    "share": _share(group.counts[polarity], mentions),
                    "opinions": [
                        {"opinion": t, "count": n}
                        for t, n in sorted(said.items(), key=lambda tn: (-tn[1], tn[0]))[:3]
                    ],
                }
            )
        return out


def _top_category(categories: Counter[str | None]) -> str | None:
    named = [(c, n) for c, n in categories.items() if c is not None]
    if not named:
        return None
    return min(named, key=lambda cn: (-cn[1], cn[0]))[0]


def mentions_of(result: Any) -> tuple[Mention, ...]:
    """The mentions of an :class:`~qinggan.results.AspectResult`."""
    return tuple(
        Mention(
            aspect=o.aspect,
            opinion=o.opinion,
            polarity=str(getattr(o.polarity, "value", o.polarity)),
            category=o.category,
            aspect_span=tuple(o.aspect_span) if o.aspect_span is not None else None,  # type: ignore[arg-type]
            opinion_span=tuple(o.opinion_span) if o.opinion_span is not None else None,  # type: ignore[arg-type]
        )
        for o in result.opinions
    )


def parse_opinions(value: Any) -> tuple[Mention, ...]:
    """The opinions of one bulk output row: a JSON list (or its text) of opinion objects.

    Raises ``ValueError`` with the reason when the value is not such a list.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the {BULK_COLUMN} column is not JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise ValueError(f"the {BULK_COLUMN} column is not a JSON list of opinions")
    out: list[Mention] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise ValueError(f"an opinion in the {BULK_COLUMN} column is not an object")
        opinion, polarity = item.get("opinion"), item.get("polarity")
        aspect, category = item.get("aspect"), item.get("category")
        if not isinstance(opinion, str) or polarity not in POLARITIES:
            raise ValueError(
                f"an opinion in the {BULK_COLUMN} column lacks an 'opinion' string or a "
                f"'polarity' of {', '.join(POLARITIES)}"
            )
        out.append(
            Mention(
                aspect=aspect if isinstance(aspect, str) else None,
                opinion=opinion,
                polarity=polarity,
                category=category if isinstance(category, str) else None,
                aspect_span=_span(item.get("aspect_span")),
                opinion_span=_span(item.get("opinion_span")),
            )
        )
    return tuple(out)


def _span(value: Any) -> tuple[int, int] | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] <= value[1]
    ):
        return int(value[0]), int(value[1])
    return None


# -- reading ----------------------------------------------------------------------------------
def read_report_rows(path: Path, column: str = "text") -> tuple[Iterator[ReportRow], bool]:
    """The rows of ``path`` and whether it is a bulk output (opinions known, no analysis).

    Checks the file, its format and its text column up front (a :class:`ConfigError` or
    :class:`DataError` names the problem); a bad row comes back with its ``problem``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"cannot tell the format of {path} from its suffix {suffix!r}; expected one of: "
            f"{', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise ConfigError(f"input file {path} does not exist")
    if suffix == ".txt":
        return _txt_rows(path), False
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(path, column)
    if suffix in (".parquet", ".pq"):
        return _parquet_rows(path, column)
    return _csv_rows(path, column, "\t" if suffix in (".tsv", ".tab") else ",")


def _txt_rows(path: Path) -> Iterator[ReportRow]:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield ReportRow(number, None, None, "the line is not valid UTF-8")
                continue
            if line.strip():
                yield ReportRow(number, line, None)


def _row(number: int, record: Mapping[str, Any], column: str, bulk: bool) -> ReportRow:
    text = record.get(column)
    if not bulk:
        if text is None:
            return ReportRow(number, None, None, f"the {column!r} field is missing or null")
        return ReportRow(number, text, None)
    error = record.get("error")
    if error:
        return ReportRow(number, None, None, f"the bulk run could not analyse it: {error}")
    if not isinstance(text, str):
        return ReportRow(number, None, None, f"no {column!r} text")
    try:
        return ReportRow(number, text, parse_opinions(record.get(BULK_COLUMN)))
    except ValueError as exc:
        return ReportRow(number, None, None, str(exc))


def _jsonl_rows(path: Path, column: str) -> tuple[Iterator[ReportRow], bool]:
    def records() -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if number == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    yield number, None, "the line is not valid UTF-8"
                    continue
                except json.JSONDecodeError as exc:
                    yield number, None, f"the line is not valid JSON ({exc.msg})"
                    continue
                if not isinstance(value, dict):
                    yield number, None, f"the line is a JSON {type(value).__name__}, not an object"
                    continue
                yield number, value, None

    bulk = False
    for _, record, _ in records():  # the first object tells what the file is
        if record is not None:
            bulk = BULK_MARKER in record
            break

    def rows() -> Iterator[ReportRow]:
        for number, record, problem in records():
            if record is None:
                yield ReportRow(number, None, None, problem)
            else:
                yield _row(number, record, column, bulk)

    return rows(), bulk


def _csv_rows(path: Path, column: str, delimiter: str) -> tuple[Iterator[ReportRow], bool]:
    from qinggan.bulk.formats import csv_header

    header = csv_header(path, column, delimiter)
    bulk = BULK_MARKER in header

    def rows() -> Iterator[ReportRow]:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            next(reader, None)
            for number, fields in enumerate(reader, start=2):
                if not fields:
                    continue
                if len(fields) != len(header):
                    yield ReportRow(
                        number, None, None,
                        f"the row has {len(fields)} field(s), the header {len(header)}",
                    )  # fmt: skip
                    continue
                yield _row(number, dict(zip(header, fields, strict=True)), column, bulk)

    return rows(), bulk


def _parquet_rows(path: Path, column: str) -> tuple[Iterator[ReportRow], bool]:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises its own ArrowInvalid / OSError
        raise DataError(f"not a readable Parquet file: {exc}", path=str(path)) from None
    if column not in names:
        raise ConfigError(
            f"column {column!r} is not in {path}; its columns are: {', '.join(names)}; "
            "pick one with --column"
        )
    bulk = BULK_MARKER in names
    wanted = [column, *([BULK_COLUMN, "error"] if bulk else [])]

    def rows() -> Iterator[ReportRow]:
        number = 0
        with pq.ParquetFile(path) as f:
            for batch in f.iter_batches(batch_size=4096, columns=wanted):
                for record in batch.to_pylist():
                    number += 1
                    yield _row(number, record, column, bulk)

    return rows(), bulk


# -- the report -------------------------------------------------------------------------------
def aspect_report(
    path: Path,
    *,
    analyzer: Analyzer | None = None,
    column: str = "text",
    top: int = 30,
    top_opinions: int = 5,
    examples: int = 3,
    batch_size: int = BATCH,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The corpus view of ``path`` (see the module docstring); ``on_rows(n)`` reports progress.

    Texts are analysed with ``analyzer`` (a default :class:`Analyzer` when None); a bulk output
    is only read. The answer also says ``input``, ``source`` ("texts" or "bulk") and ``column``.
    """
    tally = AspectTally(top=top, top_opinions=top_opinions, examples=examples)
    rows, bulk = read_report_rows(Path(path), column)
    where = "line" if Path(path).suffix.lower() in (".txt", ".jsonl", ".ndjson") else "row"
    report = on_rows or (lambda n: None)
    if bulk:
        for row in rows:
            _take(tally, row, where)
            report(1)
    else:
        if analyzer is None:
            from qinggan.engine import Analyzer

            analyzer = Analyzer()
        pending: list[ReportRow] = []
        for row in rows:
            pending.append(row)
            if len(pending) >= batch_size:
                _analyse(tally, analyzer, pending, where)
                report(len(pending))
                pending = []
        if pending:
            _analyse(tally, analyzer, pending, where)
            report(len(pending))
    return {
        "input": str(path),
        "source": "bulk" if bulk else "texts",
        "column": column,
        **tally.result(),
    }


def _take(tally: AspectTally, row: ReportRow, where: str) -> None:
    if row.problem is not None or row.text is None or row.mentions is None:
        tally.fail(f"{where} {row.number}", row.problem or "no text")
    else:
        tally.add(row.text, row.mentions)


def _analyse(tally: AspectTally, analyzer: Analyzer, rows: Sequence[ReportRow], where: str) -> None:
    good = [row for row in rows if row.problem is None]
    texts: list[Any] = [row.text for row in good]  # the engine reports a text that is not a str
    answers = iter(analyzer.aspects_batch(texts, errors="report"))
    for row in rows:
        if row.problem is not None:
            tally.fail(f"{where} {row.number}", row.problem)
            continue
        answer = next(answers)
        if isinstance(answer, ItemError):
            tally.fail(f"{where} {row.number}", answer.message)
        else:
            tally.add(answer.text, mentions_of(answer))


def report_from_results(
    results: Iterable[Any], *, top: int = 30, top_opinions: int = 5, examples: int = 3
) -> dict[str, Any]:
    """The same report over :class:`~qinggan.results.AspectResult` objects already in hand."""
    tally = AspectTally(top=top, top_opinions=top_opinions, examples=examples)
    for result in results:
        tally.add(result.text, mentions_of(result))
    return tally.result()
