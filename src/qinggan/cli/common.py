"""What every command shares: error exits, the missing-extra message, output helpers."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2
EXIT_MISSING_EXTRA = 1
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug of ours


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    raise typer.Exit(code)


def require_extra(extra: str, *modules: str) -> None:
    """Exit 1 with the exact pip line when a module of an optional extra is missing."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        fail(
            f"this command needs the '{extra}' extra (missing: {', '.join(missing)}); "
            f"install it with: pip install 'qinggan[{extra}]'",
            EXIT_MISSING_EXTRA,
        )


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
