"""Helpers of the service tests that must be importable by child processes."""

from __future__ import annotations

from qinggan.service.errors import AccessError
from qinggan.service.store import AppStore


def charge_many(url: str, app_id: str, attempts: int, start: object) -> int:
    """Charge one call ``attempts`` times; the number accepted (run in a child process)."""
    store = AppStore(url)
    start.wait()  # type: ignore[attr-defined]
    accepted = 0
    try:
        for _ in range(attempts):
            try:
                store.charge(app_id, 1)
            except AccessError:
                continue
            accepted += 1
    finally:
        store.close()
    return accepted
