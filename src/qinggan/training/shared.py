"""Train the shared encoder: a multi-task teacher, its soft labels, and the distilled student.

Steps (``qinggan train shared --config configs/shared.toml``):

1. every head's recipe (``configs/polarity.toml``, ``emotion.toml``, ``talk_emotion.toml``,
   ``sarcasm.toml``) gives its gold rows, weights and dev sets, exactly as the task's own training;
2. per head, the recipe's linear member is fitted (or reused from the member cache);
3. a first shared network is fitted multi-task on the gold rows of every head;
4. the teacher of each head mixes the linear member and that network (weight and temperature
   chosen on the head's dev sets);
5. the teacher gives soft labels for every head on the transfer set: every training text plus the
   unlabelled texts the ``[distill]`` table names (never a dev text, never an excluded file);
6. the student (the shipped encoder) is fitted on gold labels and soft labels together.

The encoder's ``meta.json`` keeps each stage's dev metrics per head (linear, network on gold only,
teacher, student): the ablation of the design.
"""

from __future__ import annotations

import itertools
import logging
import random
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qinggan.errors import ConfigError, DataError
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS, Sarcasm, TalkLevel2
from qinggan.models.base import log_proba, softmax
from qinggan.models.io import ModelMeta, write_meta
from qinggan.models.neural import VOCAB_FILE, write_vocab
from qinggan.models.shared import ENCODER_ARCHITECTURE, ENCODER_FILE
from qinggan.text import normalize
from qinggan.training.cascade import fit_temperature
from qinggan.training.corpora import read_records
from qinggan.training.recipe import Recipe, TrainingData, load_data, load_recipe, texts_of
from qinggan.training.torch_shared import EncoderShape, HeadTargets, SharedTrainer
from qinggan.training.train import (
    POLARITY_TASK,
    TaskSpec,
    classes_task,
    fit_member,
    headline_metrics,
)

logger = logging.getLogger("qinggan")

#: the heads the shared encoder may have, and each one's label set
HEAD_LABELS: dict[str, tuple[str, ...]] = {
    "polarity": tuple(label.value for label in POLARITY_LABELS),
    "emotion": tuple(label.value for label in EMOTION8_LABELS),
    "talk_emotion": tuple(label.value for label in TalkLevel2),
    "sarcasm": tuple(label.value for label in Sarcasm),
}

Progress = Callable[[str, int, int], None]


@dataclass
class HeadRecipe:
    name: str
    recipe: Recipe
    weight: float = 1.0


@dataclass
class SharedRecipe:
    name: str
    heads: list[HeadRecipe]
    encoder: EncoderShape
    teacher: EncoderShape
    distill_sources: list[Path] = field(default_factory=list)
    distill_weight: float = 1.0
    seed: int = 0
    data_root: Path | None = None
    # word2vec settings for the unit vectors that start both networks' embeddings ({} = none)
    pretrain: dict[str, Any] = field(default_factory=dict)


@dataclass
class SharedReport:
    output: Path
    n_train: int
    n_transfer: int
    stages: dict[str, dict[str, dict[str, dict[str, Any]]]]  # stage -> head -> dev set -> metrics


def load_shared_recipe(path: Path) -> SharedRecipe:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}") from exc
    root = (path.parent / raw.get("data_root", ".")).resolve()
    heads = []
    for entry in raw.get("head", []):
        name = entry.get("name")
        if name not in HEAD_LABELS:
            raise ConfigError(f"{path}: unknown head {name!r}; expected one of {list(HEAD_LABELS)}")
        recipe = load_recipe((path.parent / entry["recipe"]).resolve(), HEAD_LABELS[name])
        heads.append(HeadRecipe(name, recipe, float(entry.get("weight", 1.0))))
    if not heads:
        raise ConfigError(f"{path}: no [[head]] entries")
    try:
        encoder = EncoderShape.from_dict(raw.get("encoder", {}))
        teacher = EncoderShape.from_dict({**raw.get("encoder", {}), **raw.get("teacher", {})})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    distill = raw.get("distill", {})
    return SharedRecipe(
        name=str(raw.get("name", path.stem)),
        heads=heads,
        encoder=encoder,
        teacher=teacher,
        distill_sources=[root / p for p in distill.get("sources", [])],
        distill_weight=float(distill.get("weight", 1.0)),
        seed=int(raw.get("seed", 0)),
        data_root=root,
        pretrain=dict(raw.get("pretrain", {})),
    )


