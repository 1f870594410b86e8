"""The Powertools wrapping every phase handler gets, and the metrics of each phase."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore.observability import logger, metrics, metrics_lock, tracer

EventT = TypeVar("EventT")
ResultT = TypeVar("ResultT")


def phase_handler(
    phase: str,
) -> Callable[[Callable[[EventT, LambdaContext], ResultT]], Callable[[EventT, LambdaContext], ResultT]]:
    """Lambda context in logs (never the event: it may point at personal data), traced, and metrics:
    PhaseSucceeded or PhaseFailed (count) and PhaseDuration (ms), dimension ``phase``."""

    def decorate(handler: Callable[[EventT, LambdaContext], ResultT]) -> Callable[[EventT, LambdaContext], ResultT]:
        traced = tracer.capture_lambda_handler(capture_response=False)(handler)
        logged = logger.inject_lambda_context(log_event=False, clear_state=True)(traced)

        @functools.wraps(handler)
        def measured(event: EventT, context: LambdaContext) -> ResultT:
            started = time.perf_counter()
            outcome = "PhaseFailed"
            try:
                result: ResultT = logged(event, context)
                outcome = "PhaseSucceeded"
                return result
            finally:
                with metrics_lock:
                    metrics.add_dimension(name="phase", value=phase)
                    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    metrics.add_metric(name="PhaseDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
                    metrics.flush_metrics()
                    metrics.clear_metrics()  # flush keeps them when POWERTOOLS_METRICS_DISABLED is set

        return measured

    return decorate
