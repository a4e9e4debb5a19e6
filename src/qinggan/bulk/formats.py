"""Readers and writers of the bulk formats: CSV, TSV, JSONL and Parquet, streamed in chunks.

A :class:`Layout` is what a worker needs to know about the input (header, schema, text column);
it is small and picklable. The main process reads chunks (:meth:`Layout.chunks`), a worker turns
a chunk's rows into texts (:meth:`Layout.extract`) and writes the chunk's annotated rows to a
part file (:meth:`Layout.write_part`); at the end :meth:`Layout.assemble` concatenates the parts,
in order, into the output. Only one chunk is ever in memory per worker, whatever the file size.

* CSV / TSV: UTF-8 (a BOM is skipped), header line required, standard quoting. Bytes that are not
  UTF-8 are carried through unchanged (``surrogateescape``); a text column holding them is
  reported in ``error``. A short row is padded with empty fields, a long one cut to the header.
* JSONL: one JSON object per line; the added fields are set on each object (replacing fields of
  the same name). A line that is not UTF-8, not JSON or not an object becomes ``{"error": ...}``.
* Parquet (needs pyarrow): read by record batches; the added columns are typed (string, float64,
  int64); each chunk becomes one row group.

pyarrow is imported only when a Parquet file is touched.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from qinggan.bulk.tasks import ERROR_COLUMN, TaskPlan
from qinggan.errors import ConfigError, DataError

FIELD_LIMIT = 2**31 - 1  # a review can be long; the csv module's default cap is 128 KiB
_BOM = b"\xef\xbb\xbf"


class Format(StrEnum):
    CSV = "csv"
    TSV = "tsv"
    JSONL = "jsonl"
    PARQUET = "parquet"


SUFFIXES: dict[str, Format] = {
    ".csv": Format.CSV,
    ".tsv": Format.TSV,
    ".tab": Format.TSV,
    ".jsonl": Format.JSONL,
    ".ndjson": Format.JSONL,
    ".parquet": Format.PARQUET,
    ".pq": Format.PARQUET,
}


def detect_format(path: str | Path) -> Format:
    """The format of a file from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"cannot tell the format of {path} from its suffix {suffix!r}; "
            f"expected one of: {', '.join(SUFFIXES)}"
        )
    return SUFFIXES[suffix]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive rows of the input: ``index`` counts chunks, ``first_row`` rows (from 1)."""

    index: int
    first_row: int
    payload: Any
    rows: int


def open_layout(path: Path, column: str, plan: TaskPlan) -> Layout:
    """Check the input (format, header, text column, clashing names) and describe it."""
    fmt = detect_format(path)
    if not path.is_file():
        raise ConfigError(f"input file {path} does not exist")
    if fmt is Format.PARQUET:
        return ParquetLayout.open(path, column, plan)
    if fmt is Format.JSONL:
        return JsonlLayout(path=str(path), column=column)
    return CsvLayout.open(path, column, plan, "\t" if fmt is Format.TSV else ",")


def count_lines(path: Path) -> int:
    """Newlines in a file (a quick row estimate for the progress bar)."""
    total = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            total += block.count(b"\n")
    return total


def _clashes(existing: Sequence[str], plan: TaskPlan, path: Path) -> None:
    clash = [name for name in plan.names if name in set(existing)]
    if clash:
        raise ConfigError(
            f"{path} already has column(s) {', '.join(clash)}, which this run would add; "
            "rename them or choose other --tasks"
        )


class Layout:
    """What is known about the input, shared by the reader, the workers and the assembler."""

    format: Format
    path: str

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        raise NotImplementedError

    def estimate_rows(self) -> int:
        raise NotImplementedError

    def extract(self, payload: Any) -> tuple[list[Any], list[str | None]]:
        raise NotImplementedError

    def write_part(
        self, payload: Any, columns: dict[str, list[Any]], plan: TaskPlan, path: Path
    ) -> None:
        raise NotImplementedError

    def assemble(self, parts: Sequence[Path], plan: TaskPlan, output: Path) -> None:
        raise NotImplementedError


# -- CSV / TSV ------------------------------------------------------------------------------------
def csv_header(path: Path, column: str, delimiter: str) -> list[str]:
    """The header line of a CSV/TSV file, which must name ``column`` (else a DataError or a
    ConfigError that lists the columns). Lifts the csv module's field-size cap."""
    csv.field_size_limit(FIELD_LIMIT)
    with _open_csv(path) as f:
        header = next(csv.reader(f, delimiter=delimiter), None)
    if not header:
        raise DataError("no header line; the first line must name the columns", path=str(path))
    if column not in header:
        raise ConfigError(
            f"column {column!r} is not in the header of {path}; its columns are: "
            f"{', '.join(header)}; pick one with --column"
        )
    return header


