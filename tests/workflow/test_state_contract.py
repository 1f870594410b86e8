"""The state contract (cognito_restore.state) is what the ASL and the handlers really pass.

Real executions (a restore whose groups and user chunks need continuations, a dry run, a failed
restore and its redrive) are run; then every state the execution entered and left is checked
against RestoreState, its input against ExecutionInput, its output against RestoreResult, and
every handler's event and result against the types the handler is annotated with: every required
key present, no unknown key, each value of its type. A key the ASL starts passing, or stops
passing, fails here instead of drifting away from the types silently.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from cognito_restore import state as contract
from tests.workflow.conftest import make_backup
from tests.workflow.contract import keys_of, violations
from tools.emulation import ExecutionResult, LambdaContext, LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec

RESULT_STATES = ("Restore result", "Dry run result")
Invocation = tuple[str, Any, Any]  # function logical id, event, result (None when it raised)


@contextmanager
def recorded_invocations(stack: RestoreStack) -> Iterator[list[Invocation]]:
    """Every handler call of the stack with its event and its result, as Lambda would marshal them."""
    calls: list[Invocation] = []
    original = stack.lambda_runtime.call_handler

    def call(fn: Any, event: Any, context: Any = None) -> Any:
        event = json.loads(json.dumps(event))
        try:
            result = original(fn, event, context)
        except BaseException:
            calls.append((fn.logical_id, event, None))
            raise
        calls.append((fn.logical_id, event, json.loads(json.dumps(result, default=str))))
        return result

    with mock.patch.object(stack.lambda_runtime, "call_handler", call):
        yield calls


@contextmanager
def short_lived(stack: RestoreStack, budget: dict[str, int]) -> Iterator[None]:
    """Invocations of these functions run low on Lambda time after that many items (no sleep)."""
    from cognito_restore import plan
    from cognito_restore.chunks import TIME_RESERVE_MS

    names = {stack.function_name(logical_id): items for logical_id, items in budget.items()}
    # The preparation keeps a larger reserve than the chunk and groups tasks.
    reserves = {stack.function_name("PrepareBackupFunction"): plan.TIME_RESERVE_MS}
    original = LambdaContext.get_remaining_time_in_millis

    def remaining(context: LambdaContext) -> int:
        if context.function_name not in names:
            return original(context)
        context.checks = getattr(context, "checks", 0) + 1  # one check per item handled
        reserve = reserves.get(context.function_name, TIME_RESERVE_MS)
        return reserve + 1 if context.checks < names[context.function_name] else reserve - 1

    with mock.patch.object(LambdaContext, "get_remaining_time_in_millis", remaining):
        yield


def handler_types(stack: RestoreStack, logical_id: str) -> tuple[Any, Any]:
    """(event type, result type) the handler is annotated with."""
    handler = inspect.unwrap(stack.lambda_runtime.handler(stack.lambda_runtime.function(logical_id)))
    hints = typing.get_type_hints(handler)
    return hints["event"], hints["return"]


def states(result: ExecutionResult) -> Iterator[tuple[str, str, Any]]:
    """(entered|exited, state name, state) of each state of the execution's history."""
    for event in result.history:
        for kind, field, key in (
            ("entered", "stateEnteredEventDetails", "input"),
            ("exited", "stateExitedEventDetails", "output"),
        ):
            details = event.get(field)
            if details is not None and key in details:
                yield kind, details["name"], json.loads(details[key])


def check_execution(
    stack: RestoreStack, result: ExecutionResult, calls: list[Invocation], redrive: bool = False
) -> dict[str, Any]:
    """Asserts the whole execution keeps to the contract; returns the last state entering each state.

    The emulator's redrive is a new execution started with the state of the unsuccessful state."""
    problems: list[str] = []
    started = next(e for e in result.history if e["type"] == "ExecutionStarted")
    started_with = json.loads(started["executionStartedEventDetails"]["input"])
    problems += violations(started_with, contract.RestoreState if redrive else contract.ExecutionInput, "input")
    last: dict[str, Any] = {}
    for kind, name, value in states(result):
        final = kind == "exited" and name in RESULT_STATES  # the execution's output
        problems += violations(value, contract.RestoreResult if final else contract.RestoreState, f"{kind} '{name}'")
        if kind == "entered":
            last[name] = value
    if result.status == "SUCCEEDED":
        problems += violations(result.output, contract.RestoreResult, "output")
    assert calls, "no handler ran"
    # A redrive resumed at an earlier phase ("Create user pool", to reopen the sign-up window) carries the
    # later phases' results in its state until each runs again and replaces its own: keys of the state.
    carried = set().union(*keys_of(contract.RestoreState)) if redrive else set()
    for logical_id, event, handler_result in calls:
        event_type, result_type = handler_types(stack, logical_id)
        found = violations(event, event_type, f"{logical_id} event")
        if handler_result is not None or result_type is type(None):
            found += violations(handler_result, result_type, f"{logical_id} result")
        problems += [
            p
            for p in found
            if not any(
                p.startswith((f"{logical_id} event.state: {key} is not in ", f"{logical_id} result: {key} is not in "))
                for key in carried
            )
        ]
    assert not problems, "\n".join(problems[:40])
    return last


