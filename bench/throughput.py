"""Framework overhead and page throughput: the home page against its ceilings.

The app runs under uvicorn as `homeward serve` starts it (one process, access
log on, written to a file) on a fresh migrated SQLite database, and
`bench/load.py` keeps a fixed number of keep-alive connections busy over
loopback, sending `Accept-Encoding: gzip` as phones do, from the same machine.
The ceilings are a separate minimal app under the same uvicorn settings
(`bench/ceiling_app.py`): **A** is a plain-text Starlette endpoint with no
middleware; **B** is the home template rendered by the app's own Jinja2
environment from a fixed visitor context, with no database, session,
middleware or compression. So page ÷ B is what the app's middleware, routing
and gzip leave of bare rendering, and page ÷ A is its share of what the
framework alone could serve.

Every endpoint is loaded once per round and the rounds are interleaved, so a
burst of noise from a neighbour lands on all of them alike; each ratio is the
median of the ratios within a round. The notes add requests per CPU-second
of the server and the same ratios on that basis: steadier than wall-clock
rates on a shared machine, because time the server spends waiting for a
neighbour is not counted. They also give latency percentiles over all runs
and the share of a core the server and the load generator used: a load
generator near 100% would mean the client, not the server, set the figure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from operator import attrgetter

import httpx

from bench import load, proc
from bench.context import Context, Options
from bench.rows import Row, median, rate, ratio
from tests.support.live import LiveServer

GZIP = {"Accept-Encoding": "gzip"}  # what every phone sends; the app compresses pages
LANGUAGES = ("en", "ar")


@dataclass(frozen=True)
class Endpoint:
    name: str  # as the table shows it, and the key other endpoints refer to it by
    measure: str
    server: LiveServer
    path: str
    expect: str  # text the answer must contain, so an error page is never measured
    headers: dict[str, str] = field(default_factory=dict)
    ceilings: tuple[str, ...] = ()  # names of the endpoints this one is read against

    def target(self) -> load.Target:
        return load.Target(self.server.port, self.path, {**GZIP, **self.headers})


@dataclass(frozen=True)
class Run:
    result: load.LoadResult
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.result.per_second

    @property
    def per_cpu_second(self) -> float:
        # Steadier than wall-clock rates on a shared machine: time the server
        # spends waiting for a neighbour's process is not counted.
        return self.result.requests / self.server_cpu_seconds

    @property
    def server_cpu_share(self) -> float:
        return self.server_cpu_seconds / self.result.seconds


def _endpoints(context: Context) -> list[Endpoint]:
    app, ceiling = context.servers.app, context.servers.ceiling
    endpoints = [
        Endpoint(
            "ceiling A", "Ceiling A: plain-text endpoint, minimal app", ceiling, "/plain", "Hello"
        )
    ]
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"ceiling B `{language}`",
                f"Ceiling B: home template from a fixed context, minimal app, `{language}`",
                ceiling,
                f"/template/{language}",
                f'lang="{language}"',
                ceilings=("ceiling A",),
            )
        )
    for language in LANGUAGES:
        endpoints.append(
            Endpoint(
                f"home `{language}`",
                f"Home page `/`, `{language}`",
                app,
                "/",
                f'lang="{language}"',
                {"Accept-Language": language},
                ceilings=(f"ceiling B `{language}`", "ceiling A"),
            )
        )
    return endpoints


def _check(endpoint: Endpoint) -> None:
    url = f"http://127.0.0.1:{endpoint.server.port}{endpoint.path}"
    answer = httpx.get(url, headers=endpoint.headers, timeout=10)
    if answer.status_code != 200 or endpoint.expect not in answer.text:
        raise load.BadResponse(f"{url} answered {answer.status_code} without {endpoint.expect!r}")


def _measure(endpoint: Endpoint, options: Options, seconds: float) -> Run:
    pid = endpoint.server.process.pid
    before = proc.cpu_seconds(pid)
    result = load.run(endpoint.target(), connections=options.connections, seconds=seconds)
    return Run(result, proc.cpu_seconds(pid) - before)


def _ratios(runs: dict[str, list[Run]], endpoint: Endpoint, metric: str) -> str:
    """For each ceiling, the median over rounds of endpoint ÷ ceiling."""
    value = attrgetter(metric)
    shares = []
    for ceiling in endpoint.ceilings:
        pairs = zip(runs[endpoint.name], runs[ceiling], strict=True)
        shares.append(ratio(median([value(a) / value(b) for a, b in pairs])))
    return " · ".join(shares)


def _notes(runs: dict[str, list[Run]], endpoint: Endpoint) -> str:
    own = runs[endpoint.name]
    notes = f"{median([run.per_cpu_second for run in own]):,.0f} req per server CPU-second"
    if endpoint.ceilings:
        notes += f" ({_ratios(runs, endpoint, 'per_cpu_second')} of the same)"
    cuts = statistics.quantiles([value for run in own for value in run.result.latencies], n=100)
    server = median([run.server_cpu_share for run in own])
    client = median([run.result.client_cpu_share for run in own])
    return (
        f"{notes}; latency p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms; "
        f"CPU: server {server:.0%}, load generator {client:.0%} of a core"
    )


def run(context: Context) -> list[Row]:
    options = context.options
    endpoints = _endpoints(context)
    for endpoint in endpoints:
        _check(endpoint)
        _measure(endpoint, options, options.warmup)  # first requests fill caches
    runs: dict[str, list[Run]] = {endpoint.name: [] for endpoint in endpoints}
    for _ in range(options.repeat):
        for endpoint in endpoints:
            runs[endpoint.name].append(_measure(endpoint, options, options.seconds))
    return [
        Row(
            "Throughput",
            endpoint.measure,
            rate([run.per_second for run in runs[endpoint.name]]),
            " · ".join(endpoint.ceilings) or "—",
            _ratios(runs, endpoint, "per_second") or "—",
            notes=_notes(runs, endpoint),
        )
        for endpoint in endpoints
    ]
