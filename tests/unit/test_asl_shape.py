"""Shape rules of the workflow that every phase must follow (a new phase that forgets one fails here).

- every Lambda task retries the Lambda service errors with jitter (the standard retriers);
- every Catch into the failure path names its own state as the failed phase;
- "Resume at the failed phase" has exactly one branch per such phase, leading back to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASL = json.loads((Path(__file__).parents[2] / "statemachine" / "restore.asl.json").read_text())
FAILURE_PATH_ENTRY = "Record failure"
RESUME_CHOICE = "Resume at the failed phase"
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def _states(states: dict[str, Any], inside_map: bool = False) -> Iterator[tuple[str, dict[str, Any], bool]]:
    for name, state in states.items():
        yield name, state, inside_map
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor["States"], inside_map=True)
        for branch in state.get("Branches", []):
            yield from _states(branch["States"], inside_map=True)


ALL_STATES = list(_states(ASL["States"]))
LAMBDA_TASKS = [
    (name, state)
    for name, state, _ in ALL_STATES
    if state["Type"] == "Task" and state.get("Resource", "").startswith("arn:aws:states:::lambda:invoke")
]
PHASES_CAUGHT = [
    (name, catch)
    for name, state, inside_map in ALL_STATES
    if not inside_map
    for catch in state.get("Catch", [])
    if catch["Next"] == FAILURE_PATH_ENTRY
]


# Phases inside a Parallel's branches: a branch cannot set the execution's variables, so each one's Catch
# leads to "<phase> failed", which puts the phase's name in the error the branch fails with.
BRANCH_PHASES = [
    (name, parallel_name, branch["States"])
    for parallel_name, parallel in ASL["States"].items()
    if parallel["Type"] == "Parallel"
    for branch in parallel["Branches"]
    for name, state in branch["States"].items()
    if any(catch["Next"] == f"{name} failed" for catch in state.get("Catch", []))
]


def test_the_workflow_has_lambda_tasks_and_caught_phases() -> None:
    assert len(LAMBDA_TASKS) >= 15
    assert len(PHASES_CAUGHT) >= 15


@pytest.mark.parametrize("name,state", LAMBDA_TASKS, ids=[name for name, _ in LAMBDA_TASKS])
def test_every_lambda_task_retries_lambda_service_errors_with_jitter(name: str, state: dict[str, Any]) -> None:
    retriers = state.get("Retry", [])
    covered = {error for retrier in retriers for error in retrier["ErrorEquals"]}
    assert covered >= LAMBDA_SERVICE_ERRORS or "States.ALL" in covered, f"{name}: missing Lambda retriers"
    for retrier in retriers:
        assert retrier.get("JitterStrategy") == "FULL", f"{name}: retrier {retrier['ErrorEquals']} without jitter"
        assert retrier.get("MaxAttempts", 3) >= 1


# Verification's incompleteness errors are recorded as failures of the phase that creates what is absent,
# so that a redrive resumes there (every other catch names its own state).
ROUTED = {
    ("Verify restored pool", "RestoreIncomplete"): "Restore users and memberships",
    ("Verify restored pool", "RestoreIncompleteResources"): "Restore resource servers",
}


@pytest.mark.parametrize("name,catch", PHASES_CAUGHT, ids=[name for name, _ in PHASES_CAUGHT])
def test_every_catch_into_the_failure_path_names_its_own_phase(name: str, catch: dict[str, Any]) -> None:
    assert catch.get("ResultPath") == "$.error", f"{name}: the state must be kept for a redrive"
    if catch["ErrorEquals"] != ["States.ALL"]:
        [error] = catch["ErrorEquals"]
        assert catch.get("Assign", {}).get("failed_phase") == ROUTED[(name, error)]
        return
    assert catch.get("Assign", {}).get("failed_phase") == name


@pytest.mark.parametrize("name", sorted({name for name, _ in PHASES_CAUGHT}))
def test_every_caught_phase_ends_with_a_catch_all(name: str) -> None:
    [state] = [s for n, s, inside in ALL_STATES if n == name and not inside]
    assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], f"{name}: the failure path must catch everything"


def test_a_lost_chunk_lease_is_final_a_held_one_is_retried() -> None:
    """An awaited chunk invocation loses its lease only to another execution's invocation (a newer attempt of
    the same Map item has the later deadline): retrying it would make two executions take the chunk in turns."""
    [chunk_task] = [s for n, s, inside in ALL_STATES if n == "Restore user chunk" and inside]
    retried = {error for retrier in chunk_task["Retry"] for error in retrier["ErrorEquals"]}
    assert "ChunkLeaseHeld" in retried
    assert "ChunkLeaseLost" not in retried and "States.ALL" not in retried


@pytest.mark.parametrize("name,parallel,states", BRANCH_PHASES, ids=[name for name, _, _ in BRANCH_PHASES])
def test_every_phase_of_a_branch_names_itself_in_the_error_it_fails_with(
    name: str, parallel: str, states: dict[str, Any]
) -> None:
    catches = states[name]["Catch"]
    assert catches[-1]["ErrorEquals"] == ["States.ALL"] and all(c["ResultPath"] == "$.error" for c in catches)
    assert states[f"{name} failed"]["Parameters"]["phase"] == name
    assert states[f"{name} failed (end)"]["Type"] == "Fail"
    assert ASL["States"][parallel]["Catch"][-1]["Next"] == "Name the failed branch phase"


def test_the_domain_loop_runs_beside_the_users_phase() -> None:
    """Issue 12: the domain's wait (up to 10 minutes) is no longer in front of the users. The domain is
    created before the v2 settings (a passkey relying party is the new prefix domain: it must exist), and
    only its status loop runs in the Parallel, beside the users."""
    [(parallel, state)] = [(n, s) for n, s in ASL["States"].items() if s["Type"] == "Parallel"]
    starts = sorted(branch["StartAt"] for branch in state["Branches"])
    assert starts == ["Domain ready?", "Restore users and memberships"]
    assert ASL["States"]["Groups restored?"]["Default"] == "Create domain"
    assert ASL["States"]["Create domain"]["Next"] == "Restore MFA, branding, terms and logging"
    assert ASL["States"]["Sync users into an existing pool?"]["Default"] == parallel
    assert ASL["States"]["Read target pool"]["Next"] == "Target pool read?"
    loop = ASL["States"]["Target pool read?"]
    assert loop["Default"] == parallel and loop["Choices"][0]["Next"] == "Read target pool"
    # ready as soon as the clients exist (the standby's quiet syncs skip the alert only)
    assert ASL["States"]["Restore app clients"]["Next"] == "Announce pool ready?"
    assert ASL["States"]["Announce pool ready?"]["Default"] == "Alert pool ready"


def test_the_resume_choice_has_one_branch_per_caught_phase() -> None:
    choices = ASL["States"][RESUME_CHOICE]["Choices"]
    branches = [(choice["StringEquals"], choice["Next"]) for choice in choices]
    caught = sorted(
        {catch["Assign"]["failed_phase"] for _, catch in PHASES_CAUGHT} | {name for name, _, _ in BRANCH_PHASES}
    )
    assert sorted(phase for phase, _ in branches) == caught, "one resume branch per caught phase, no more"
    in_branch = {name: parallel for name, parallel, _ in BRANCH_PHASES}
    # a resume branch leads back to its own phase (a phase of a branch: to its Parallel, which runs both again)
    assert all(in_branch.get(phase, phase) == target for phase, target in branches)
    # "Restore failed" decides where to resume: the failed phase, or "Create user pool" to reopen the
    # sign-up window (functions/fail_restore/app.py).
    assert all(choice["Variable"] == "$.resumed.resume_at" for choice in choices)


def test_top_level_tasks_outside_the_failure_path_are_all_caught() -> None:
    failure_path = _reachable_from(FAILURE_PATH_ENTRY)
    uncaught = [
        name
        for name, state in ASL["States"].items()
        if state["Type"] in {"Task", "Map", "Parallel"} and name not in failure_path and not state.get("Catch")
    ]
    assert uncaught == []


def _reachable_from(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in ASL["States"]:
            continue
        seen.add(name)
        state = ASL["States"][name]
        if name == RESUME_CHOICE:
            continue  # its branches lead back into the phases, which are not part of the failure path
        todo += [state.get("Next", ""), state.get("Default", "")]
        todo += [choice["Next"] for choice in state.get("Choices", [])]
        todo += [catch["Next"] for catch in state.get("Catch", [])]
    return seen


@pytest.mark.parametrize(
    ("choice", "alert"),
    [
        ("Dry run?", "Alert restore started"),
        ("Announce pool ready?", "Alert pool ready"),
        ("Announce completion?", "Alert restore complete"),
    ],
)
def test_alerts_failures_skips_only_the_alert(choice: str, alert: str) -> None:
    """Input alerts "failures" (the standby syncs) skips a success alert and nothing else: its branch goes
    where the alert would have gone next (a state added after the alert is not skipped by the quiet run)."""
    states = ASL["States"]
    quiet = [c for c in states[choice]["Choices"] if "alerts" in json.dumps(c)]
    assert len(quiet) == 1 and quiet[0]["Next"] == states[alert]["Next"]
    assert states[choice].get("Default") == alert or alert in [c["Next"] for c in states[choice]["Choices"]]
