"""The Ray runner: the same annotation as the local runner, through Ray Data.

The input is read by Ray Data's own readers (``read_parquet``, ``read_csv`` with every column as
a string, ``read_json(lines=True)``), annotated by ``map_batches`` with :class:`RayAnnotator`, a
callable class whose constructor loads the models once per actor, and streamed back, in input
order, to this process, which writes the output file (the same format and columns as a local
run) and adds up the label counts.

On a real cluster (``--ray auto`` or ``--ray ray://HEAD:10001``) the input path must be readable
from every node (a shared file system, or an ``s3://`` / ``gs://`` URI that pyarrow can open);
the output is written where the command runs. The local runner's per-line checks (bad UTF-8,
broken JSON lines, rows with the wrong number of fields) are not available here: Ray's readers
refuse such a file, so clean it with a local run first. Rows with an empty, missing or null text
are kept and reported in ``error`` as in the local runner. No ``--resume``: Ray retries failed
tasks itself.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qinggan.bulk.formats import (
    CsvLayout,
    Format,
    JsonlLayout,
    ParquetLayout,
    _cell,
    _open_csv,
    open_layout,
    output_schema,
    with_columns,
)
from qinggan.bulk.local import BulkJob
from qinggan.bulk.summary import build_summary
from qinggan.bulk.tasks import TaskPlan, annotate, column_stats, load_models, merge_stats
from qinggan.engine import Analyzer

#: largest block Ray Data's readers emit, in bytes. A block is what one actor task annotates, and
#: Ray's default (128 MiB) makes a file of review-length rows one block up to about half a million
#: rows: one actor then did all the work while the other idled (the run went at one process's
#: speed). 1 MiB is some thousands of rows, enough blocks for every actor of a large cluster too.
BLOCK_BYTES = 1 << 20
#: CPUs a read task asks for: reading is cheap next to the models, and a read task that waits for a
#: whole CPU would wait forever when the annotator actors hold them all (2 actors on 2 CPUs)
READ_CPUS = 0


class RayAnnotator:
    """``map_batches`` callable class: the models load once, in the actor's constructor."""

    def __init__(self, column: str, plan: TaskPlan) -> None:
        self.column = column
        self.plan = plan
        self.analyzer = Analyzer()
        load_models(self.analyzer, plan)

    def __call__(self, table: Any) -> Any:
        texts = table.column(self.column).to_pylist()
        problems = ["the text is missing (null)" if t is None else None for t in texts]
        columns = annotate(self.analyzer, texts, problems, self.plan)
        return with_columns(table, columns, self.plan)


def _read(layout: Any) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import ray.data

    if isinstance(layout, ParquetLayout):
        return ray.data.read_parquet(layout.path, num_cpus=READ_CPUS)
    if isinstance(layout, CsvLayout):
        return ray.data.read_csv(
            layout.path,
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in layout.header},
                strings_can_be_null=False,
            ),
            num_cpus=READ_CPUS,
        )
    assert isinstance(layout, JsonlLayout)
    return ray.data.read_json(layout.path, lines=True, num_cpus=READ_CPUS)


class _Writer:
    """Writes arrow tables, in order, to one file of the output format."""

    def __init__(self, fmt: Format, path: Path, schema: Any, delimiter: str = ",") -> None:
        self.fmt = fmt
        self.path = path
        self.schema = schema
        self.delimiter = delimiter
        self._file: Any = None
        self._parquet: Any = None
        self._csv: Any = None

    def write(self, table: Any) -> None:
        if self.fmt is Format.PARQUET:
            import pyarrow.parquet as pq

            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, self.schema)
            self._parquet.write_table(table.cast(self.schema))
            return
        if self._file is None:
            self._open(table.column_names)
        if self.fmt is Format.JSONL:
            for record in table.to_pylist():
                self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
            for row in zip(*columns, strict=True):
                self._csv.writerow([_cell(v) for v in row])

    def _open(self, names: list[str]) -> None:
        if self.fmt is Format.JSONL:
            # held open across write() calls, closed by close()
            self._file = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        else:
            self._file = _open_csv(self.path, "w")
            self._csv = csv.writer(self._file, delimiter=self.delimiter, lineterminator="\n")
            self._csv.writerow(names)

    def abandon(self) -> None:
        """Close whatever is open, without finishing the file."""
        for handle in (self._parquet, self._file):
            if handle is not None:
                handle.close()

    def close(self, names: list[str]) -> None:
        if self.fmt is Format.PARQUET:
            if self._parquet is None:  # no rows: an empty file with the schema
                import pyarrow.parquet as pq

                self._parquet = pq.ParquetWriter(self.path, self.schema)
            self._parquet.close()
            return
        if self._file is None:
            self._open(names)
        self._file.close()


