"""Helpers of the dialect tests: request signing as each vendor's clients do it, golden files,
and the field-by-field comparison."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "dialects"


def golden(vendor: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / vendor / f"{name}.json").read_text("utf-8"))
    return data


def now_ms(offset_s: float = 0) -> str:
    return str(int((time.time() + offset_s) * 1000))


def jd_query(app_id: str, secret: str, *, offset_s: float = 0, upper: bool = False) -> dict:
    timestamp = now_ms(offset_s)
    sign = hashlib.md5((secret + timestamp).encode()).hexdigest()
    return {"appkey": app_id, "timestamp": timestamp, "sign": sign.upper() if upper else sign}


def jumdata_form(app_id: str, secret: str, *, offset_s: float = 0, upper: bool = False) -> dict:
    timestamp = now_ms(offset_s)
    sign = hashlib.sha256((app_id + secret + timestamp).encode()).hexdigest()
    return {"appId": app_id, "timestamp": timestamp, "sign": sign.upper() if upper else sign}


def iflytek_headers(
    app_id: str,
    api_key: str,
    *,
    param: dict | None = None,
    offset_s: float = 0,
    upper: bool = False,
) -> dict[str, str]:
    x_param = base64.b64encode(
        json.dumps(param or {"type": "dependent"}).replace(" ", "").encode()
    ).decode()
    cur_time = str(int(time.time() + offset_s))
    checksum = hashlib.md5((api_key + cur_time + x_param).encode()).hexdigest()
    return {
        "X-Appid": app_id,
        "X-CurTime": cur_time,
        "X-Param": x_param,
        "X-CheckSum": checksum.upper() if upper else checksum,
    }


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def assert_like(actual: Any, expected: Any, where: str = "") -> None:
    """Same shape as the golden answer: the same keys at every level, the same JSON types
    (ints and floats alike), list items shaped like the golden item at the same place (or its
    first)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_like(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        if expected and isinstance(expected[0], dict):
            for index, item in enumerate(actual):
                model = expected[index] if index < len(expected) else expected[0]
                assert_like(item, model, f"{where}.{index}")
        elif expected:
            assert all(isinstance(item, type(expected[0])) for item in actual), where
    elif isinstance(expected, bool):
        assert isinstance(actual, bool), f"{where}: expected a boolean, got {actual!r}"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), where
        assert math.isfinite(actual), where
    else:
        assert isinstance(actual, type(expected)), f"{where}: {actual!r} is not {type(expected)}"


def assert_golden(actual: dict[str, Any], case: dict[str, Any]) -> None:
    """Shape as the golden answer, and the fields the seed makes certain exactly equal."""
    expected = case["response"]
    assert_like(actual, expected)
    for path in case.get("exact", ()):
        assert _get(actual, path) == _get(expected, path), path


def assert_ranked(probabilities: list[float], *, total: float | None = 1.0) -> None:
    """Probabilities in [0, 1], highest first, summing to ``total``."""
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert probabilities == sorted(probabilities, reverse=True)
    if total is not None:
        assert math.isclose(sum(probabilities), total, abs_tol=1e-6)