def _open_csv(path: str | Path, mode: str = "r") -> Any:
    encoding = "utf-8-sig" if mode == "r" else "utf-8"
    return open(path, mode, encoding=encoding, errors="surrogateescape", newline="")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


#: most physical lines one quoted CSV field may span before its quote counts as never closed
MAX_ROW_LINES = 1000


class BrokenRow(list[str]):
    """The fields of a line that cannot be a row (an unclosed quote), with the reason; the line
    is still written to the output, with the reason in its ``error`` column."""

    problem: str

    def __init__(self, fields: Sequence[str], problem: str) -> None:
        super().__init__(fields)
        self.problem = problem

    def __reduce__(self) -> Any:  # picklable for the worker processes
        return (BrokenRow, (list(self), self.problem))


def _parse_one(lines: Sequence[str], delimiter: str) -> tuple[list[str] | None, bool]:
    """The row that ``lines`` make (None when they end inside a quoted field) and whether they
    are strictly well-formed CSV."""
    try:
        rows = list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None, False
        rows = list(csv.reader(lines, delimiter=delimiter))  # other oddities: the lenient reading
        return (rows[0] if rows else []), False
    return (rows[0] if rows else []), True


def csv_rows(handle: Iterable[str], delimiter: str, width: int) -> Iterator[list[str]]:
    """The data rows after the header line, one per record, like :func:`csv.reader`, except that
    a quote that never closes does not swallow the rest of the file.

    A record spanning several lines is kept only when it is well-formed CSV with ``width``
    fields. Otherwise (it ends inside a quote, at the end of the file or after
    :data:`MAX_ROW_LINES` lines, or the quote "closes" on a later row) its first line comes back
    as a :class:`BrokenRow` naming the line number, and the lines after it are read again as rows
    of their own."""
    lines = iter(handle)
    next(lines, None)  # the header
    number = 1  # of the last line taken from ``lines``
    pending: list[str] = []  # lines of the record being read
    start = 2  # line number of pending[0]
    replay: list[str] = []  # lines to read again after a broken record, last first
    while True:
        if replay:
            line = replay.pop()
        else:
            read = next(lines, None)
            if read is None and not pending:
                return
            if read is None:
                line = ""  # the end of the file, inside a quote
            else:
                line, number = read, number + 1
        if not pending:
            start = number - len(replay)
        ended = line == "" and not replay
        if not ended:
            pending.append(line)
            row, strict = _parse_one(pending, delimiter)
            if row is None and len(pending) < MAX_ROW_LINES:
                continue  # inside a quoted field: the record goes on
            if row is not None and (len(pending) == 1 or (strict and len(row) == width)):
                yield row
                pending = []
                continue
        first = next(csv.reader(pending[:1], delimiter=delimiter), [])
        where = "before the end of the file" if ended else f"within {len(pending)} lines"
        yield BrokenRow(
            first,
            f"line {start}: a quote opened on this line does not close {where} as a well-formed "
            "row; the line is kept as it is and the lines after it are read as rows of their own",
        )
        replay.extend(reversed(pending[1:]))
        pending = []