def run_ray(
    job: BulkJob,
    *,
    address: str | None = None,
    on_rows: Callable[[int], None] | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> dict[str, Any]:
    """Run ``job`` through Ray Data; return the same summary as :func:`run_local`.

    ``address`` is passed to ``ray.init`` (None starts a local Ray) unless Ray is already
    initialised in this process. ``job.workers`` actors each load the models once; the input is
    read in blocks of at most ``block_bytes``, spread over them.
    """
    import ray
    import ray.data

    job.check()
    layout = open_layout(job.input, job.column, job.plan)
    if not ray.is_initialized():
        ray.init(address=address or None, include_dashboard=False, logging_level=logging.WARNING)
    started = time.perf_counter()
    with _run_settings(block_bytes):
        dataset = _read(layout).map_batches(
            RayAnnotator,
            fn_constructor_kwargs={"column": job.column, "plan": job.plan},
            batch_size=job.chunk_size,
            batch_format="pyarrow",
            # start small and grow: a pool that takes every CPU at once starves Ray Data's own
            # one-CPU file-listing task on a small cluster (2 actors on 2 CPUs never start)
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=job.workers),
            num_cpus=1,
        )
        parts = _write_in_order(dataset, job, layout, on_rows or (lambda n: None))
    seconds = time.perf_counter() - started
    return build_summary(
        merge_stats(parts, job.plan),
        job.plan,
        seconds=seconds,
        rows_this_run=sum(part["rows"] for part in parts),
        input=str(job.input),
        output=str(job.output),
        format=layout.format.value,
        runner="ray",
        workers=job.workers,
        chunk_size=job.chunk_size,
        chunks=len(parts),
        chunks_resumed=0,
    )


@contextmanager
def _run_settings(block_bytes: int) -> Iterator[None]:
    """Ray Data settings of one run (order kept, no progress bars, small blocks), put back after
    it so the caller's own datasets are not affected."""
    import ray.data

    context = ray.data.DataContext.get_current()
    options = context.execution_options
    saved = (options.preserve_order, context.enable_progress_bars, context.target_max_block_size)
    options.preserve_order = True
    context.enable_progress_bars = False
    context.target_max_block_size = block_bytes
    try:
        yield
    finally:
        options.preserve_order, context.enable_progress_bars = saved[0], saved[1]
        context.target_max_block_size = saved[2]


def _write_in_order(
    dataset: Any, job: BulkJob, layout: Any, report: Callable[[int], None]
) -> list[dict[str, Any]]:
    """Stream the annotated blocks back in input order into ``job.output`` (through a temporary
    file, removed on failure); returns the label counts of each block."""
    schema = output_schema(layout.schema, job.plan) if isinstance(layout, ParquetLayout) else None
    delimiter = layout.delimiter if isinstance(layout, CsvLayout) else ","
    tmp = job.output.with_name(f".{job.output.name}.ray.tmp")
    writer = _Writer(layout.format, tmp, schema, delimiter)
    parts: list[dict[str, Any]] = []
    first_row = 1
    names: list[str] = []
    try:
        for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            if table.num_rows == 0:
                continue
            names = table.column_names
            writer.write(table)
            columns = {name: table.column(name).to_pylist() for name in job.plan.names}
            parts.append(column_stats(columns, job.plan, first_row))
            first_row += table.num_rows
            report(table.num_rows)
        writer.close(names or _names(layout, job.plan))
    except BaseException:
        writer.abandon()
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(job.output)
    return parts


def _names(layout: Any, plan: TaskPlan) -> list[str]:
    header = list(layout.header) if isinstance(layout, CsvLayout) else []
    return [*header, *plan.names]
