"""CloudWatch: the users chunks emit the metrics the dashboard and the alarms read; the alarms notify
the alert topic, which lets them (topic policy, topic key) and the outputs give their ARNs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack, load_template
from tools.sample_pool import SamplePoolSpec

TEMPLATE = load_template(Path(__file__).parents[2] / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def _emf(text: str) -> list[dict[str, Any]]:
    blobs = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def _value(blob: dict[str, Any], name: str) -> float:
    value = blob[name]  # EMF: a number, or a list of the values added in one flush
    return float(sum(value) if isinstance(value, list) else value)


def _dashboard_metric_rows() -> list[list[Any]]:
    body = RESOURCES["RestoreDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "0", body))["widgets"]
    return [metric for widget in widgets for metric in widget["properties"]["metrics"] if isinstance(metric[0], str)]


def _dashboard_metrics() -> set[tuple[str, str]]:
    body = RESOURCES["RestoreDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    found = set()
    for widget in json.loads(re.sub(r"\$\{[^}]+\}", "0", body))["widgets"]:
        for metric in widget["properties"]["metrics"]:
            if isinstance(metric[0], str):
                found.add((metric[0], metric[1]))
    return found


def test_chunks_emit_the_metrics_the_dashboard_and_alarms_read(
    stack: RestoreStack, source_cognito: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=3))
    Metrics().clear_metrics()  # Powertools keeps metrics in shared state: none left by an earlier test
    capsys.readouterr()

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    blobs = _emf(capsys.readouterr().out)
    chunk_blobs = [b for b in blobs if "UsersRestored" in b]
    # One UsersRestored value per chunk invocation (120 users in chunks of 50, the users who can sign in
    # first); Powertools' shared Metrics may flush two concurrent invocations in one blob in the emulator.
    values = [
        v
        for b in chunk_blobs
        for v in (b["UsersRestored"] if isinstance(b["UsersRestored"], list) else [b["UsersRestored"]])
    ]
    invocations = [name for name, _ in stack.invocations if name == "RestoreUsersFunction"]
    assert len(values) == len(invocations) >= 3
    namespaces = {m["Namespace"] for b in chunk_blobs for m in b["_aws"]["CloudWatchMetrics"]}
    assert namespaces == {"CognitoDrRestore"}
    assert all(b["service"] == "cognito-dr-restore" for b in chunk_blobs)
    assert sum(_value(b, "UsersRestored") for b in chunk_blobs) == 120  # deltas: counts add up
    assert sum(_value(b, "UsersFailed") for b in chunk_blobs) == 0
    emitted = {("CognitoDrRestore", name) for b in chunk_blobs for name in b if name[0].isupper()}
    read = {m for m in _dashboard_metrics() if m[0] == "CognitoDrRestore"}
    throttle_alarm = RESOURCES["SustainedThrottlingAlarm"]["Properties"]["Metrics"][0]["MetricStat"]["Metric"]
    read.add((throttle_alarm["Namespace"], throttle_alarm["MetricName"]))
    assert read <= emitted, read - emitted
    # CloudWatch matches a metric only with its exact dimension set: the alarm and the dashboard must
    # name the dimensions the chunks publish with (the phase's, added by phase_handler, and the service).
    [published] = {
        tuple(sorted((name, b[name]) for name in dims))
        for b in chunk_blobs
        for m in b["_aws"]["CloudWatchMetrics"]
        for dims in m["Dimensions"]
    }
    assert published == (("phase", "restore_users"), ("service", "cognito-dr-restore"))
    assert tuple(sorted((d["Name"], d["Value"]) for d in throttle_alarm["Dimensions"])) == published
    for widget_metric in _dashboard_metric_rows():
        if widget_metric[0] == "CognitoDrRestore":
            names_values = widget_metric[2:-1] if isinstance(widget_metric[-1], dict) else widget_metric[2:]
            assert tuple(sorted(zip(names_values[::2], names_values[1::2], strict=True))) == published


def test_alarms_notify_the_alert_topic_which_lets_them() -> None:
    for name in ("RestoreFailedAlarm", "SustainedThrottlingAlarm"):
        props = RESOURCES[name]["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlertTopic"}], name
        assert props["AlarmName"]["Fn::Sub"].startswith("cognito-dr-restore-${Environment}-")
        assert TEMPLATE["Outputs"][f"{name}Arn"]["Value"] in (
            {"Fn::GetAtt": [name, "Arn"]},
            {"Fn::GetAtt": f"{name}.Arn"},
        )
    topic_policy = RESOURCES["AlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    key_policy = RESOURCES["AlertTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    for statements, action in ((topic_policy, "sns:Publish"), (key_policy, "kms:GenerateDataKey*")):
        # a statement under a condition (!If) counts with the condition true
        statements = [s["Fn::If"][1] if "Fn::If" in s else s for s in statements]
        cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert cloudwatch, action
        actions = cloudwatch[0]["Action"]
        assert action in (actions if isinstance(actions, list) else [actions])
        source_arn = cloudwatch[0]["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
        assert source_arn.endswith(":alarm:cognito-dr-restore-${Environment}-*")  # only this stack's alarms


def test_restore_failed_alarm_counts_every_unsuccessful_end() -> None:
    metrics = RESOURCES["RestoreFailedAlarm"]["Properties"]["Metrics"]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
    assert names == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for metric in metrics:
        if "MetricStat" in metric:
            assert metric["MetricStat"]["Metric"]["Dimensions"] == [
                {"Name": "StateMachineArn", "Value": {"Ref": "RestoreStateMachine"}}
            ]
