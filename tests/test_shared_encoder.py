"""The shared encoder end to end, on tiny data written into tmp_path (never ../shared).

One encoder is trained once for the module (two heads: polarity, emotion); the tests check the
directory it writes, the ONNX runtime against the torch network, the transfer set (no dev or
excluded text, unlabelled texts counted once), a task model that takes a head as an ensemble
member, the fingerprint check when the encoder is replaced, the member cache, recipe errors and the
``qinggan train shared`` command.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")

import qinggan
from qinggan.cli.main import app
from qinggan.errors import ConfigError, ModelError
from qinggan.models.io import ModelMeta, write_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.models.neural import VOCAB_FILE, write_vocab
from qinggan.models.registry import EnsembleClassifier, load_classifier
from qinggan.models.shared import (
    ENCODER_FILE,
    SharedEncoder,
    SharedEncoderHead,
    shared_encoder,
)
from qinggan.text import normalize
from qinggan.training.recipe import load_recipe
from qinggan.training.shared import (
    HEAD_LABELS,
    load_shared_recipe,
    train_shared,
)
from qinggan.training.torch_shared import EncoderShape, HeadTargets, SharedTrainer
from qinggan.training.train import POLARITY_TASK, fit_member, train_model

TINY_ENCODER = """
[encoder]
embedding_dim = 8
filters = 8
widths = [2, 3]
hidden = 8
max_len = 40
vocab_size = 500
epochs = 2
batch_size = 16
learning_rate = 0.01
"""
LINEAR = """
[[model.components]]
architecture = "hashed-ngram-linear"
n_buckets = 4096
max_n = 2
alpha = 1e-4
epochs = 3
"""

# -- tiny corpora ----------------------------------------------------------------------------
THINGS = ["房间", "服务", "菜品", "价格", "快递", "客服", "屏幕", "电池", "环境", "质量"]
DEV_THINGS = ["位置", "包装", "味道", "速度"]
POLARITY = {
    "positive": "{}很好，非常满意",
    "negative": "{}太差了，很失望",
    "neutral": "请问{}在哪里看",
}
EMOTION = {
    "happy": "{}太棒了，好开心",
    "anger": "{}气死我了，我要投诉",
    "anxiety": "{}怎么还没好，急死了",
    "other": "{}的情况说明一下",
}
# a polarity dev text that the emotion recipe trains on: the encoder must not learn it
CROSS = POLARITY["positive"].format(DEV_THINGS[0])
# a text both heads train on (one row of the encoder's corpus)
BOTH = "这家店真不错，好开心"
EXCLUDED = "这是基准测试里的句子，不许训练"
NEW_UNLABELLED = [f"第{i}条没有标签的评论，{THINGS[i]}一般" for i in range(6)]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _rows(templates: dict[str, str], things: list[str]) -> list[dict[str, str]]:
    return [{"text": t.format(x), "label": label} for label, t in templates.items() for x in things]


def _recipe(path: Path, name: str, seed: int, body: str) -> Path:
    path.write_text(f'name = "{name}"\nseed = {seed}\n{body}', encoding="utf-8")
    return path


def _corpora(root: Path) -> dict[str, Path]:
    data = root / "data"
    files = {
        "pol_train": _write(
            data / "pol_train.jsonl",
            [*_rows(POLARITY, THINGS), {"text": BOTH, "label": "positive"}],
        ),
        "pol_dev": _write(data / "pol_dev.jsonl", _rows(POLARITY, DEV_THINGS)),
        "emo_train": _write(
            data / "emo_train.jsonl",
            [
                *_rows(EMOTION, THINGS),
                {"text": BOTH, "label": "happy"},
                {"text": CROSS, "label": "happy"},
            ],
        ),
        "emo_dev": _write(data / "emo_dev.jsonl", _rows(EMOTION, DEV_THINGS)),
        "exclude": _write(data / "exclude.jsonl", [{"text": EXCLUDED, "label": "neutral"}]),
        # a training text, a dev text, an excluded text, an empty one and six new ones
        "unlabelled": _write(
            data / "unlabelled.jsonl",
            [{"text": t} for t in NEW_UNLABELLED]
            + [
                {"text": NEW_UNLABELLED[0]},
                {"text": POLARITY["negative"].format(THINGS[0])},
                {"text": EMOTION["anger"].format(DEV_THINGS[1])},
                {"text": EXCLUDED},
                {"text": "   "},
                {"stars": 5},
            ],
        ),
    }
    return files


def _shared_config(root: Path, files: dict[str, Path], seed: int, heads: str | None = None) -> Path:
    pol = _recipe(
        root / "polarity.toml",
        "polarity",
        11,
        'data_root = "data"\n'
        + LINEAR
        + '\n[[source]]\nlocal_path = "data/pol_train.jsonl"\n'
        + '\n[[dev]]\nname = "pol_dev"\nlocal_path = "data/pol_dev.jsonl"\n'
        + '\n[[exclude]]\nlocal_path = "data/exclude.jsonl"\n',
    )
    emo = _recipe(
        root / "emotion.toml",
        "emotion",
        12,
        'data_root = "data"\n'
        + LINEAR
        + '\n[[source]]\nlocal_path = "data/emo_train.jsonl"\nweight = 2.0\n'
        + '\n[[dev]]\nname = "emo_dev"\nlocal_path = "data/emo_dev.jsonl"\n',
    )
    assert pol.exists() and emo.exists() and files
    heads = heads or (
        '[[head]]\nname = "polarity"\nrecipe = "polarity.toml"\n\n'
        '[[head]]\nname = "emotion"\nrecipe = "emotion.toml"\nweight = 0.5\n'
    )
    return _recipe(
        root / f"shared-{seed}.toml",
        "shared",
        seed,
        'data_root = "data"\n'
        + TINY_ENCODER
        + "\n[teacher]\nepochs = 1\n\n"
        + heads
        + '\n[distill]\nweight = 1.0\nsources = ["unlabelled.jsonl"]\n',
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("shared")
    files = _corpora(root)
    config = _shared_config(root, files, seed=7)
    recipe = load_shared_recipe(config)
    models = root / "models"
    cache = root / "cache"
    report = train_shared(recipe, models / "shared", cache=cache)
    return {
        "root": root,
        "files": files,
        "config": config,
        "recipe": recipe,
        "models": models,
        "cache": cache,
        "report": report,
    }


@pytest.fixture(scope="module")
def task_model(built: dict[str, Any]) -> dict[str, Any]:
    """A polarity model whose members are a linear model and the encoder's polarity head."""
    root: Path = built["root"]
    config = _recipe(
        root / "polarity_task.toml",
        "polarity",
        11,
        'data_root = "data"\n'
        + LINEAR
        + '\n[[model.components]]\narchitecture = "shared-encoder-head"\n'
        + 'encoder = "shared"\nhead = "polarity"\n'
        + '\n[[source]]\nlocal_path = "data/pol_train.jsonl"\n'
        + '\n[[dev]]\nname = "pol_dev"\nlocal_path = "data/pol_dev.jsonl"\n'
        + '\n[[exclude]]\nlocal_path = "data/exclude.jsonl"\n',
    )
    cache: Path = built["cache"]
    before = {p.name: (p / "done").stat().st_mtime_ns for p in cache.iterdir()}
    output = built["models"] / "polarity"
    report = train_model(
        POLARITY_TASK, load_recipe(config, POLARITY_TASK.labels), output, cache=cache
    )
    after = {p.name: (p / "done").stat().st_mtime_ns for p in cache.iterdir()}
    return {"output": output, "report": report, "cache_before": before, "cache_after": after}


