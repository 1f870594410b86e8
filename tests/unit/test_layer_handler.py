"""phase_handler: every invocation publishes its phase's metrics (one document, dimension phase)."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace
from typing import Any

import pytest

from cognito_restore.handler import phase_handler
from cognito_restore.observability import metrics

CONTEXT = SimpleNamespace(
    function_name="fn",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-west-2:123456789012:function:fn",
    memory_limit_in_mb="256",
    aws_request_id="req-1",
    log_group_name="/aws/lambda/fn",
    log_stream_name="stream",
)


def _documents(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_a_phase_publishes_success_and_duration_with_its_phase(capsys: pytest.CaptureFixture[str]) -> None:
    @phase_handler("restore_groups")
    def handler(event: dict[str, int], context: Any) -> dict[str, int]:
        metrics.add_metric(name="GroupsRestored", unit="Count", value=event["n"])
        return {"done": 1}

    assert handler({"n": 3}, CONTEXT) == {"done": 1}

    [document] = _documents(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CognitoDrRestore"
    assert directive["Dimensions"] == [["phase", "service"]]  # the service: the template's POWERTOOLS_SERVICE_NAME
    assert {m["Name"] for m in directive["Metrics"]} == {"GroupsRestored", "PhaseSucceeded", "PhaseDuration"}
    assert document["phase"] == "restore_groups" and document["PhaseSucceeded"] == [1.0]


def test_a_failing_phase_publishes_phase_failed_and_raises(capsys: pytest.CaptureFixture[str]) -> None:
    @phase_handler("create_pool")
    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("Cognito said no")

    with pytest.raises(RuntimeError):
        handler({}, CONTEXT)

    [document] = _documents(capsys.readouterr().out)
    assert document["phase"] == "create_pool" and document["PhaseFailed"] == [1.0]
    assert "PhaseSucceeded" not in document


def test_disabled_metrics_do_not_pile_up(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    @phase_handler("check_domain")
    def handler(event: dict[str, Any], context: Any) -> None:
        return None

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        handler({}, CONTEXT)
        handler({}, CONTEXT)  # the phase dimension again: never "already added"

    assert _documents(capsys.readouterr().out) == []
    assert not metrics.metric_set and not metrics.dimension_set
