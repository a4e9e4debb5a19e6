"""Prometheus metrics of one app instance, in registries of their own (so tests can build many).

Everything in :attr:`Metrics.registry` is public (``GET /metrics`` without a key): counts by
route, dialect, status, error code and refusal reason, never an app id. The refusals *by app*
live in :attr:`Metrics.app_registry`, rendered only for a request carrying the admin key (see
:func:`qinggan.service.app.create_app`), since an app id is half of a credential.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: the ``status`` label of a request whose client went away before the answer (nginx's code)
CLIENT_CLOSED = "499"


class Metrics:
    """Requests by route, dialect and status; latency; errors by code; access refusals by
    dialect and reason (and, admin only, by app); sizes of the micro-batches."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.app_registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qinggan_http_requests",
            "HTTP requests answered, by route template, dialect and status "
            f"({CLIENT_CLOSED}: the client closed the connection first).",
            ["route", "dialect", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qinggan_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and dialect.",
            ["route", "dialect"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "qinggan_http_errors",
            "Error answers, by route template, dialect and error code.",
            ["route", "dialect", "code"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "qinggan_access_refusals",
            "Requests refused by credentials, quota or rate limit, by dialect and reason.",
            ["dialect", "reason"],
            registry=self.registry,
        )
        self.app_refusals = Counter(
            "qinggan_access_refusals_by_app",
            "Requests refused by credentials, quota or rate limit, by app, dialect and reason "
            "(shown with the admin key only).",
            ["app_id", "dialect", "reason"],
            registry=self.app_registry,
        )
        self.refunds = Counter(
            "qinggan_refunded_calls",
            "Calls charged and then given back because the request ended in an error.",
            ["dialect"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "qinggan_polarity_microbatch_size",
            "Texts per micro-batch of single-text polarity requests.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )

    def refused(self, app_id: str | None, dialect: str, reason: str) -> None:
        """Count a refusal; ``app_id`` None or ``-`` for a caller whose app is unknown."""
        self.refusals.labels(dialect, reason).inc()
        self.app_refusals.labels(app_id or "-", dialect, reason).inc()

    def render(self, *, per_app: bool = False) -> bytes:
        """The exposition text; with ``per_app`` also the refusals by app (admin only)."""
        text = generate_latest(self.registry)
        return text + generate_latest(self.app_registry) if per_app else text
