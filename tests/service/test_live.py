"""Against a real uvicorn server on loopback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

from qinggan.service.store import AppStore
from tests.service.conftest import LiveServer, api_key


def test_live_healthz_polarity_metrics_and_no_text_in_logs(live_server: LiveServer) -> None:
    store = AppStore(live_server.db_url)
    try:
        app = store.add_app("live", dialects=["native"], daily_quota=100, rps=0)
    finally:
        store.close()
    url = live_server.base_url
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    secret_text = "房间很干净，这是不该出现在日志里的话"
    with httpx.Client(base_url=url, headers=api_key(app), timeout=10) as client:
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda i: client.post("/api/v1/polarity", json={"text": f"{secret_text}{i}"}),
                    range(16),
                )
            )
        assert {a.status_code for a in answers} == {200}
        assert sorted(a.json()["usage"]["remain"] for a in answers) == list(range(84, 100))
        too_big = client.post(
            "/api/v1/polarity",
            content=iter([b'{"text": "', b"a" * 5000, b'"}']),
            headers={"Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "payload_too_large"
        json_type = {"Content-Type": "application/json"}
        broken = client.post("/api/v1/trend?token=QUERY-SECRET", content=b"{", headers=json_type)
        assert broken.status_code == 400
    metrics = httpx.get(f"{url}/metrics").text
    assert 'route="/api/v1/polarity",status="200"} 16.0' in metrics
    log = live_server.log.read_text(encoding="utf-8", errors="replace")
    assert "/api/v1/polarity 200" in log  # the per-request DEBUG line
    for leaked in (secret_text, app.secret, "QUERY-SECRET"):
        assert leaked not in log
