from __future__ import annotations

import inspect
import subprocess
import sys

import qinggan
import qinggan.engine


def test_public_api_exports_are_pinned() -> None:
    assert qinggan.__all__ == sorted(qinggan.__all__)
    assert qinggan.__all__ == [
        "Analyzer",
        "AspectOpinion",
        "AspectPolarityResult",
        "AspectResult",
        "ConfigError",
        "DataError",
        "DialogueEmotionResult",
        "DialogueLevel1",
        "Emotion",
        "EmotionResult",
        "InputError",
        "Intensity",
        "IntensityLevel",
        "ItemError",
        "ModelError",
        "Polarity",
        "PolarityResult",
        "QingganError",
        "Scene",
        "Trend",
        "TrendResult",
        "Turn",
        "TurnScore",
        "__version__",
        "analyze",
        "analyze_batch",
        "analyze_conversation",
        "aspect_polarity",
        "aspect_polarity_batch",
        "aspects",
        "aspects_batch",
        "dialogue_emotion",
        "dialogue_emotion_batch",
        "emotions",
        "emotions_batch",
        "load",
    ]


def test_public_api_import_is_light_and_does_no_model_io() -> None:
    code = (
        "import sys, qinggan, qinggan.engine as e\n"
        "heavy = ('torch', 'sklearn', 'fastapi', 'typer', 'onnxruntime', 'opencc')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert e._default is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api_errors_share_one_base() -> None:
    for error in (qinggan.InputError, qinggan.DataError, qinggan.ModelError, qinggan.ConfigError):
        assert issubclass(error, qinggan.QingganError)


def test_public_api_module_functions_take_the_method_parameters() -> None:
    """``qinggan.analyze_batch(texts, errors="report")`` and the like: each module-level function
    of the engine takes exactly what the Analyzer method of the same name takes."""
    checked = []
    for name, function in vars(qinggan.engine).items():
        method = getattr(qinggan.Analyzer, name, None)
        if not inspect.isfunction(function) or function.__module__ != "qinggan.engine":
            continue
        if name.startswith("_") or name == "load" or method is None:  # load(path): a model dir
            continue
        expected = list(inspect.signature(method).parameters.values())[1:]  # without self
        assert list(inspect.signature(function).parameters.values()) == expected, name
        checked.append(name)
    assert {"analyze", "analyze_batch", "emotions_batch", "dialogue_emotion_batch"} <= set(checked)
