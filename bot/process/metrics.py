"""Operational metrics for Prometheus (`GET /metrics`): no personal data, only counts.

With several workers (`jalerte run --workers N`), each writes its samples under
PROMETHEUS_MULTIPROC_DIR (set by the parent before any worker imports this module) and
`/metrics` on any worker adds them all up.

`/metrics` is served only to whoever sends `Authorization: Bearer <JALERTE_METRICS_TOKEN>`
(Prometheus' `authorization` setting); without a token configured it does not exist (404):
the widget's port is public.
"""

from __future__ import annotations

import hmac
import os
from typing import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

TURNS = Counter("jalerte_turns", "Turns answered", ["channel"])
TURN_SECONDS = Histogram(
    "jalerte_turn_seconds",
    "Time to answer a turn",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NLU_CONFIDENCE = Histogram(
    "jalerte_nlu_confidence",
    "Confidence of the model's reading",
    buckets=(0.2, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 1.0),
)
ALERTS = Counter("jalerte_alerts", "Alerts saved", ["category"])
ERRORS = Counter("jalerte_errors", "Turns answered with a technical error", ["channel"])
IN_FLIGHT = Gauge(
    "jalerte_turns_in_flight", "Turns being handled (queue depth)", multiprocess_mode="livesum"
)


class TurnMetrics:
    """The dialogue service's observer (dialogues.service.TurnObserver)."""

    def started(self, channel: str) -> None:
        IN_FLIGHT.inc()

    def finished(
        self, channel: str, seconds: float, output, confidence: float | None, failed: bool
    ) -> None:
        IN_FLIGHT.dec()
        if output.limited:  # beyond a rate limit: no turn ran
            return
        TURNS.labels(channel).inc()
        TURN_SECONDS.labels(channel).observe(seconds)
        if confidence is not None:
            NLU_CONFIDENCE.observe(confidence)
        if output.saved and output.alert:
            ALERTS.labels(output.alert.get("category") or "none").inc()
        if failed:
            ERRORS.labels(channel).inc()


def metrics_endpoint(token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`GET /metrics` for whoever sends the bearer token (compared in constant time)."""
    expected = f"Bearer {token}".encode()

    async def guarded(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(
                status=401, text="token required", headers={"WWW-Authenticate": "Bearer"}
            )
        return await metrics(request)

    return guarded


async def metrics(_request: web.Request) -> web.Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
