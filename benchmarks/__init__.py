"""qinggan benchmark suite: accuracy, speed and memory against offline peers.

Run it from the repository root::

    python -m benchmarks run --quick

The suite is generic over tasks (see :mod:`benchmarks.tasks`) and systems (see
:mod:`benchmarks.systems`); everything a run measures is written to one JSON file and rendered
into a markdown report with plots (see :mod:`benchmarks.report`). It is never part of the test
suite; ``tests/test_benchmarks_smoke.py`` only checks that ``--quick`` runs on a tiny fixture.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
