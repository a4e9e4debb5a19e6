"""Task columns: which judgements a bulk run adds to each row, under which column names.

Every task adds a fixed, ordered set of flat columns (the same names in CSV, TSV, JSONL and
Parquet), and every run adds ``error`` last:

============  ==========================================================================
task          columns
============  ==========================================================================
polarity      ``polarity``, ``polarity_confidence``, ``polarity_<label>`` for positive,
              negative, neutral
emotion7      ``emotion7``, ``emotion7_confidence``, ``emotion7_<label>`` for the 7 labels,
              ``emotion7_intensity`` (0-3, only when the top emotion is anger or anxiety)
emotion8      the same with the 8 labels, ``emotion8_*``
dialogue      ``dialogue_level1``, ``dialogue_level1_<label>``, ``dialogue_level2`` (empty when
              level 1 is neutral), ``dialogue_level2_<label>`` for the scene's level-2 set
aspects       ``aspects``: the text's opinions as a JSON list (each as the API answers it:
              ``aspect``, ``aspect_span``, ``opinion``, ``opinion_span``, ``polarity``,
              ``confidence``, ``probabilities``, ``category``; ``[]`` when none), and
              ``aspects_count`` (how many); ``qinggan report aspects`` reads such a file
============  ==========================================================================

A row that cannot be analysed has every task column empty and says why in ``error``.
:func:`annotate` is the one function both runners (local processes and Ray) call, so both write
the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from qinggan.engine import Analyzer
from qinggan.errors import ConfigError
from qinggan.labels import (
    EMOTION7_LABELS,
    EMOTION8_LABELS,
    POLARITY_LABELS,
    SCENE_LEVEL2,
    DialogueLevel1,
    Scene,
    parse_choice,
)
from qinggan.results import (
    AspectResult,
    DialogueEmotionResult,
    EmotionResult,
    ItemError,
    PolarityResult,
)

TASKS: tuple[str, ...] = ("polarity", "emotion7", "emotion8", "dialogue", "aspects")
#: the tasks whose columns are not a label with probabilities (no label group in the summary)
_UNGROUPED = frozenset({"aspects"})
ERROR_COLUMN = "error"
DIGITS = 6  # probabilities are rounded like the results' to_dict()

Kind = Literal["label", "prob", "int"]


@dataclass(frozen=True, slots=True)
class Column:
    """One added column: its name and what it holds (a label string, a probability, an int)."""

    name: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class LabelGroup:
    """A label column and the probability column of each of its labels (for the summary)."""

    name: str
    label_column: str
    probability_columns: tuple[tuple[str, str], ...]  # (label, column)


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """The tasks of one run, in order, with the scene of the dialogue task."""

    tasks: tuple[str, ...]
    scene: Scene

    @property
    def columns(self) -> tuple[Column, ...]:
        out: list[Column] = []
        for task in self.tasks:
            if task == "aspects":
                out += [Column("aspects", "label"), Column("aspects_count", "int")]
            for group in self._groups(task):
                out.append(Column(group.label_column, "label"))
                if task != "dialogue":
                    out.append(Column(f"{task}_confidence", "prob"))
                out.extend(Column(column, "prob") for _, column in group.probability_columns)
            if task in ("emotion7", "emotion8"):
                out.append(Column(f"{task}_intensity", "int"))
        out.append(Column(ERROR_COLUMN, "label"))
        return tuple(out)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def groups(self) -> tuple[LabelGroup, ...]:
        return tuple(group for task in self.tasks for group in self._groups(task))

    def _groups(self, task: str) -> tuple[LabelGroup, ...]:
        if task in _UNGROUPED:
            return ()
        if task == "dialogue":
            level1 = tuple(label.value for label in DialogueLevel1)
            level2 = tuple(label.value for label in SCENE_LEVEL2[self.scene])
            return (
                _group("dialogue_level1", level1),
                _group("dialogue_level2", level2),
            )
        labels = {
            "polarity": POLARITY_LABELS,
            "emotion7": EMOTION7_LABELS,
            "emotion8": EMOTION8_LABELS,
        }[task]
        return (_group(task, tuple(label.value for label in labels)),)


def _group(name: str, labels: tuple[str, ...]) -> LabelGroup:
    return LabelGroup(name, name, tuple((label, f"{name}_{label}") for label in labels))


def parse_tasks(tasks: str | Sequence[str], scene: str = "default") -> TaskPlan:
    """Read ``polarity,emotion7`` (or a list) and a scene; a clear error names the choices."""
    names = [t.strip().lower() for t in (tasks.split(",") if isinstance(tasks, str) else tasks)]
    names = [t for t in names if t]
    if not names:
        raise ConfigError(f"no task given; expected some of: {', '.join(TASKS)}")
    unknown = [t for t in names if t not in TASKS]
    if unknown:
        raise ConfigError(f"unknown task {unknown[0]!r}; expected some of: {', '.join(TASKS)}")
    try:
        chosen = parse_choice(Scene, scene, "scene")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return TaskPlan(tuple(dict.fromkeys(names)), chosen)


def load_models(analyzer: Analyzer, plan: TaskPlan) -> None:
    """Load the models the tasks need now (a worker does this once, at start)."""
    analyzer.load()
    if {"emotion7", "emotion8", "dialogue", "aspects"} & set(plan.tasks):
        analyzer.load_all()


def annotate(
    analyzer: Analyzer, texts: Sequence[Any], problems: Sequence[str | None], plan: TaskPlan
) -> dict[str, list[Any]]:
    """The added columns for a batch of rows.

    ``texts[i]`` is the row's text and ``problems[i]`` is why the reader could not get one (or
    None). Returns one list per column of ``plan.columns``, aligned with ``texts``.
    """
    n = len(texts)
    columns: dict[str, list[Any]] = {name: [None] * n for name in plan.names}
    errors: list[str | None] = list(problems)
    for task in plan.tasks:
        todo = [i for i in range(n) if errors[i] is None]
        if not todo:
            break
        results = _run(analyzer, task, [texts[i] for i in todo], plan.scene)
        for i, result in zip(todo, results, strict=True):
            if isinstance(result, ItemError):
                errors[i] = result.message
            else:
                _fill(columns, task, i, result)
    for i, error in enumerate(errors):
        if error is not None:  # a row is all or nothing
            for values in columns.values():
                values[i] = None
    columns[ERROR_COLUMN] = errors
    return columns


def _run(analyzer: Analyzer, task: str, texts: list[Any], scene: Scene) -> list[Any]:
    if task == "polarity":
        return analyzer.analyze_batch(texts, errors="report")
    if task == "emotion7":
        return analyzer.emotions_batch(texts, 7, errors="report")
    if task == "emotion8":
        return analyzer.emotions_batch(texts, 8, errors="report")
    if task == "aspects":
        return analyzer.aspects_batch(texts, errors="report")
    return analyzer.dialogue_emotion_batch(texts, scene, errors="report")


def _fill(columns: dict[str, list[Any]], task: str, i: int, result: Any) -> None:
    if isinstance(result, PolarityResult | EmotionResult):
        columns[task][i] = result.label.value
        columns[f"{task}_confidence"][i] = round(result.confidence, DIGITS)
        for label, p in result.probabilities.items():
            columns[f"{task}_{label.value}"][i] = round(p, DIGITS)
        if isinstance(result, EmotionResult) and result.intensity:
            columns[f"{task}_intensity"][i] = int(result.intensity[0].degree)
    elif isinstance(result, AspectResult):
        opinions = [o.to_dict() for o in result.opinions]
        columns["aspects"][i] = json.dumps(opinions, ensure_ascii=False)
        columns["aspects_count"][i] = len(opinions)
    elif isinstance(result, DialogueEmotionResult):
        columns["dialogue_level1"][i] = result.level1.value
        for label1, p in result.level1_probabilities.items():
            columns[f"dialogue_level1_{label1.value}"][i] = round(p, DIGITS)
        columns["dialogue_level2"][i] = result.level2
        for label2, p in result.level2_probabilities.items():
            columns[f"dialogue_level2_{label2}"][i] = round(p, DIGITS)


def column_stats(
    columns: dict[str, list[Any]], plan: TaskPlan, first_row: int, keep_errors: int = 5
) -> dict[str, Any]:
    """Counts per label, sums of probabilities and the first errors of a batch of rows.

    Stats of consecutive batches add up (:func:`merge_stats`), so a resumed run reports the same
    counts as an uninterrupted one.
    """
    errors = columns[ERROR_COLUMN]
    failed = [(first_row + i, e) for i, e in enumerate(errors) if e is not None]
    counts: dict[str, dict[str, int]] = {}
    sums: dict[str, dict[str, float]] = {}
    for group in plan.groups:
        tally: dict[str, int] = {}
        for value in columns[group.label_column]:
            if value is not None:
                tally[value] = tally.get(value, 0) + 1
        counts[group.name] = tally
        sums[group.name] = {
            label: float(sum(v for v in columns[column] if v is not None))
            for label, column in group.probability_columns
        }
    if "aspects" in plan.tasks:  # the opinions' polarities (the JSON is ours: one spelling)
        said = {
            label.value: sum(
                v.count(f'"polarity": "{label.value}"') for v in columns["aspects"] if v
            )
            for label in POLARITY_LABELS
        }
        counts["aspects"] = {label: n for label, n in said.items() if n}
    return {
        "rows": len(errors),
        "failed": len(failed),
        "counts": counts,
        "sums": sums,
        "errors": [f"row {row}: {message}" for row, message in failed[:keep_errors]],
    }


def merge_stats(parts: Sequence[dict[str, Any]], plan: TaskPlan, keep_errors: int = 5) -> dict:
    """Add up the stats of consecutive batches, in order."""
    total: dict[str, Any] = {"rows": 0, "failed": 0, "counts": {}, "sums": {}, "errors": []}
    for group in plan.groups:
        total["counts"][group.name] = {}
        total["sums"][group.name] = {label: 0.0 for label, _ in group.probability_columns}
    for part in parts:
        total["rows"] += part["rows"]
        total["failed"] += part["failed"]
        for name, tally in part["counts"].items():
            into = total["counts"].setdefault(name, {})
            for label, count in tally.items():
                into[label] = into.get(label, 0) + count
        for name, sums in part["sums"].items():
            for label, value in sums.items():
                total["sums"][name][label] += value
        room = keep_errors - len(total["errors"])
        if room > 0:
            total["errors"].extend(part["errors"][:room])
    return total
