"""Request and sync counters, kept and written by ``prometheus_client``.

Counts live in this process's memory: each app server exposes its own, and
Prometheus adds them up across servers (``sum by (route) (...)``). A
restart starts from zero, which Prometheus' ``rate()`` expects of counters.
Labels are route templates and fixed words, never values a user typed, so
the number of series stays bounded.

Each app has its own registry, not the library's global one, so several
apps in one process (the tests, a reload) neither mix their counts nor
register the same metric twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# Seconds. Fine at the low end, where a healthy page lives on a small server.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SYNC_OUTCOMES = ("stored", "already_stored", "conflict", "rejected")
# The classic text format ``generate_latest`` writes (names and labels here
# are plain ASCII, so no escaping scheme is involved): every Prometheus scrapes it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One app's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "homeward_http_requests",
            "HTTP requests answered, by route template.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "homeward_http_request_duration_seconds",
            "Time to answer, by route template.",
            ("route", "method"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.sync = Counter(
            "homeward_sync_records",
            "Pushed records, by the answer each got.",
            ("outcome",),
            registry=self.registry,
        )
        for outcome in SYNC_OUTCOMES:
            self.sync.labels(outcome=outcome)  # every outcome shows, at 0 until it happens

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def observe_sync(self, outcomes: Iterable[str]) -> None:
        for outcome in outcomes:
            if outcome in SYNC_OUTCOMES:
                self.sync.labels(outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


# The app whose request is being answered: the sync service counts into it
# without being handed the app (services know nothing of Starlette).
_current: ContextVar[Metrics | None] = ContextVar("homeward_metrics", default=None)


@contextmanager
def counting_into(metrics: Metrics) -> Iterator[None]:
    """Make ``metrics`` the one ``record_sync`` writes to, for one request."""
    token = _current.set(metrics)
    try:
        yield
    finally:
        _current.reset(token)


def record_sync(outcomes: Iterable[str]) -> None:
    """Count the answers one push gave (``stored``, ``conflict``…).

    Called by ``server.sync.services.push`` with the status of each record;
    outside a request (a script) there is nothing to count into.
    """
    metrics = _current.get()
    if metrics is not None:
        metrics.observe_sync(outcomes)
