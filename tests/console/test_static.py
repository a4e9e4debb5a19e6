"""The console's assets and the explain route over HTTP (no browser needed)."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx2 as httpx
import numpy as np
import pytest

from qinggan.models.io import read_meta
from qinggan.models.linear import HashedLinearClassifier
from qinggan.text import normalize
from tests.console.conftest import Console


def test_index_inlines_the_stylesheet_allowed_by_its_hash(console_server: Console) -> None:
    index = httpx.get(console_server.base_url + "/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    styles = re.findall(r"<style>(.*?)</style>", index.text, flags=re.S)
    assert len(styles) == 1 and ".card{" in styles[0]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}';" in policy
    assert "/console/console.css" not in index.text
    assert not re.search(r"\sstyle=", index.text)  # the CSP would block a style attribute


def _imports(source: str) -> tuple[set[str], set[str]]:
    """The modules a script imports statically (``from "./x.js"``) and names to load later."""
    static = set(re.findall(r'from "\./([a-z0-9]+\.js)"', source))
    lazy = set(re.findall(r'"\./([a-z0-9]+\.js)"', source)) - static
    return static, lazy


def test_modules_are_served_light(console_server: Console) -> None:
    """The modules the page needs at start are preloaded and small; the others load when their
    tab opens; every module is served as JavaScript."""
    html = httpx.get(console_server.base_url + "/").text
    assert "http://" not in html and "https://" not in html  # no CDN
    assert '<script type="module" src="/console/console.js">' in html
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/console/([a-z0-9]+\.js)">', html))
    sources: dict[str, str] = {}
    eager, todo = {"console.js"}, ["console.js"]
    while todo:
        name = todo.pop()
        answer = httpx.get(f"{console_server.base_url}/console/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].startswith("text/javascript")
        sources[name] = answer.text
        static, lazy = _imports(answer.text)
        if name in eager:
            eager |= static
        todo += sorted((static | lazy) - set(sources) - set(todo))
    assert eager - {"console.js"} == preloaded, "preload exactly what the start-up imports"
    assert {"jobs.js", "upload.js", "admin.js", "examples.js"} <= set(sources) - eager
    start_up = len(html.encode()) + sum(len(sources[n].encode()) for n in eager)
    assert start_up < 48 * 1024
    assert start_up + sum(len(sources[n].encode()) for n in set(sources) - eager) < 96 * 1024
    assert httpx.get(console_server.base_url + "/console/nope.js").status_code == 404
    assert httpx.get(console_server.base_url + "/console/index.html").status_code == 404
    assert httpx.get(console_server.base_url + "/console/console.css").status_code == 404


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
