"""Request and sync counters, written in the Prometheus text format by hand.

Counts live in this process's memory: each app server exposes its own, and
Prometheus adds them up across servers (``sum by (route) (...)``). A
restart starts from zero, which Prometheus' ``rate()`` expects of counters.
Labels are route templates and fixed words, never values a user typed, so
the number of series stays bounded.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# Seconds. Fine at the low end, where a healthy page lives on a small server.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SYNC_OUTCOMES = ("stored", "already_stored", "conflict", "rejected")


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    samples: int = 0

    def observe(self, seconds: float) -> None:
        # Buckets are cumulative when written; here each sample counts once.
        index = bisect.bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            self.counts[index] += 1
        self.total += seconds
        self.samples += 1


@dataclass
class Registry:
    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    latency: dict[tuple[str, str], Histogram] = field(default_factory=dict)
    sync: Counter[str] = field(default_factory=Counter)

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, status)] += 1
        self.latency.setdefault((route, method), Histogram()).observe(seconds)

    def observe_sync(self, outcomes: Iterable[str]) -> None:
        for outcome in outcomes:
            if outcome in SYNC_OUTCOMES:
                self.sync[outcome] += 1

    def render(self) -> str:
        lines = [
            "# HELP homeward_http_requests_total HTTP requests answered, by route template.",
            "# TYPE homeward_http_requests_total counter",
        ]
        for (route, method, status), count in sorted(self.requests.items()):
            labels = _labels(route=route, method=method, status=str(status))
            lines.append(f"homeward_http_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP homeward_http_request_duration_seconds Time to answer, by route template.",
            "# TYPE homeward_http_request_duration_seconds histogram",
        ]
        for (route, method), histogram in sorted(self.latency.items()):
            lines += _histogram_lines(_labels(route=route, method=method), histogram)
        lines += [
            "# HELP homeward_sync_records_total Pushed records, by the answer each got.",
            "# TYPE homeward_sync_records_total counter",
        ]
        for outcome in SYNC_OUTCOMES:
            lines.append(
                f"homeward_sync_records_total{{{_labels(outcome=outcome)}}} {self.sync[outcome]}"
            )
        return "\n".join(lines) + "\n"


def _histogram_lines(labels: str, histogram: Histogram) -> list[str]:
    name = "homeward_http_request_duration_seconds"
    lines = []
    cumulative = 0
    for bound, count in zip(BUCKETS, histogram.counts, strict=True):
        cumulative += count
        lines.append(f'{name}_bucket{{{labels},le="{bound:g}"}} {cumulative}')
    lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {histogram.samples}')
    lines.append(f"{name}_sum{{{labels}}} {histogram.total:.6f}")
    lines.append(f"{name}_count{{{labels}}} {histogram.samples}")
    return lines


def _labels(**values: str) -> str:
    return ",".join(f'{key}="{_escape(value)}"' for key, value in values.items())


def _escape(value: str) -> str:
    # The three characters the text format escapes inside label values.
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


# One registry per process, as Prometheus client libraries keep theirs: the
# middleware and the sync service both write to it without being handed it.
REGISTRY = Registry()


def record_sync(outcomes: Iterable[str]) -> None:
    """Count the answers one push gave (``stored``, ``conflict``…).

    Called by ``server.sync.services.push`` with the status of each record.
    """
    REGISTRY.observe_sync(outcomes)
