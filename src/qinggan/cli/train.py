"""`qinggan train TASK`: the shipped recipe (--config) or your own labelled files (--data)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from qinggan.cli.common import fail, require_extra, stderr, stdout
from qinggan.errors import QingganError
from qinggan.labels import EMOTION8_LABELS, POLARITY_LABELS, TalkLevel2

app = typer.Typer(
    help="Train a model on the shipped recipe or on your own labelled data.", no_args_is_help=True
)

ARCHITECTURES = {"linear": "hashed-ngram-linear", "cnn": "unit-cnn-onnx"}
TASK_LABELS = {
    "polarity": tuple(label.value for label in POLARITY_LABELS),
    "emotion": tuple(label.value for label in EMOTION8_LABELS),
    "talk-emotion": tuple(label.value for label in TalkLevel2),
}

OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory to write the model to.")]
ConfigOpt = Annotated[Path | None, typer.Option(help="A TOML training recipe (see configs/).")]
DataOpt = Annotated[
    list[Path] | None, typer.Option(help='Labelled JSONL/CSV ({"text","label"}); repeatable.')
]
DevOpt = Annotated[
    list[Path] | None, typer.Option(help="Dev files; default: 10% of --data held out.")
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        help="Keep fitted members here and reuse one fitted on the same rows with the same spec."
    ),
]
ArchOpt = Annotated[str, typer.Option(help="With --data: linear or cnn.")]
DataRootOpt = Annotated[
    Path | None,
    typer.Option(
        help="With --config: your copy of the public corpora, in place of the recipe's data_root "
        "(../shared/data in the development checkout; see the README's data section)."
    ),
]


def _train(
    task: str,
    output: Path,
    config: Path | None,
    data: list[Path] | None,
    dev: list[Path] | None,
    architecture: str,
    data_root: Path | None = None,
    cache: Path | None = None,
) -> None:
    require_extra("train", "sklearn", "scipy")
    from qinggan.training.recipe import load_recipe, recipe_from_files
    from qinggan.training.train import POLARITY_TASK, classes_task, train_model

    labels = TASK_LABELS[task]
    if (config is None) == (not data):
        fail("give either --config RECIPE.toml or one or more --data FILE")
    if architecture not in ARCHITECTURES:
        fail(f"unknown architecture {architecture!r}; expected one of: {', '.join(ARCHITECTURES)}")
    if architecture == "cnn" or config is not None:
        require_extra("train", "torch", "onnx")
    for path in [*(data or []), *(dev or [])]:
        check_labels(task, path)
    check_writable(output)
    spec = POLARITY_TASK if task == "polarity" else classes_task(task, labels)
    try:
        if config is not None:
            recipe = load_recipe(config, labels)
            if data_root is not None:
                recipe = rebase(recipe, data_root)
        else:
            recipe = recipe_from_files(
                f"{task}-custom",
                labels,
                list(data or []),
                list(dev or []),
                {"architecture": ARCHITECTURES[architecture]},
            )
        with stderr.status("training...") as status:
            report = train_model(
                spec,
                recipe,
                output,
                progress=lambda stage, done, total: status.update(f"{stage} ({done}/{total})"),
                cache=cache,
            )
    except QingganError as exc:
        fail(str(exc))
    except OSError as exc:  # the disk filled up, a file vanished ...
        fail(f"cannot write the model to {output}: {exc.strerror or exc}")
    stdout.print(f"trained on {report.n_train} texts; model written to {report.output}")
    for name, m in report.meta.metrics.items():
        stdout.print(
            f"  dev {name}: n={m['n']} accuracy={m['accuracy']:.4f} macro-F1={m['macro_f1']:.4f}"
        )


def check_labels(task: str, path: Path) -> None:
    """Exit 2 at the first row of ``path`` whose label is not one of ``task``'s, saying which
    task it belongs to when it is another's."""
    from qinggan.training.corpora import read_records

    labels = TASK_LABELS[task]
    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        for number, record in read_records(path):
            raw = record.get("label")
            label = None if isinstance(raw, bool) else str(raw).strip().lower()
            if raw is None or label not in labels:
                others = [t for t, known in TASK_LABELS.items() if t != task and label in known]
                hint = f"; it is a label of `qinggan train {others[0]}`" if others else ""
                fail(
                    f"{path}:{number}: label {raw!r} is not a {task} label (expected one of: "
                    f"{', '.join(labels)}){hint}"
                )
    except QingganError as exc:
        fail(str(exc))


def rebase(recipe: Any, data_root: Path) -> Any:
    """``recipe`` reading its public corpora under ``data_root`` instead of its own data_root
    (the project's own corpora, ``local_path`` entries, stay where they are)."""
    old, new = recipe.data_root, data_root.resolve()
    if not new.is_dir():
        fail(f"--data-root {data_root} is not a folder")

    def move(source: Any) -> Any:
        if old is None or not source.path.is_relative_to(old):
            return source
        return dataclasses.replace(source, path=new / source.path.relative_to(old))

    return dataclasses.replace(
        recipe,
        sources=[move(s) for s in recipe.sources],
        dev={name: move(s) for name, s in recipe.dev.items()},
        data_root=new,
    )


