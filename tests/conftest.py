"""Shared fixtures: the shipped analyzer, and tiny models trained in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import qinggan

FIXTURES = Path(__file__).parent / "fixtures"

TINY_TEXTS = [
    "房间很干净，服务也周到",
    "非常满意，下次还会再来",
    "质量很好，物流也快，好评",
    "太差了，再也不来了",
    "服务态度恶劣，房间又脏又吵",
    "质量太差，用了两天就坏了",
    "请问怎么修改收货地址",
    "明天几点开门营业",
    "国务院召开常务会议",
]
TINY_LABELS = ["positive"] * 3 + ["negative"] * 3 + ["neutral"] * 3


@pytest.fixture(scope="session")
def analyzer() -> qinggan.Analyzer:
    return qinggan.Analyzer().load()


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


def run_cli(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m qinggan ARGS` in a fresh process, as a user would."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "qinggan", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )
