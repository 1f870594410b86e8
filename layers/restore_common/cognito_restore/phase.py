"""Plumbing every phase handler shares: the restore's state, its work store, Cognito errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.errors import (
    DATA_ERRORS,
    AccessDenied,
    CognitoThrottled,
    NotRestorable,
    ResourceTemporarilyUnavailable,
)
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.resources import Request
from cognito_restore.store import WorkStore


def work_store(state: dict[str, Any]) -> WorkStore:
    return WorkStore(bucket=os.environ["WORK_BUCKET"], restore_id=state["restore"]["restore_id"])


def pool_id(state: dict[str, Any]) -> str:
    return state["pool"]["id"]


def backup_parts(state: dict[str, Any]) -> dict[str, Any]:
    return work_store(state).get_json(state["plan"]["parts_key"])


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "Unknown")


def describe_error(error: ClientError) -> str:
    return f"{error_code(error)}: {error.response.get('Error', {}).get('Message', '')}".strip()


# Codes of a call the caller is not authorized to make (IAM), per service.
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "AuthorizationError"})


def raise_if_throttled(error: ClientError) -> None:
    """SDK retries are spent: let Step Functions retry the whole (idempotent) task with jitter.
    A missing permission fails the phase (its message names the action), never one item."""
    if aws.is_throttling(error):
        raise CognitoThrottled(f"Cognito still throttling after SDK retries ({error_code(error)})") from None
    if error_code(error) in ACCESS_DENIED_CODES:
        raise AccessDenied(describe_error(error)) from None


def raise_unless_caused_by_data(error: ClientError) -> None:
    """Only a refusal caused by the backed-up item is reported as not restorable; any other (pool gone,
    access denied, internal error) fails the phase, which the state machine retries or a redrive re-runs."""
    if error_code(error) not in DATA_ERRORS:
        raise error


def record_phase(state: dict[str, Any], phase: str, outcome: PhaseOutcome) -> dict[str, Any]:
    """Save the phase outcome for the report; returns only counts for the state."""
    work_store(state).put_result(phase, outcome.to_dict())
    return outcome.counts()


def restore_each(
    outcome: PhaseOutcome,
    items: list[dict[str, Any]],
    name_of: Callable[[dict[str, Any]], str],
    build: Callable[[dict[str, Any]], Request],
    create: Callable[..., Any],
    exists_codes: frozenset[str],
) -> dict[str, Any]:
    """Create each item; 'already exists' counts as restored (re-runs). Returns create responses by name."""
    responses: dict[str, Any] = {}
    for item in items:
        name, created, response = restore_one(outcome, item, name_of, build, create, exists_codes)
        if created:
            responses[name] = response
    return responses


def restore_one(
    outcome: PhaseOutcome,
    item: dict[str, Any],
    name_of: Callable[[dict[str, Any]], str],
    build: Callable[[dict[str, Any]], Request],
    create: Callable[..., Any],
    exists_codes: frozenset[str],
) -> tuple[str, bool, Any]:
    """Create one item and record it in the outcome: (name, restored?, create response or None if it existed).

    Throttling still there after the SDK's retries raises CognitoThrottled (nothing recorded)."""
    name = name_of(item)
    try:
        request = build(item)
    except NotRestorable as reason:
        outcome.skip(name, str(reason))
        outcome.manual_steps.append(f"{outcome.category} {name}: {reason}")
        return name, False, None
    except (KeyError, TypeError, ValueError) as error:
        outcome.fail(name, f"unusable backup entry ({type(error).__name__})")
        return name, False, None
    try:
        response = create(**request.request)
    except ClientError as error:
        raise_if_throttled(error)
        if error_code(error) not in exists_codes:
            raise_unless_caused_by_data(error)
            outcome.fail(name, describe_error(error))
            return name, False, None
        response = None
    outcome.restore(name, *request.notes)
    return name, True, response


def restore_single(
    state: dict[str, Any],
    category: str,
    section: str,
    build: Callable[[dict[str, Any]], Request],
    apply: Callable[..., Any],
    label: Callable[[dict[str, Any]], str],
    transient_codes: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Restore one optional backup section (UI customization, risk configuration, WAF). An error
    in ``transient_codes`` (AWS says retry later) fails the task for Step Functions to retry."""
    outcome = PhaseOutcome(category)
    value = backup_parts(state).get(section)
    if value:
        name = label(value)
        try:
            request = build(value)
            apply(**request.request)
            outcome.restore(name, *request.notes)
            outcome.manual_steps.extend(request.notes)
        except NotRestorable as reason:
            outcome.skip(name, str(reason))
            outcome.manual_steps.append(f"{category}: {reason}")
        except ClientError as error:
            raise_if_throttled(error)
            if error_code(error) in transient_codes:
                raise ResourceTemporarilyUnavailable(describe_error(error)) from None
            raise_unless_caused_by_data(error)
            outcome.fail(name, describe_error(error))
    return record_phase(state, category, outcome)
