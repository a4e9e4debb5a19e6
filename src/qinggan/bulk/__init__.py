"""Bulk analysis of large files: CSV, TSV, JSONL or Parquet in, the same format out, every row
kept and annotated with the chosen judgements (see :mod:`qinggan.bulk.tasks` for the columns).

* :func:`run_local` spreads the file over worker processes on this machine, in chunks, with
  ``--resume`` support (:mod:`qinggan.bulk.sidecar`);
* :func:`run_ray` runs the same annotation through Ray Data on a cluster (the ``distributed``
  extra).

Both return a summary dict (counts per label, mean probabilities, throughput). Nothing here
imports pyarrow or ray until a Parquet file or a Ray run needs it.
"""

from __future__ import annotations

from qinggan.bulk.formats import Format, detect_format
from qinggan.bulk.local import DEFAULT_CHUNK_SIZE, BulkJob, run_local, usable_cpus
from qinggan.bulk.raydata import run_ray
from qinggan.bulk.summary import write_plot
from qinggan.bulk.tasks import ERROR_COLUMN, TASKS, TaskPlan, parse_tasks

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ERROR_COLUMN",
    "TASKS",
    "BulkJob",
    "Format",
    "TaskPlan",
    "detect_format",
    "parse_tasks",
    "run_local",
    "run_ray",
    "usable_cpus",
    "write_plot",
]