@dataclass(frozen=True, slots=True)
class CsvLayout(Layout):
    path: str
    delimiter: str
    header: tuple[str, ...]
    text_index: int

    @property
    def format(self) -> Format:  # type: ignore[override]
        return Format.TSV if self.delimiter == "\t" else Format.CSV

    @classmethod
    def open(cls, path: Path, column: str, plan: TaskPlan, delimiter: str) -> CsvLayout:
        header = csv_header(path, column, delimiter)
        _clashes(header, plan, path)
        return cls(str(path), delimiter, tuple(header), header.index(column))

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        csv.field_size_limit(FIELD_LIMIT)
        with _open_csv(self.path) as f:
            index = 0
            first = 1
            rows: list[list[str]] = []
            for row in csv_rows(f, self.delimiter, len(self.header)):
                rows.append(row)
                if len(rows) == chunk_size:
                    yield Chunk(index, first, rows, len(rows))
                    index, first, rows = index + 1, first + len(rows), []
            if rows:
                yield Chunk(index, first, rows, len(rows))

    def estimate_rows(self) -> int:
        return max(0, count_lines(Path(self.path)) - 1)

    def extract(self, payload: list[list[str]]) -> tuple[list[Any], list[str | None]]:
        texts: list[Any] = []
        problems: list[str | None] = []
        width = len(self.header)
        for row in payload:
            if isinstance(row, BrokenRow):
                texts.append(None)
                problems.append(row.problem)
            elif not row:
                texts.append(None)
                problems.append("the row is empty")
            elif len(row) <= self.text_index:
                texts.append(None)
                problems.append(
                    f"the row has {len(row)} field(s) and no {self.header[self.text_index]!r}; "
                    f"the header has {width}"
                )
            elif len(row) > width:
                texts.append(None)
                problems.append(
                    f"the row has {len(row)} fields, the header {width}; the extra fields "
                    "were cut (is a quote missing?)"
                )
            else:
                texts.append(row[self.text_index])
                problems.append(None)
        return texts, problems

    def write_part(
        self, payload: list[list[str]], columns: dict[str, list[Any]], plan: TaskPlan, path: Path
    ) -> None:
        width = len(self.header)
        added = [columns[name] for name in plan.names]
        with _open_csv(path, "w") as f:
            writer = csv.writer(f, delimiter=self.delimiter, lineterminator="\n")
            for i, row in enumerate(payload):
                fields = (row + [""] * (width - len(row)))[:width]
                writer.writerow(fields + [_cell(values[i]) for values in added])

    def assemble(self, parts: Sequence[Path], plan: TaskPlan, output: Path) -> None:
        with _open_csv(output, "w") as f:
            csv.writer(f, delimiter=self.delimiter, lineterminator="\n").writerow(
                [*self.header, *plan.names]
            )
        with open(output, "ab") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)


