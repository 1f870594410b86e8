"""Plumbing every phase handler shares: the restore's state, its work store, Cognito errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.arn_map import ArnMapper
from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled, raise_unless_caused_by_data
from cognito_restore.errors import NotRestorable, ResourceTemporarilyUnavailable
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.resources import Request
from cognito_restore.state import PhaseCounts, WithPlan, WithPool, WithRestore
from cognito_restore.store import WorkStore


def work_store(state: WithRestore) -> WorkStore:
    return WorkStore(bucket=os.environ["WORK_BUCKET"], restore_id=state["restore"]["restore_id"])


def pool_id(state: WithPool) -> str:
    return state["pool"]["id"]


def arn_mapper(state: WithPool) -> ArnMapper:
    """The ARN mapper of the restore into the new pool's Region: build it once per invocation."""
    return ArnMapper.for_restore(state["restore"], state["pool"]["region"])


def backup_parts(state: WithPlan) -> dict[str, Any]:
    """The backup's small sections as prepare_backup saved them (the backup's own JSON: untyped)."""
    parts: dict[str, Any] = work_store(state).get_json(state["plan"]["parts_key"])
    return parts


def record_phase(state: WithRestore, phase: str, outcome: PhaseOutcome) -> PhaseCounts:
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
    state: WithPlan,
    category: str,
    section: str,
    build: Callable[[dict[str, Any]], Request],
    apply: Callable[..., Any],
    label: Callable[[dict[str, Any]], str],
    transient_codes: frozenset[str] = frozenset(),
    per_client_section: str | None = None,
) -> PhaseCounts:
    """Restore one optional backup section (UI customization, risk configuration, WAF). An error
    in ``transient_codes`` (AWS says retry later) fails the task for Step Functions to retry.
    ``per_client_section``: a v2 list of the same settings per app client, restored after it."""
    outcome = PhaseOutcome(category)
    parts = backup_parts(state)
    values = [parts.get(section), *(parts.get(per_client_section) or [] if per_client_section else [])]
    for value in values:
        if not value:
            continue
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
