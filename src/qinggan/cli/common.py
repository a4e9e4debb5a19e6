"""What every command shares: error exits, the missing-extra message, output helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from qinggan.engine import Analyzer

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2
#: a missing extra is a set-up mistake of the user's, like any other: exit 2 with the fix
EXIT_MISSING_EXTRA = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug of ours
#: PyTorch of the `train` extra: the CPU build, pinned (plain `pip install torch` pulls several
#: GB of CUDA wheels); the same pin as ./scripts/test and the README
TORCH_PIN = "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: the whole command that installs each extra
INSTALL_LINES = {
    "train": f"pip install '{TORCH_PIN}' --index-url {TORCH_CPU_INDEX} && "
    "pip install 'qinggan[train]'",
}
#: longest text shown in a table cell (the JSON output always carries the whole text)
TABLE_TEXT_CHARS = 60


def install_line(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return INSTALL_LINES.get(extra, f"pip install 'qinggan[{extra}]'")


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    raise typer.Exit(code)


def require_extra(extra: str, *modules: str) -> None:
    """Exit 2 with the exact install line when a module of an optional extra is missing."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        fail(
            f"this command needs the '{extra}' extra (missing: {', '.join(missing)}); "
            f"install it with: {install_line(extra)}",
            EXIT_MISSING_EXTRA,
        )


def shorten(text: str, limit: int = TABLE_TEXT_CHARS) -> str:
    """``text`` on one line and at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


#: the task of the model each command answers with, as `meta.json` names it
TASK_OF_COMMAND = {
    "analyze": "polarity",
    "emotions": "emotion",
    "evaluate polarity": "polarity",
    "evaluate emotion": "emotion",
}


def open_analyzer(
    model: Path | None, command: str | None = None, max_bytes: int | None = None
) -> Analyzer:
    """The Analyzer of a command: the shipped models, or ``model``; when ``command`` answers one
    task (:data:`TASK_OF_COMMAND`), ``model`` must be of that task (exit 2 naming the model's
    task otherwise). ``max_bytes`` 0 or None: no limit."""
    from qinggan.engine import Analyzer, load
    from qinggan.errors import QingganError
    from qinggan.models.io import read_meta

    try:
        if model is None:
            return Analyzer(max_bytes=max_bytes)
        wanted = TASK_OF_COMMAND.get(command or "")
        task = read_meta(model).task
        if wanted is not None and task != wanted:
            fail(
                f"{model} holds a model for task {task!r}; `qinggan {command}` needs a "
                f"{wanted!r} model (train one with `qinggan train {wanted}`)"
            )
        return load(model, max_bytes=max_bytes)
    except QingganError as exc:
        fail(str(exc))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
