"""The summary of a bulk run (counts per label, mean probabilities, throughput) and its plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qinggan.bulk.tasks import TaskPlan


def build_summary(
    totals: dict[str, Any], plan: TaskPlan, *, seconds: float, rows_this_run: int, **facts: Any
) -> dict[str, Any]:
    """A flat, JSON-ready summary from merged chunk stats (see ``tasks.merge_stats``)."""
    ok = totals["rows"] - totals["failed"]
    means = {
        name: {label: (value / ok if ok else 0.0) for label, value in sums.items()}
        for name, sums in totals["sums"].items()
    }
    return {
        **facts,
        "tasks": list(plan.tasks),
        "scene": plan.scene.value,
        "rows": totals["rows"],
        "rows_ok": ok,
        "rows_failed": totals["failed"],
        "labels": {
            name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, counts in totals["counts"].items()
        },
        "mean_probabilities": {
            name: {label: round(v, 6) for label, v in values.items()}
            for name, values in means.items()
        },
        "first_errors": totals["errors"],
        "rows_this_run": rows_this_run,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_this_run / seconds, 1) if seconds > 0 else 0.0,
    }


def write_plot(summary: dict[str, Any], path: Path) -> None:
    """A bar chart of the label counts of each judgement (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(name, counts) for name, counts in summary["labels"].items()]
    fig, axes = plt.subplots(len(groups), 1, figsize=(7, 2.6 * max(1, len(groups))), squeeze=False)
    for ax, (name, counts) in zip(axes[:, 0], groups, strict=True):
        labels = list(counts)
        ax.barh(labels[::-1], [counts[label] for label in labels][::-1], color="#4c72b0")
        ax.set_title(f"{name} ({sum(counts.values()):,} rows)", fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
    failed = summary.get("rows_failed", 0)
    fig.suptitle(
        f"{summary.get('input', '')}: {summary['rows']:,} rows, {failed:,} failed", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