# -- JSONL ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JsonlLayout(Layout):
    path: str
    column: str

    @property
    def format(self) -> Format:  # type: ignore[override]
        return Format.JSONL

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        with open(self.path, "rb") as f:
            index = 0
            first = 1
            lines: list[bytes] = []
            for number, line in enumerate(f):
                if number == 0 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                lines.append(line)
                if len(lines) == chunk_size:
                    yield Chunk(index, first, lines, len(lines))
                    index, first, lines = index + 1, first + len(lines), []
            if lines:
                yield Chunk(index, first, lines, len(lines))

    def estimate_rows(self) -> int:
        return count_lines(Path(self.path))

    def _parse(self, line: bytes) -> tuple[dict[str, Any] | None, Any, str | None]:
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            return None, None, "the line is not valid UTF-8"
        if not decoded.strip():
            return None, None, "the line is empty"
        try:
            value = json.loads(decoded)
        except json.JSONDecodeError as exc:
            return None, None, f"the line is not valid JSON ({exc.msg}, column {exc.colno})"
        if not isinstance(value, dict):
            return None, None, f"the line is a JSON {type(value).__name__}, not an object"
        if self.column not in value:
            return value, None, f"the object has no {self.column!r} field"
        return value, value[self.column], None

    def extract(self, payload: list[bytes]) -> tuple[list[Any], list[str | None]]:
        texts: list[Any] = []
        problems: list[str | None] = []
        for line in payload:
            _, text, problem = self._parse(line)
            texts.append(text)
            problems.append(problem)
        return texts, problems

    def write_part(
        self, payload: list[bytes], columns: dict[str, list[Any]], plan: TaskPlan, path: Path
    ) -> None:
        names = plan.names
        with open(path, "wb") as f:
            for i, line in enumerate(payload):
                value, _, problem = self._parse(line)
                record = dict(value) if value is not None else {}
                if value is None:  # nothing to keep but the reason
                    record[ERROR_COLUMN] = problem
                else:
                    record.update((name, columns[name][i]) for name in names)
                try:
                    text = json.dumps(record, ensure_ascii=False)
                    data = text.encode("utf-8")
                except UnicodeEncodeError:  # lone surrogates from \ud8xx escapes in the input
                    data = json.dumps(record).encode("ascii")
                f.write(data + b"\n")

    def assemble(self, parts: Sequence[Path], plan: TaskPlan, output: Path) -> None:
        with open(output, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)


# -- Parquet --------------------------------------------------------------------------------------
def arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {"label": pa.string(), "prob": pa.float64(), "int": pa.int64()}[kind]


def with_columns(table: Any, columns: dict[str, list[Any]], plan: TaskPlan) -> Any:
    """``table`` (a pyarrow Table or RecordBatch) with the added columns appended, typed."""
    import pyarrow as pa

    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    for column in plan.columns:
        table = table.append_column(
            pa.field(column.name, arrow_type(column.kind)),
            pa.array(columns[column.name], type=arrow_type(column.kind)),
        )
    return table


def output_schema(schema: Any, plan: TaskPlan) -> Any:
    import pyarrow as pa

    fields = [*schema, *(pa.field(c.name, arrow_type(c.kind)) for c in plan.columns)]
    return pa.schema(fields, metadata=schema.metadata)


@dataclass(frozen=True, slots=True)
class ParquetLayout(Layout):
    path: str
    column: str
    schema: Any  # pyarrow.Schema of the input

    @property
    def format(self) -> Format:  # type: ignore[override]
        return Format.PARQUET

    @classmethod
    def open(cls, path: Path, column: str, plan: TaskPlan) -> ParquetLayout:
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid / OSError
            raise DataError(f"not a readable Parquet file: {exc}", path=str(path)) from None
        if column not in schema.names:
            raise ConfigError(
                f"column {column!r} is not in {path}; its columns are: "
                f"{', '.join(schema.names)}; pick one with --column"
            )
        _clashes(schema.names, plan, path)
        return cls(str(path), column, schema)

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        first = 1
        with pq.ParquetFile(self.path) as f:
            for index, batch in enumerate(f.iter_batches(batch_size=chunk_size)):
                yield Chunk(index, first, batch, batch.num_rows)
                first += batch.num_rows

    def estimate_rows(self) -> int:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.path).metadata.num_rows)

    def extract(self, payload: Any) -> tuple[list[Any], list[str | None]]:
        texts = payload.column(self.column).to_pylist()
        problems = ["the text is missing (null)" if t is None else None for t in texts]
        return texts, problems

    def write_part(
        self, payload: Any, columns: dict[str, list[Any]], plan: TaskPlan, path: Path
    ) -> None:
        import pyarrow.parquet as pq

        table = with_columns(payload, columns, plan).cast(output_schema(self.schema, plan))
        pq.write_table(table, path)

    def assemble(self, parts: Sequence[Path], plan: TaskPlan, output: Path) -> None:
        import pyarrow.parquet as pq

        schema = output_schema(self.schema, plan)
        with pq.ParquetWriter(output, schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=schema))
