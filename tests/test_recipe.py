"""Training recipes: label fields, hand labels that win over a corpus, files that never train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qinggan.errors import DataError
from qinggan.training.recipe import load_data, load_recipe

LABELS = ("negative", "neutral", "positive")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture()
def recipe_dir(tmp_path: Path) -> Path:
    _jsonl(
        tmp_path / "public.jsonl",
        [
            {"text": "好吃", "label": "positive"},
            {"text": "超级难吃，谁点谁后悔", "label": "positive"},  # a wrong public label
            {"text": "测试集里的句子", "label": "negative"},
            {"text": "套件里的句子", "label": "negative"},
        ],
    )
    _jsonl(
        tmp_path / "ours.jsonl",
        [
            {"text": "超级难吃，谁点谁后悔", "polarity": "negative", "emotion": "anger"},
            {"text": "请问几点开门", "polarity": "neutral", "emotion": "other"},
        ],
    )
    _jsonl(tmp_path / "test.jsonl", [{"text": "测试集里的句子", "polarity": "negative"}])
    _jsonl(tmp_path / "suite.jsonl", [{"text": "套件里的句子", "label": "negative"}])
    (tmp_path / "r.toml").write_text(
        """
name = "polarity"
[[source]]
local_path = "public.jsonl"
[[source]]
local_path = "ours.jsonl"
field = "polarity"
authoritative = true
[[exclude]]
local_path = "test.jsonl"
[[exclude]]
local_path = "suite.jsonl"
""",
        "utf-8",
    )
    return tmp_path


def test_recipe_hand_labels_win_and_excluded_texts_never_train(recipe_dir: Path) -> None:
    data = load_data(load_recipe(recipe_dir / "r.toml", LABELS))
    labels = {ex.text: ex.label for ex in data.train}
    assert labels == {
        "好吃": "positive",
        "超级难吃，谁点谁后悔": "negative",
        "请问几点开门": "neutral",
    }


def test_recipe_without_authority_drops_the_conflicting_text(recipe_dir: Path) -> None:
    toml = (recipe_dir / "r.toml").read_text("utf-8").replace("authoritative = true\n", "")
    (recipe_dir / "r.toml").write_text(toml, "utf-8")
    data = load_data(load_recipe(recipe_dir / "r.toml", LABELS))
    assert "超级难吃，谁点谁后悔" not in {ex.text for ex in data.train}


def test_recipe_missing_excluded_file_is_a_data_error(recipe_dir: Path) -> None:
    (recipe_dir / "suite.jsonl").unlink()
    with pytest.raises(DataError, match="excluded file not found"):
        load_data(load_recipe(recipe_dir / "r.toml", LABELS))
