"""Corpus views: plain functions that read a file of texts (or of results) and return data.

* :func:`aspect_report` (:mod:`qinggan.reports.aspects`): per aspect term and per category, the
  mentions, the share positive / negative / neutral, the most frequent opinion terms and a few
  example sentences; :func:`render_html` turns it into a self-contained page with plots.
"""

from __future__ import annotations

from qinggan.reports.aspects import (
    AspectTally,
    aspect_report,
    read_report_rows,
    report_from_results,
)
from qinggan.reports.html import render_html

__all__ = [
    "AspectTally",
    "aspect_report",
    "read_report_rows",
    "render_html",
    "report_from_results",
]