# -- the encoder's directory -----------------------------------------------------------------
def test_train_shared_writes_a_complete_encoder_directory(built: dict[str, Any]) -> None:
    out: Path = built["models"] / "shared"
    for name in (ENCODER_FILE, VOCAB_FILE, "meta.json", "MODEL_CARD.md"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    meta = json.loads((out / "meta.json").read_text("utf-8"))
    assert meta["architecture"] == "shared-encoder"
    assert meta["task"] == "shared"
    heads = meta["hyperparameters"]["heads"]
    assert set(heads) == {"polarity", "emotion"}  # meta.json keys are sorted
    assert set(heads["polarity"]) == {"positive", "negative", "neutral"}
    assert set(heads["emotion"]) == {"happy", "anger", "anxiety", "other"}
    for name, labels in heads.items():
        assert set(labels) <= set(HEAD_LABELS[name])
    assert meta["hyperparameters"]["max_len"] == 40
    assert meta["hyperparameters"]["encoder"]["filters"] == 8
    card = (out / "MODEL_CARD.md").read_text("utf-8")
    assert "pol_dev" in card and "emo_dev" in card and "2 heads" in card

    report = built["report"]
    assert set(report.stages) == {"linear", "network_gold_only", "teacher", "student"}
    for stage in report.stages.values():
        assert set(stage) == {"polarity", "emotion"}
        assert set(stage["polarity"]) == {"pol_dev"}
        assert stage["polarity"]["pol_dev"]["n"] == 12
        assert stage["emotion"]["emo_dev"]["n"] == 16
        for devs in stage.values():
            for m in devs.values():
                assert 0.0 <= m["accuracy"] <= 1.0 and 0.0 <= m["macro_f1"] <= 1.0
    # the linear members separate these templates perfectly on dev
    assert report.stages["linear"]["polarity"]["pol_dev"]["accuracy"] == 1.0
    assert meta["metrics"] == json.loads(json.dumps(report.stages["student"]))


def test_transfer_set_has_no_dev_or_excluded_text(built: dict[str, Any]) -> None:
    report = built["report"]
    pol_train = {normalize(t.format(x)) for t in POLARITY.values() for x in THINGS} | {
        normalize(BOTH)
    }
    emo_train = {normalize(t.format(x)) for t in EMOTION.values() for x in THINGS} | {
        normalize(BOTH)
    }
    # CROSS trains the emotion recipe's linear member, but it is a polarity dev text: the shared
    # network never sees it (neither as gold nor in the transfer set)
    assert report.n_train == len(pol_train | emo_train)
    # the unlabelled file adds its six new texts once; the repeated, training, dev, excluded and
    # empty rows add nothing
    assert report.n_transfer == report.n_train + len(NEW_UNLABELLED)
    meta = json.loads((built["models"] / "shared" / "meta.json").read_text("utf-8"))
    assert meta["training_data"]["gold_texts"] == report.n_train
    assert meta["training_data"]["transfer_texts"] == report.n_transfer
    assert meta["training_data"]["heads"]["emotion"]["rows"] == len(emo_train)


# -- the ONNX runtime ------------------------------------------------------------------------
def test_encoder_scores_per_head_batch_equals_one_by_one(built: dict[str, Any]) -> None:
    encoder = SharedEncoder(built["models"] / "shared")
    texts = [
        "房间很好，非常满意",
        "气死我了",
        "好",
        "",
        "一个从来没有见过的长句子" * 20,
        "快递太差了，很失望",
    ]
    batch = encoder.scores(texts)
    assert set(batch) == {"polarity", "emotion"}
    assert batch["polarity"].shape == (len(texts), 3)
    assert batch["emotion"].shape == (len(texts), 4)
    for name, matrix in batch.items():
        assert np.isfinite(matrix).all(), name
    batch = {k: v.copy() for k, v in batch.items()}
    for i, text in enumerate(texts):
        one = encoder.scores([text])
        for name in batch:
            np.testing.assert_allclose(one[name][0], batch[name][i], rtol=1e-4, atol=1e-4)
    # small chunks (several padded batches) give the same scores
    chunked = SharedEncoder(built["models"] / "shared").scores(texts, chunk=2)
    for name in batch:
        np.testing.assert_allclose(chunked[name], batch[name], rtol=1e-4, atol=1e-4)
    assert len(encoder.fingerprint) == 16


def test_onnx_export_agrees_with_the_torch_network(tmp_path: Path) -> None:
    texts = [t.format(x) for t in POLARITY.values() for x in THINGS]
    labels = [label for label in POLARITY for _ in THINGS]
    classes = ("positive", "negative", "neutral")
    shape = EncoderShape(
        embedding_dim=8,
        filters=8,
        widths=(2, 3),
        hidden=8,
        max_len=12,
        vocab_size=200,
        epochs=3,
        batch_size=8,
        learning_rate=0.02,
    )
    n = len(texts)
    targets = {
        "polarity": HeadTargets(
            labels=classes,
            gold=np.array([classes.index(label) for label in labels], dtype=np.int64),
            gold_weight=np.ones(n, dtype=np.float32),
        ),
        "sarcasm": HeadTargets(
            labels=("non_sarcasm", "sarcasm"),
            gold=np.full(n, -1, dtype=np.int64),
            gold_weight=np.zeros(n, dtype=np.float32),
            soft=np.tile(np.array([[0.8, 0.2]], dtype=np.float32), (n, 1)),
            soft_weight=np.ones(n, dtype=np.float32),
        ),
    }
    trainer = SharedTrainer(shape, seed=3).fit(texts, targets)
    out = tmp_path / "shared"
    out.mkdir()
    (out / ENCODER_FILE).write_bytes(trainer.export())
    write_vocab(out / VOCAB_FILE, trainer.vocab)
    write_meta(
        out,
        ModelMeta(
            name="t",
            task="shared",
            architecture="shared-encoder",
            labels=["polarity", "sarcasm"],
            hyperparameters={
                "heads": {"polarity": list(classes), "sarcasm": ["non_sarcasm", "sarcasm"]},
                "max_len": shape.max_len,
            },
        ),
    )
    probe = [*texts[:5], "一个很长很长的句子，比最大长度长得多，头和尾都要留下来" * 3, "好"]
    torch_scores = trainer.scores(probe)
    onnx_scores = SharedEncoder(out).scores(probe)
    for name in ("polarity", "sarcasm"):
        np.testing.assert_allclose(onnx_scores[name], torch_scores[name], rtol=1e-4, atol=1e-4)
        assert (onnx_scores[name].argmax(1) == torch_scores[name].argmax(1)).all()


# -- a task model with a head of the encoder --------------------------------------------------
def test_task_model_with_a_shared_head_writes_loads_and_answers(
    built: dict[str, Any], task_model: dict[str, Any]
) -> None:
    output: Path = task_model["output"]
    meta = json.loads((output / "meta.json").read_text("utf-8"))
    assert meta["architecture"] == "ensemble"
    archs = [c["architecture"] for c in meta["components"]]
    assert archs == ["hashed-ngram-linear", "shared-encoder-head"]
    head = meta["components"][1]["hyperparameters"]
    fingerprint = SharedEncoder(built["models"] / "shared").fingerprint
    assert head["fingerprint"] == fingerprint
    assert head["encoder"] == "shared" and head["head"] == "polarity"
    assert not any(p.suffix == ".onnx" for p in output.iterdir())  # the head saves nothing

    _, classifier = load_classifier(output)
    assert isinstance(classifier, EnsembleClassifier)
    assert list(classifier.classes_) == meta["labels"]
    probs = classifier.predict_proba(["房间很好，非常满意", "快递太差了，很失望"])
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)

    analyzer = qinggan.Analyzer(output)
    result = analyzer.analyze("服务很好，非常满意")
    assert result.label.value in {"positive", "negative", "neutral"}
    assert abs(sum(result.probabilities.values()) - 1.0) < 1e-6
    assert result.label.value == "positive"