def test_the_validator_finds_missing_unknown_and_mistyped_keys() -> None:
    pool = {"id": "us-west-2_Abc", "arn": "arn:aws:cognito-idp:us-west-2:1:userpool/us-west-2_Abc", "name": "p"}
    assert violations(pool, contract.Pool) == ["$: region missing (Pool)"]
    assert violations({**pool, "region": "us-west-2", "extra": 1}, contract.Pool) == ["$: extra is not in Pool"]
    assert violations({**pool, "region": 2}, contract.Pool) == ["$.region: int, expected a string"]
    domain = {"name": "d", "status": "PENDING", "checks": True, "max_checks": 40}
    assert violations(domain, contract.Domain) == [
        "$.checks: a boolean, expected an integer",
        "$.status: 'PENDING' not in ('NONE', 'CREATING', 'UPDATING', 'DELETING', 'ACTIVE', 'FAILED')",
    ]
    assert violations({"state": {"pool": pool}}, contract.PhaseEvent[contract.WithPool]) == [
        "$.state: plan missing (WithPool)",
        "$.state: restore missing (WithPool)",
        "$.state.pool: region missing (Pool)",
    ]


def test_a_restore_keeps_to_the_state_contract(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=70, groups=3))
    budget = {"RestoreUsersFunction": 20, "RestoreGroupsFunction": 2, "PrepareBackupFunction": 60}

    with recorded_invocations(stack) as calls, short_lived(stack, budget):
        result = stack.run({"user_pool_id": source.pool_id, "arn_map": {}, "keep_client_secrets": True})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    last = check_execution(stack, result, calls)
    # Continuations happened: the loops' second turns carry the first turn's progress.
    chunk_events = [event for name, event, _ in calls if name == "RestoreUsersFunction"]
    assert any("progress" in event and event["progress"] == {"done": False} for event in chunk_events)
    assert [name for name, _, _ in calls].count("RestoreGroupsFunction") == 2
    prepare_events = [event for name, event, _ in calls if name == "PrepareBackupFunction"]
    assert len(prepare_events) > 1 and prepare_events[1]["state"]["preparation"]["done"] is False
    # What verify gets after a restore is every phase's entry, exactly.
    assert violations(last["Verify restored pool"], contract.WafAssociated) == []
    required, optional = keys_of(contract.WafAssociated)
    assert required | {"preparation"} == set(last["Verify restored pool"])
    assert optional == {"error", "failure", "resumed", "alert_error", "branch_failure", "sync_target", "preparation"}


def test_a_dry_run_keeps_to_the_state_contract(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20, groups=3))

    with recorded_invocations(stack) as calls:
        result = stack.run({"user_pool_id": source.pool_id, "dry_run": True})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    last = check_execution(stack, result, calls)
    assert set(last["Write dry-run report"]) == {"restore", "plan", "preparation"}
    assert "new_user_pool_id" not in result.output


def test_a_failed_and_redriven_restore_keeps_to_the_state_contract(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))

    def crash_on_chunk_1(name: str, event: dict[str, Any]) -> None:
        if name == "RestoreUsersFunction" and event["chunk"]["index"] == 1:
            raise LambdaCrash()

    with recorded_invocations(stack) as calls:
        stack.on_invoke(crash_on_chunk_1)
        failed = stack.run({"user_pool_id": source.pool_id})
        stack.on_invoke(None)
    assert failed.status == "FAILED"
    last = check_execution(stack, failed, calls)
    assert {"error", "failure"} <= set(last["Restore failed"])

    with recorded_invocations(stack) as calls:
        redriven = stack.wait(stack.redrive(failed.arn))
    assert redriven.status == "SUCCEEDED", (redriven.error, redriven.cause)
    last = check_execution(stack, redriven, calls, redrive=True)
    assert {"error", "failure", "resumed"} <= set(last["Restore users and memberships"])
    assert violations(last["Verify restored pool"], contract.WafAssociated) == []