def rebase_shared(recipe: Any, data_root: Path) -> Any:
    """A shared-encoder recipe whose heads' recipes and unlabelled files read their public corpora
    under ``data_root`` (see :func:`rebase`)."""
    old, new = recipe.data_root, data_root.resolve()
    heads = [dataclasses.replace(h, recipe=rebase(h.recipe, data_root)) for h in recipe.heads]
    sources = [
        new / p.relative_to(old) if old is not None and p.is_relative_to(old) else p
        for p in recipe.distill_sources
    ]
    return dataclasses.replace(recipe, heads=heads, distill_sources=sources, data_root=new)


def check_writable(output: Path) -> None:
    """Exit 2 unless the model directory can be created and written."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / ".qinggan-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fail(f"cannot write the model to {output}: {exc.strerror or exc}")


TASK_HELP = {
    "polarity": "Polarity: positive / negative / neutral (without neutral rows: a binary model).",
    "emotion": "Customer-service emotions: other, anxiety, anger, happy, lost, sad, fear, satiric.",
    "talk-emotion": "Chit-chat level-2 emotions: like, happy, angry, disgusting, fearful, sad.",
}


def _command(task: str) -> Callable[..., None]:
    def command(
        output: OutputOpt,
        config: ConfigOpt = None,
        data: DataOpt = None,
        dev: DevOpt = None,
        architecture: ArchOpt = "linear",
        data_root: DataRootOpt = None,
        cache: CacheOpt = None,
    ) -> None:
        if data_root is not None and config is None:
            fail("--data-root moves a --config recipe's data; give --config too")
        _train(task, output, config, data, dev, architecture, data_root, cache)

    command.__doc__ = TASK_HELP[task]
    return command


for _task in TASK_LABELS:
    app.command(_task)(_command(_task))


@app.command("shared")
def shared(
    output: OutputOpt,
    config: Annotated[
        Path, typer.Option(help="The shared encoder's recipe (configs/shared.toml).")
    ],
    cache: CacheOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="At most this many rows per head and per file (a quick trial)."),
    ] = None,
    data_root: DataRootOpt = None,
) -> None:
    """The shared encoder: one network, a head per judgement, distilled from a teacher."""
    require_extra("train", "sklearn", "scipy", "torch", "onnx")
    from qinggan.training.shared import load_shared_recipe, train_shared

    check_writable(output)
    try:
        recipe = load_shared_recipe(config)
        if data_root is not None:
            recipe = rebase_shared(recipe, data_root)
        with stderr.status("training...") as status:
            report = train_shared(
                recipe,
                output,
                cache=cache,
                limit=limit,
                progress=lambda stage, done, total: status.update(f"{stage} ({done}/{total})"),
            )
    except QingganError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the model to {output}: {exc.strerror or exc}")
    stdout.print(
        f"shared encoder trained on {report.n_train} gold texts and {report.n_transfer} transfer "
        f"texts; written to {report.output}"
    )
    for head, devs in report.stages["student"].items():
        for name, m in devs.items():
            stdout.print(
                f"  {head} dev {name}: n={m['n']} accuracy={m['accuracy']:.4f} "
                f"macro-F1={m['macro_f1']:.4f}"
            )


@app.command("aspects")
def aspects_command(
    output: OutputOpt,
    config: Annotated[
        Path, typer.Option(help="The aspect recipe (configs/aspects.toml or your own).")
    ],
) -> None:
    """Aspect-level opinions: aspect/opinion tagger, pair scorer and aspect polarity (a recipe)."""
    require_extra("train", "torch", "onnx")
    from qinggan.training.aspects import load_recipe, train_aspects

    try:
        recipe = load_recipe(config)
        with stderr.status("training...") as status:
            report = train_aspects(
                recipe,
                output,
                progress=lambda stage, done, total: status.update(f"{stage} ({done}/{total})"),
            )
    except QingganError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the model to {output}: {exc.strerror or exc}")
    ex = report.meta.metrics["extraction_dev"]
    ap = report.meta.metrics["aspect_polarity_dev"]
    stdout.print(
        f"trained on {report.n_extract} triplet sentences and {report.n_apc} aspect-polarity "
        f"sentences in {report.seconds / 60:.1f} min; model written to {report.output}"
    )
    stdout.print(
        f"  dev triplet F1={ex['triplet_f1']:.4f} aspect F1={ex['aspect_f1']:.4f} "
        f"opinion F1={ex['opinion_f1']:.4f} pair F1={ex['pair_f1']:.4f} (n={ex['n']})"
    )
    stdout.print(
        f"  dev aspect polarity accuracy={ap['accuracy']:.4f} macro-F1={ap['macro_f1']:.4f} "
        f"(n={ap['n']})"
    )
