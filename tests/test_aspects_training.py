"""Training of the aspect model: overfit a tiny fixture, save, reload, same predictions."""

from __future__ import annotations

from pathlib import Path

import pytest

import qinggan
from qinggan.absa.model import AspectModel
from qinggan.errors import ConfigError, ModelError
from qinggan.training.aspects import AspectRecipe, load_recipe, train_aspects
from qinggan.training.aspects_eval import evaluate_aspect_polarity, evaluate_aspects
from tests.conftest import run_cli

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, fixtures: Path) -> Path:
    triplets = fixtures / "aspects_tiny.jsonl"
    apc = fixtures / "aspects_tiny_apc.jsonl"
    recipe = AspectRecipe(
        name="aspects-tiny",
        seed=3,
        extract_train=[triplets],
        extract_dev=[triplets],
        apc_train=[apc],
        apc_dev=[apc],
        vocab_min_count=1,
        embedding_dim=16,
        channels=16,
        dilations=(1,),
        rnn_hidden=8,
        pair_hidden=16,
        dropout=0.0,
        extract_epochs=30,
        bigram_vocab_size=50,
        bigram_min_count=1,
        apc_epochs=30,
        batch_size=4,
        learning_rate=2e-2,
        thresholds=(0.5,),
        select_on_dev=False,
        threads=1,
    )
    output = tmp_path_factory.mktemp("aspects") / "model"
    train_aspects(recipe, output)
    return output


def test_aspects_training_overfits_saves_and_reloads(tiny_model: Path, fixtures: Path) -> None:
    for name in (
        "meta.json",
        "vocab.tsv",
        "extract.onnx",
        "pair.onnx",
        "apc.onnx",
        "MODEL_CARD.md",
    ):
        assert (tiny_model / name).is_file(), name
    analyzer = qinggan.load(tiny_model)
    scores = evaluate_aspects(fixtures / "aspects_tiny.jsonl", analyzer)
    assert scores["triplet_f1"] == 1.0, scores
    polar = evaluate_aspect_polarity(fixtures / "aspects_tiny_apc.jsonl", analyzer)
    assert polar["accuracy"] == 1.0, polar
    meta = AspectModel.load(tiny_model).meta
    assert meta is not None and meta.metrics["extraction_dev"]["triplet_f1"] == 1.0
    texts = ["菜很好吃，但是服务太慢了", "很惊艳", "今天下雨了"]
    first = [r.to_dict() for r in analyzer.aspects_batch(texts)]
    again = [r.to_dict() for r in qinggan.Analyzer(aspect_model=tiny_model).aspects_batch(texts)]
    assert first == again
    assert first[2]["opinions"] == []
    implicit = first[1]["opinions"]
    assert [(o["aspect"], o["opinion"], o["polarity"]) for o in implicit] == [
        (None, "很惊艳", "positive")
    ]
    # a saved model round-trips byte for byte
    model = AspectModel.load(tiny_model)
    copy = tiny_model.parent / "copy"
    assert model.meta is not None
    model.save(copy, model.meta)
    for name in ("vocab.tsv", "extract.onnx", "pair.onnx", "apc.onnx"):
        assert (copy / name).read_bytes() == (tiny_model / name).read_bytes()


def test_aspects_model_directory_errors(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(ModelError, match=r"meta\.json"):
        AspectModel.load(tmp_path)
    with pytest.raises(ModelError, match="not an aspect model"):
        AspectModel.load(Path(qinggan.__file__).parent / "resources" / "models" / "polarity")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_bytes((tiny_model / "meta.json").read_bytes())
    with pytest.raises(ModelError, match="cannot read"):
        AspectModel.load(broken)


def test_aspects_recipe_errors(tmp_path: Path) -> None:
    bad = tmp_path / "r.toml"
    bad.write_text('data_root = "."\n[extract]\ntrain = "missing.jsonl"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"missing\.jsonl"):
        load_recipe(bad)
    bad.write_text("[extract\n", "utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_recipe(bad)
    shipped = Path(__file__).parents[1] / "configs" / "aspects.toml"
    assert "extract" in shipped.read_text("utf-8")


def test_aspects_train_cli_reports_a_bad_recipe(tmp_path: Path) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text('data_root = "."\n[extract]\ntrain = "nope.jsonl"\n', "utf-8")
    done = run_cli("train", "aspects", "--config", str(recipe), "--output", str(tmp_path / "m"))
    assert done.returncode == 2, done.stderr
    assert b"nope.jsonl" in done.stderr and b"Traceback" not in done.stderr
