from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from qinggan import Analyzer
from qinggan.service.apps import App
from qinggan.service.inference import Inference
from tests.service.conftest import api_key


def test_app_healthz_docs_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["dialects"] == ["native"]
    assert health["database"] == "sqlite"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("polarity", "emotions", "dialogue-emotion", "trend"):
        assert f"/api/v1/{route}" in paths


def test_app_metrics_count_requests_by_route_dialect_and_status(
    client: TestClient, native_app: App
) -> None:
    client.post("/api/v1/polarity", json={"text": "好"}, headers=api_key(native_app))
    client.post("/api/v1/polarity", json={"text": "好"})
    text = client.get("/metrics").text
    assert (
        'qinggan_http_requests_total{dialect="native",route="/api/v1/polarity",status="200"} 1.0'
        in text
    )
    assert (
        'qinggan_http_requests_total{dialect="native",route="/api/v1/polarity",status="401"} 1.0'
        in text
    )
    error = 'code="missing_credentials",dialect="native",route="/api/v1/polarity"'
    assert f"qinggan_http_errors_total{{{error}}} 1.0" in text
    assert "qinggan_http_request_duration_seconds_bucket" in text


def test_app_micro_batcher_gathers_concurrent_texts(tiny_analyzer: Analyzer) -> None:
    sizes: list[int] = []
    texts = ["房间很干净", "太差了", "请问几点开门", "  "] * 5

    async def main() -> list[object]:
        inference = Inference(tiny_analyzer, batch_wait_ms=20, on_batch=sizes.append)
        try:
            return list(await asyncio.gather(*(inference.polarity(t) for t in texts)))
        finally:
            inference.close()

    results = asyncio.run(main())
    assert max(sizes) > 1 and sum(sizes) == len(texts)
    assert results == tiny_analyzer.analyze_batch(texts, errors="report")
