"""Shape rules of the backup producer's workflow (statemachine/backup.asl.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ASL = json.loads((Path(__file__).parents[2] / "statemachine" / "backup.asl.json").read_text())
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def _states(states: dict[str, Any], inside_map: bool = False):
    for name, state in states.items():
        yield name, state, inside_map
        processor = state.get("ItemProcessor")
        if processor:
            yield from _states(processor["States"], inside_map=True)


ALL = list(_states(ASL["States"]))
TASKS = [(n, s, inside) for n, s, inside in ALL if s["Type"] == "Task" and "lambda:invoke" in s["Resource"]]


def test_the_steps_run_in_order_and_the_manifest_is_last():
    order, name = [], ASL["StartAt"]
    while name in ASL["States"] and ASL["States"][name]["Type"] != "Succeed":
        order.append(name)
        state = ASL["States"][name]
        name = state.get("Next") or state.get("Default")
    assert order == [
        "Back up pool configuration",
        "Back up users",
        "Back up group memberships",
        "Memberships finished?",
        "Write manifest",
    ]


@pytest.mark.parametrize("name,state,inside", TASKS, ids=[t[0] for t in TASKS])
def test_every_lambda_task_retries_lambda_errors_and_throttling_with_jitter(name, state, inside):
    retried = {e for r in state["Retry"] for e in r["ErrorEquals"] if r.get("JitterStrategy") == "FULL"}
    assert LAMBDA_SERVICE_ERRORS | {"CognitoThrottled"} <= retried


@pytest.mark.parametrize(
    "name,state",
    [(n, s) for n, s, inside in ALL if not inside and s["Type"] in ("Task", "Map") and n != "Alert backup failed"],
)
def test_every_step_alerts_on_failure_naming_itself(name, state):
    (catch,) = state["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "Describe failure"
    assert catch["Assign"] == {"failed_step": name}


def test_the_alert_names_the_error_not_its_cause():
    alert = ASL["States"]["Alert backup failed"]
    assert alert["Resource"] == "arn:aws:states:::sns:publish"
    assert "Cause" not in alert["Parameters"]["Message.$"]
    assert ASL["States"][alert["Next"]]["Type"] == "Fail"