def _task(name: str) -> TaskSpec:
    return POLARITY_TASK if name == "polarity" else classes_task(name, HEAD_LABELS[name])


def _limited(data: TrainingData, limit: int | None, seed: int) -> TrainingData:
    if limit is None or len(data.train) <= limit:
        return data
    train = random.Random(seed).sample(data.train, limit)
    dev = {name: rows[:limit] for name, rows in data.dev.items()}
    return TrainingData(train, dev, data.fingerprint + f"-{limit}", data.sources)


class _Corpus:
    """Every training text once (normalised), with each head's gold label where it has one."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, text: str) -> int:
        row = self.index.get(text)
        if row is None:
            row = self.index[text] = len(self.texts)
            self.texts.append(text)
        return row


def _dev_scores(
    task: TaskSpec,
    gold: dict[str, list[str]],
    logp: dict[str, np.ndarray],
    classes: tuple[str, ...],
) -> dict[str, dict[str, Any]]:
    return {
        name: headline_metrics(task.score(gold[name], softmax(logp[name]), classes))
        for name in gold
    }


def _mix(
    task: TaskSpec,
    dev_gold: dict[str, list[str]],
    linear: dict[str, np.ndarray],
    network: dict[str, np.ndarray],
    classes: tuple[str, ...],
) -> tuple[float, float]:
    """The linear member's share (steps of 0.1) maximising mean dev accuracy, and the temperature
    that then minimises dev log-loss."""
    best, best_score = 0.5, -1.0
    for share in np.linspace(0.0, 1.0, 11):
        score = np.mean(
            [
                task.score(
                    dev_gold[name],
                    softmax(share * linear[name] + (1 - share) * network[name]),
                    classes,
                )["accuracy"]
                for name in dev_gold
            ]
        )
        if score > best_score + 1e-9:
            best, best_score = float(share), float(score)
    index = {label: i for i, label in enumerate(classes)}
    rows = [
        (best * linear[name][i] + (1 - best) * network[name][i], index[label])
        for name in dev_gold
        for i, label in enumerate(dev_gold[name])
        if label in index
    ]
    if not rows:
        return best, 1.0
    return best, fit_temperature(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))


def _network_logp(scores: np.ndarray) -> np.ndarray:
    return np.log(np.clip(softmax(scores.astype(np.float64)), 1e-9, 1.0))


def train_shared(
    recipe: SharedRecipe,
    output: Path,
    *,
    cache: Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> SharedReport:
    """Fit the teacher, label the transfer set, fit and export the student to ``output``."""

    def say(stage: str, done: int = 0, total: int = 1) -> None:
        logger.info("%s (%d/%d)", stage, done, total)
        if progress is not None:
            progress(stage, done, total)

    corpus = _Corpus()
    heads: dict[str, dict[str, Any]] = {}
    excluded: set[str] = set()
    loaded = []
    for head in recipe.heads:
        say(f"reading {head.name}")
        data = _limited(load_data(head.recipe), limit, recipe.seed)
        if not data.train:
            raise DataError(f"head {head.name}: no training rows")
        dev = {name: [normalize(ex.text) for ex in exs] for name, exs in data.dev.items()}
        dev_gold = {name: [ex.label for ex in exs] for name, exs in data.dev.items()}
        excluded |= {t for ts in dev.values() for t in ts}
        excluded |= {normalize(t) for t in texts_of(head.recipe.exclude)}
        loaded.append((head, data, dev, dev_gold))
    for head, data, dev, dev_gold in loaded:
        texts = [normalize(ex.text) for ex in data.train]
        # a text another head holds out (its dev sets, its excluded files) never trains the
        # network; the linear member keeps the task's own rows (the task model reuses it)
        kept = [i for i, t in enumerate(texts) if t not in excluded]
        rows = np.array([corpus.add(texts[i]) for i in kept], dtype=np.int64)
        spec = {
            "seed": head.recipe.seed,
            **(head.recipe.model.get("components") or [head.recipe.model])[0],
        }
        say(f"fitting the linear member of {head.name}")
        linear = fit_member(
            spec,
            texts,
            [ex.label for ex in data.train],
            [ex.weight for ex in data.train],
            data.fingerprint,
            cache,
        )
        heads[head.name] = {
            "rows": rows,
            "labels": [data.train[i].label for i in kept],
            "weights": np.array([data.train[i].weight for i in kept], dtype=np.float32),
            "classes": tuple(linear.classes_),
            "linear": linear,
            "dev": dev,
            "dev_gold": dev_gold,
            "weight": head.weight,
            "task": _task(head.name),
        }
    n_gold = len(corpus.texts)

    def targets(
        n: int, soft: dict[str, np.ndarray] | None, soft_weight: float
    ) -> dict[str, HeadTargets]:
        out = {}
        for name, h in heads.items():
            index = {label: i for i, label in enumerate(h["classes"])}
            gold = np.full(n, -1, dtype=np.int64)
            weight = np.zeros(n, dtype=np.float32)
            gold[h["rows"]] = [index[label] for label in h["labels"]]
            weight[h["rows"]] = h["weights"]
            out[name] = HeadTargets(
                labels=h["classes"],
                gold=gold,
                gold_weight=weight,
                soft=None if soft is None else soft[name],
                soft_weight=None if soft is None else np.full(n, soft_weight, dtype=np.float32),
                weight=h["weight"],
            )
        return out

    def ticker(stage: str) -> Callable[[int, int, float], None]:
        def tick(step: int, total: int, loss: float) -> None:
            if step % 200 == 0 or step == total:
                say(f"{stage}: loss {loss:.3f}", step, total)

        return tick

    pretrained = None
    if recipe.pretrain and recipe.data_root is not None:
        say("pretraining unit vectors")
        from qinggan.training.embeddings import corpus_texts, pretrain_unit_vectors

        plain = (t for t in corpus_texts(recipe.data_root) if normalize(t) not in excluded)
        pretrained = pretrain_unit_vectors(
            plain if limit is None else itertools.islice(plain, 20 * limit),
            seed=recipe.seed,
            **recipe.pretrain,
        )

    # -- the teacher: linear members and a network fitted on gold rows only ---------------------
    teacher_net = SharedTrainer(recipe.teacher, seed=recipe.seed)
    teacher_net.fit(
        corpus.texts,
        targets(n_gold, None, 0.0),
        progress=ticker("teacher network"),
        pretrained=pretrained,
    )
    stages: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
        "linear": {},
        "network_gold_only": {},
        "teacher": {},
        "student": {},
    }
    mixes: dict[str, tuple[float, float]] = {}
    for name, h in heads.items():
        task, classes = h["task"], h["classes"]
        lin = {d: log_proba(h["linear"], texts) for d, texts in h["dev"].items()}
        net = {d: _network_logp(teacher_net.scores(texts)[name]) for d, texts in h["dev"].items()}
        share, temperature = _mix(task, h["dev_gold"], lin, net, classes)
        mixes[name] = (share, temperature)
        teacher = {d: (share * lin[d] + (1 - share) * net[d]) / temperature for d in lin}
        stages["linear"][name] = _dev_scores(task, h["dev_gold"], lin, classes)
        stages["network_gold_only"][name] = _dev_scores(task, h["dev_gold"], net, classes)
        stages["teacher"][name] = _dev_scores(task, h["dev_gold"], teacher, classes)

    # -- the transfer set and the teacher's soft labels --------------------------------------
    say("reading the unlabelled texts")
    distant = _unlabelled(recipe.distill_sources, limit)
    for text in distant:
        if text not in excluded:
            corpus.add(text)
    transfer = corpus.texts
    say(f"soft labels for {len(transfer)} texts")
    network_scores = teacher_net.scores(transfer)
    soft = {}
    for name, h in heads.items():
        share, temperature = mixes[name]
        mixed = share * log_proba(h["linear"], transfer) + (1 - share) * _network_logp(
            network_scores[name]
        )
        soft[name] = softmax(mixed / temperature).astype(np.float32)
    del network_scores

    # -- the student ------------------------------------------------------------------------
    student = SharedTrainer(recipe.encoder, seed=recipe.seed + 1)
    student.fit(
        transfer,
        targets(len(transfer), soft, recipe.distill_weight),
        progress=ticker("student"),
        pretrained=pretrained,
    )
    for name, h in heads.items():
        net = {d: _network_logp(student.scores(texts)[name]) for d, texts in h["dev"].items()}
        stages["student"][name] = _dev_scores(h["task"], h["dev_gold"], net, h["classes"])

    say("exporting the student")
    output.mkdir(parents=True, exist_ok=True)
    (output / ENCODER_FILE).write_bytes(student.export())
    write_vocab(output / VOCAB_FILE, student.vocab)
    meta = ModelMeta(
        name=recipe.name,
        task="shared",
        architecture=ENCODER_ARCHITECTURE,
        labels=list(heads),
        hyperparameters={
            "heads": {name: list(h["classes"]) for name, h in heads.items()},
            "max_len": recipe.encoder.max_len,
            "encoder": recipe.encoder.to_dict(),
            "teacher": {
                "encoder": recipe.teacher.to_dict(),
                "linear_share": {name: m[0] for name, m in mixes.items()},
                "temperature": {name: round(m[1], 6) for name, m in mixes.items()},
            },
            "distill_weight": recipe.distill_weight,
        },
        metrics=stages["student"],
        training_data={
            "gold_texts": n_gold,
            "transfer_texts": len(transfer),
            "unlabelled_sources": [
                str(p.relative_to(p.parents[2])) for p in recipe.distill_sources
            ],
            "heads": {
                h.name: {"rows": int(heads[h.name]["rows"].size), "recipe": h.recipe.name}
                for h in recipe.heads
            },
            "stages": stages,
        },
    )
    write_meta(output, meta)
    (output / "MODEL_CARD.md").write_text(model_card(meta, stages), encoding="utf-8")
    return SharedReport(output, n_gold, len(transfer), stages)


def _unlabelled(paths: Sequence[Path], limit: int | None) -> list[str]:
    texts: list[str] = []
    for path in paths:
        if not path.is_file():
            raise DataError("unlabelled file not found", path=str(path))
        rows = [
            normalize(r["text"])
            for _, r in read_records(path)
            if isinstance(r.get("text"), str) and r["text"].strip()
        ]
        texts.extend(rows[:limit] if limit is not None else rows)
    return texts


STAGE_NAMES = {
    "linear": "linear member (hashed n-grams)",
    "network_gold_only": "shared network, gold labels only",
    "teacher": "teacher (linear + network, mixed on dev)",
    "student": "student (gold + teacher's soft labels), shipped",
}


def model_card(meta: ModelMeta, stages: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> str:
    data = meta.training_data
    heads = meta.hyperparameters["heads"]
    lines = [
        f"# Model card: {meta.name} (one encoder, {len(meta.labels)} heads)",
        "",
        f"- heads: {', '.join(f'{k} ({len(v)})' for k, v in heads.items())}",
        f"- built by qinggan {meta.qinggan_version} on {meta.created_at}",
        f"- gold texts: {data['gold_texts']}; transfer texts (gold + unlabelled, soft-labelled by "
        f"the teacher): {data['transfer_texts']}",
        f"- encoder: {meta.hyperparameters['encoder']}",
        "",
        "## Dev accuracy / macro-F1 of each stage (the ablation of the design)",
        "",
        "| head | dev set | n | " + " | ".join(STAGE_NAMES[s] for s in stages) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in stages) + " |",
    ]
    for head, devs in stages["student"].items():
        for dev, m in devs.items():
            cells = []
            for stage in stages:
                s = stages[stage].get(head, {}).get(dev)
                cells.append("-" if s is None else f"{s['accuracy']:.3f} / {s['macro_f1']:.3f}")
            lines.append(f"| {head} | {dev} | {m['n']} | " + " | ".join(cells) + " |")
    lines += ["", "Unlabelled texts soft-labelled by the teacher:", ""]
    lines += [f"- {p}" for p in data.get("unlabelled_sources", [])]
    return "\n".join(lines) + "\n"
