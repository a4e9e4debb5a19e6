"""The console's assets and the explain route over HTTP (no browser needed)."""

from __future__ import annotations

import httpx2 as httpx
import numpy as np
import pytest

from qinggan.models.io import read_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.text import normalize
from tests.console.conftest import Console


def test_index_and_assets_are_served_light(console_server: Console) -> None:
    index = httpx.get(console_server.base_url + "/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in index.headers["content-security-policy"]
    html = index.text
    assert "/console/console.css" in html and "/console/console.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    total = len(index.content)
    for name, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
        answer = httpx.get(f"{console_server.base_url}/console/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(kind)
        total += len(answer.content)
    assert total < 64 * 1024
    assert httpx.get(console_server.base_url + "/console/nope.js").status_code == 404
    assert httpx.get(console_server.base_url + "/console/index.html").status_code == 404


def test_explain_matches_the_linear_weights(console_server: Console) -> None:
    text = "服务态度恶劣，房间又脏又吵"
    answer = console_server.post("explain", {"text": text})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["usage"]["charged"] == 1
    result = body["result"]
    directory = console_server.models["polarity_model"]
    model = HashedLinearClassifier.load(directory, read_meta(directory).hyperparameters)
    expected = model.contributions(normalize(text))
    assert [u["unit"] for u in result["units"]] == [unit for unit, _ in expected]
    pos, neg = model.classes_.index("positive"), model.classes_.index("negative")
    scores = np.array([u["score"] for u in result["units"]])
    want = np.array([row[pos] - row[neg] for _, row in expected])
    assert np.allclose(scores, want, atol=1e-5)
    assert result["label"] == "negative"
    assert scores.sum() + result["bias"] < 0  # the units pushed it negative


def test_explain_batch_and_auth(console_server: Console) -> None:
    answer = console_server.post("explain", {"texts": ["非常满意", ""]})
    assert answer.status_code == 200
    first, second = answer.json()["results"]
    assert first["units"] and "error" in second
    anonymous = httpx.post(console_server.base_url + "/api/v1/explain", json={"text": "好"})
    assert anonymous.status_code == 401
    wrong = httpx.post(
        console_server.base_url + "/api/v1/explain",
        json={"text": "好"},
        headers={"X-API-Key": f"{console_server.app_id}:nope"},
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize("body", [{}, {"text": "a", "texts": ["b"]}])
def test_explain_refuses_a_bad_body(console_server: Console, body: dict[str, object]) -> None:
    assert console_server.post("explain", body).status_code == 422
