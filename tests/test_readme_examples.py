"""The README's examples, executed: its library quickstart, and its signed request for each vendor
(the `<!-- readme-example: NAME -->` bash blocks) run by bash against a real `qinggan serve` on
loopback, as a user would paste them. Also the facts the README states that live in code: the
default app limits, the CPU-only PyTorch pin beside every `[train]`, and accuracy figures that
agree with the committed benchmark results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qinggan.cli.common import TORCH_CPU_INDEX, TORCH_PIN
from qinggan.engine import default_model_dir
from qinggan.service.apps import DEFAULT_DAILY_QUOTA, DEFAULT_RPS

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = re.compile(r"<!-- readme-example: (\w+) -->\n```bash\n(.*?)\n```", re.S)
EXAMPLES = dict(EXAMPLE.findall(README))
BASE_LINE = "BASE=http://localhost:8000"


def _env(**extra: str) -> dict[str, str]:
    """The user's shell: the virtual environment's `qinggan` and `python3` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGGAN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONIOENCODING"] = "utf-8"
    return {**env, **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`qinggan serve` on a free loopback port over a fresh SQLite file, with one app."""
    pytest.importorskip("uvicorn")
    if shutil.which("curl") is None:
        pytest.skip("the README's examples use curl")
    home = tmp_path_factory.mktemp("readme")
    env = _env(QINGGAN_DB_URL=f"sqlite:///{home / 'qinggan.db'}")
    added = subprocess.run(
        [sys.executable, "-m", "qinggan", "apps", "add", "readme", "--json"],
        env=env, cwd=home, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    app = json.loads(added.stdout)
    from tests.service.conftest import free_port, serve_process

    port = free_port()
    command = [sys.executable, "-m", "qinggan", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serve_process(command, env, home / "serve.log", port, cwd=home, timeout_s=120) as base:
        yield {
            **env,
            "APP_ID": app["app_id"],
            "SECRET": app["secret"],
            "BASE": base,
            "HOME_DIR": str(home),
        }


def _run_example(name: str, server: dict[str, str]) -> Any:
    """Run the README's block ``name`` with bash; the JSON of its last line of output."""
    block = EXAMPLES[name]
    assert block.count(BASE_LINE) == 1, f"{name}: the block must set {BASE_LINE} once"
    script = block.replace(BASE_LINE, f"BASE={server['BASE']}")
    env = {k: v for k, v in server.items() if k not in ("BASE", "HOME_DIR")}
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env, cwd=server["HOME_DIR"], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1]
    return json.loads(last)


def test_readme_has_a_signed_example_per_vendor() -> None:
    assert {"jumdata", "iflytek", "wecom"} <= set(EXAMPLES)


def test_readme_jumdata_example_runs(server: dict[str, str]) -> None:
    answer = _run_example("jumdata", server)
    assert answer["code"] == 200 and answer["charge"] is True, answer
    assert answer["data"]["items"][0]["sentiment"] == 2  # Jumdata's 2 = positive


def test_readme_iflytek_example_runs(server: dict[str, str]) -> None:
    answer = _run_example("iflytek", server)
    assert answer["code"] == "0" and answer["desc"] == "success", answer
    assert answer["data"]["sa"][0]["sentiment"] == 2  # iFlytek's 2 = negative


def test_readme_wecom_example_runs(server: dict[str, str]) -> None:
    answer = _run_example("wecom", server)
    assert answer["errcode"] == 0 and answer["status"] == 1, answer
    results = {item["msgid"]: item for item in answer["analyze_result_list"]}
    assert results["m1"]["sentiment_result"] == 1 and results["m2"]["sentiment_result"] == 2


def test_readme_library_quickstart_runs(tmp_path: Path) -> None:
    start = README.index("## Quickstart: library")
    block = re.search(r"```python\n(.*?)\n```", README[start:], re.S)
    assert block is not None
    (tmp_path / "my_model").symlink_to(default_model_dir("polarity"))  # "a model you trained"
    code = (
        block.group(1) + "\nassert len(qinggan.analyze_batch(['好吃', ''], errors='report')) == 2\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_readme_states_the_default_app_limits() -> None:
    assert f"**{DEFAULT_DAILY_QUOTA:,} calls per UTC day**" in README
    assert f"**{DEFAULT_RPS} requests per second**" in README


def test_readme_pins_cpu_torch_wherever_train_is_installed() -> None:
    paragraphs = re.split(r"\n\s*\n", README)
    with_train = [p for p in paragraphs if "[train]" in p]
    assert with_train
    for paragraph in with_train:
        assert TORCH_PIN in paragraph, paragraph
    assert TORCH_CPU_INDEX in README
    assert TORCH_PIN in (REPO_ROOT / "scripts" / "test").read_text(encoding="utf-8")


def test_readme_accuracy_figures_agree_with_the_benchmark_results() -> None:
    results = json.loads((REPO_ROOT / "benchmarks/results/latest.json").read_text("utf-8"))
    datasets = results["accuracy"]["polarity"]["datasets"]

    def row(label: str) -> list[str]:
        lines = [line for line in README.splitlines() if line.startswith(f"| {label} |")]
        assert len(lines) == 1, label
        return [cell.strip(" *") for cell in lines[0].strip("|").split("|")]

    # the speed table quotes dev sets the benchmark scores whole, so they equal the model card's
    for label, name, card in [
        ("ChnSentiCorp dev accuracy", "polarity/chnsenticorp", "ChnSentiCorp"),
        ("waimai_10k dev accuracy", "polarity/waimai_10k", "waimai_10k"),
    ]:
        scored = datasets[name]
        assert str(scored["n_eval"]) == row(card)[2]
        ours, fast = scored["results"]["qinggan"], scored["results"]["qinggan-fast"]
        assert row(label)[1:3] == [f"{ours['accuracy']:.3f}", f"{fast['accuracy']:.3f}"]
        assert (
            row(card)[5] == f"{ours['accuracy']:.4f}" and row(card)[3] == f"{fast['accuracy']:.4f}"
        )
    whole = datasets["polarity/online_shopping_10_cats"]["qinggan_full_split"]
    assert row("online_shopping_10_cats")[5] == f"{whole['accuracy']:.4f}"
    assert f"online_shopping_10_cats {whole['accuracy']:.4f}" in README