def test_task_model_reuses_the_linear_member_from_the_cache(task_model: dict[str, Any]) -> None:
    # the shared encoder's training fitted the polarity recipe's linear member on the same rows:
    # the task model reuses it (no new folder, the old one untouched)
    assert task_model["cache_after"] == task_model["cache_before"]


def test_replaced_encoder_is_refused_until_the_task_model_is_retrained(
    built: dict[str, Any], task_model: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    recipe = load_shared_recipe(_shared_config(built["root"], built["files"], seed=8))
    train_shared(recipe, other / "shared")
    assert (
        SharedEncoder(other / "shared").fingerprint
        != SharedEncoder(built["models"] / "shared").fingerprint
    )

    # a copy of the task model beside the other encoder
    shutil.copytree(task_model["output"], other / "polarity")
    with pytest.raises(ModelError, match="retrain"):
        load_classifier(other / "polarity")

    # the encoder replaced in place, in a process that had already loaded the old one
    swap = tmp_path / "swap"
    shutil.copytree(built["models"] / "shared", swap / "shared")
    shutil.copytree(task_model["output"], swap / "polarity")
    load_classifier(swap / "polarity")
    for name in (ENCODER_FILE, VOCAB_FILE, "meta.json"):
        shutil.copy2(other / "shared" / name, swap / "shared" / name)
    with pytest.raises(ModelError, match="retrain"):
        load_classifier(swap / "polarity")


def test_head_refuses_unknown_head_wrong_labels_fit_and_saves_nothing(
    built: dict[str, Any], tmp_path: Path
) -> None:
    polarity_dir = built["models"] / "polarity_probe"
    with pytest.raises(ModelError, match="sarcasm"):
        SharedEncoderHead(head="sarcasm").attach(polarity_dir)
    with pytest.raises(ModelError, match="retrain"):
        SharedEncoderHead(head="polarity", fingerprint="0" * 16).attach(polarity_dir)
    labels = SharedEncoder(built["models"] / "shared").heads["polarity"]
    head = SharedEncoderHead.load(polarity_dir, {"encoder": "shared", "head": "polarity"}, labels)
    assert (
        head.fingerprint == shared_encoder(str((built["models"] / "shared").resolve())).fingerprint
    )
    with pytest.raises(ModelError, match="labels"):
        SharedEncoderHead.load(
            polarity_dir, {"encoder": "shared", "head": "polarity"}, list(reversed(labels))
        )
    with pytest.raises(ModelError):
        head.fit(["x"], ["positive"])
    with pytest.raises(ModelError, match="not attached"):
        SharedEncoderHead().decision_function(["x"])
    head.save(tmp_path)
    assert list(tmp_path.iterdir()) == []
    probs = head.predict_proba(["房间很好", "太差了"])
    assert probs.shape == (2, len(labels))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


# -- recipes -----------------------------------------------------------------------------------
def test_unknown_head_or_encoder_setting_is_a_config_error(built: dict[str, Any]) -> None:
    root: Path = built["root"]
    bad = _shared_config(
        root, built["files"], seed=9, heads='[[head]]\nname = "irony"\nrecipe = "polarity.toml"\n'
    )
    with pytest.raises(ConfigError, match="unknown head 'irony'"):
        load_shared_recipe(bad)
    text = built["config"].read_text("utf-8").replace("hidden = 8", "hidden = 8\ndepth = 3")
    (root / "bad-encoder.toml").write_text(text, "utf-8")
    with pytest.raises(ConfigError, match="depth"):
        load_shared_recipe(root / "bad-encoder.toml")
    no_heads = built["config"].read_text("utf-8").split("[[head]]")[0]
    (root / "no-heads.toml").write_text(no_heads, "utf-8")
    with pytest.raises(ConfigError, match="no \\[\\[head\\]\\]"):
        load_shared_recipe(root / "no-heads.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_shared_recipe(root / "missing.toml")


def test_loaded_recipe_resolves_heads_and_shapes(built: dict[str, Any]) -> None:
    recipe = built["recipe"]
    assert [h.name for h in recipe.heads] == ["polarity", "emotion"]
    assert [h.weight for h in recipe.heads] == [1.0, 0.5]
    assert recipe.encoder.epochs == 2 and recipe.teacher.epochs == 1
    assert recipe.teacher.filters == recipe.encoder.filters == 8
    assert recipe.encoder.widths == (2, 3)
    assert recipe.distill_sources == [built["files"]["unlabelled"]]


# -- the member cache ------------------------------------------------------------------------
def test_member_cache_reuses_a_fitted_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = {
        "architecture": "hashed-ngram-linear",
        "n_buckets": 2048,
        "max_n": 2,
        "epochs": 2,
        "seed": 1,
    }
    texts = [t.format(x) for t in POLARITY.values() for x in THINGS]
    labels = [label for label in POLARITY for _ in THINGS]
    weights = [1.0] * len(texts)
    first = fit_member(spec, texts, labels, weights, "fp1", tmp_path)
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1 and (folders[0] / "done").is_file()
    stamp = (folders[0] / "done").stat().st_mtime_ns

    def refit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the cached member was fitted again")

    monkeypatch.setattr(HashedLinearClassifier, "fit", refit)
    second = fit_member(spec, texts, labels, weights, "fp1", tmp_path)
    assert tuple(second.classes_) == tuple(first.classes_)
    np.testing.assert_array_equal(second.weights_, first.weights_)
    np.testing.assert_array_equal(second.bias_, first.bias_)
    np.testing.assert_allclose(
        second.predict_proba(texts[:4]), first.predict_proba(texts[:4]), rtol=1e-6
    )
    assert (folders[0] / "done").stat().st_mtime_ns == stamp
    # other data or another spec is a miss (and here would refit)
    with pytest.raises(AssertionError, match="fitted again"):
        fit_member(spec, texts, labels, weights, "fp2", tmp_path)
    with pytest.raises(AssertionError, match="fitted again"):
        fit_member({**spec, "seed": 2}, texts, labels, weights, "fp1", tmp_path)


# -- the command -------------------------------------------------------------------------------
def test_cli_train_shared_with_limit(built: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "cli-shared"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "shared",
            "--config",
            str(built["config"]),
            "--output",
            str(out),
            "--limit",
            "6",
            "--cache",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert "shared encoder trained on" in result.stdout
    assert "polarity dev pol_dev: n=6" in result.stdout
    encoder = SharedEncoder(out)
    assert set(encoder.heads) == {"polarity", "emotion"}
    meta = json.loads((out / "meta.json").read_text("utf-8"))
    # at most 6 rows per head, at most 6 rows of the unlabelled file
    assert meta["training_data"]["gold_texts"] <= 12
    assert meta["training_data"]["transfer_texts"] <= 12 + 6
    assert any((tmp_path / "cache").iterdir())


def test_cli_train_shared_missing_config_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(
        app, ["train", "shared", "--config", str(missing), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "cannot read training config" in result.stderr
    assert "nope.toml" in result.stderr
    assert not (tmp_path / "o" / "meta.json").exists()


def test_cli_train_shared_reads_its_corpora_under_data_root(
    built: dict[str, Any], tmp_path: Path
) -> None:
    # another copy of the corpora (the fixture's recipes keep theirs under data_root too): its
    # unlabelled file holds two new texts only
    copy = tmp_path / "copy"
    shutil.copytree(built["root"] / "data", copy)
    _write(
        copy / "unlabelled.jsonl", [{"text": "完全不同的第一句话"}, {"text": "另一句没见过的话"}]
    )
    out = tmp_path / "rebased"
    args = ["train", "shared", "--config", str(built["config"]), "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--data-root", str(copy), "--limit", "6"])
    assert result.exit_code == 0, result.output + result.stderr
    meta = json.loads((out / "meta.json").read_text("utf-8"))
    assert meta["training_data"]["transfer_texts"] == meta["training_data"]["gold_texts"] + 2
    missing = CliRunner().invoke(app, [*args, "--data-root", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "is not a folder" in missing.stderr
