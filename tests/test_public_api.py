from __future__ import annotations

import subprocess
import sys

import qinggan


def test_public_api_exports_are_pinned() -> None:
    assert qinggan.__all__ == sorted(qinggan.__all__)
    assert qinggan.__all__ == [
        "Analyzer",
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
