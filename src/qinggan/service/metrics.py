"""Prometheus metrics of one app instance, in a registry of its own (so tests can build many)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Requests by route, dialect and status; latency; errors by code; access refusals by app,
    dialect and reason; sizes of the micro-batches."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qinggan_http_requests",
            "HTTP requests answered, by route template, dialect and status.",
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
            "Requests refused by credentials, quota or rate limit, by app, dialect and reason.",
            ["app_id", "dialect", "reason"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "qinggan_polarity_microbatch_size",
            "Texts per micro-batch of single-text polarity requests.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
