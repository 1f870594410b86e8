"""The Powertools wrapping every phase handler gets (each function keeps its own Logger/Metrics/Tracer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

Handler = Callable[[dict[str, Any], Any], Any]


def phase_handler(logger: Logger, metrics: Metrics, tracer: Tracer) -> Callable[[Handler], Handler]:
    """Lambda context in logs (never the event: it may point at personal data), metrics flushed, traced."""

    def decorate(handler: Handler) -> Handler:
        wrapped = logger.inject_lambda_context(log_event=False, clear_state=True)(handler)
        wrapped = tracer.capture_lambda_handler(capture_response=False)(wrapped)
        return metrics.log_metrics(wrapped)

    return decorate
