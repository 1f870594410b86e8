"""Restoring one chunk of users or memberships. Every step is safe to repeat (retries, redrives)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import (
    describe_error,
    error_code,
    error_message,
    raise_if_throttled,
    raise_unless_caused_by_data,
)
from cognito_restore.errors import DATA_ERRORS, CognitoThrottled
from cognito_restore.ledger import ChunkLease
from cognito_restore.observability import metrics_lock
from cognito_restore.pacing import Pacer
from cognito_restore.passwords import random_password
from cognito_restore.phase import work_store
from cognito_restore.sign_up import SignUpWindowClosed, client_may_write, window_closed
from cognito_restore.state import UserChunkEvent
from cognito_restore.users import UserPlan, federated_links

_RUNTIME_FIELDS = ("pacer", "cognito")


@dataclass
class ChunkOutcome:
    """What one chunk task did; saved as the chunk's result (the report reads these)."""

    index: int
    restored: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    memberships_restored: int = 0
    memberships_failed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    ids: list[dict[str, str | None]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    unlinked: list[dict[str, str]] = field(default_factory=list)  # identity links not made again
    reinvite: list[str] = field(default_factory=list)  # new usernames whose invitation must be re-sent
    links_restored: int = 0  # identity links made (or found made by an earlier attempt)
    mfa_restored: int = 0  # SMS MFA preferences set
    mfa_failed: list[dict[str, str]] = field(default_factory=list)
    # Links, MFA preferences and memberships of users that could not be created: {category, item, reason}.
    dependents_skipped: list[dict[str, str]] = field(default_factory=list)
    sync: dict[str, Any] = field(default_factory=dict)  # sync mode only: sync_users.new_sync_counts()
    offset: int = 0  # users of the chunk handled so far
    done: bool = False
    pacer: Pacer | None = field(default=None, repr=False, compare=False)
    cognito: Any = field(default=None, repr=False, compare=False)  # this invocation's client

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkOutcome:
        known = {f for f in cls.__dataclass_fields__ if f not in _RUNTIME_FIELDS}
        return cls(**{k: v for k, v in data.items() if k in known})

    def call(self, operation: str) -> None:
        """Count the call and wait for its quota share."""
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if self.pacer is not None:
            self.pacer.before(operation)

    def summary(self) -> dict[str, int | bool]:
        """For the log line of each invocation (the state keeps only done)."""
        return {
            "chunk": self.index,
            "done": self.done,
            "offset": self.offset,
            "restored": self.restored,
            "failed": len(self.failed),
            "memberships_restored": self.memberships_restored,
            "memberships_failed": len(self.memberships_failed),
        }

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _RUNTIME_FIELDS}

    def client(self) -> Any:
        return self.cognito if self.cognito is not None else aws.client("cognito-idp")


def _sub_of(attributes: list[dict[str, str]]) -> str | None:
    return next((a["Value"] for a in attributes if a["Name"] == "sub"), None)


def restore_user(
    pool_id: str,
    plan: UserPlan,
    password_policy: dict[str, Any],
    outcome: ChunkOutcome,
    unrestored_groups: frozenset[str] = frozenset(),
    sign_up_client_id: str | None = None,
) -> None:
    """AdminCreateUser (all attributes, no invitation) -> permanent password if it was usable -> disable;
    UNCONFIRMED users through SignUp instead (sign_up_client_id: the restore's temporary client).

    unrestored_groups: groups the groups phase could not create (their memberships are reported, not tried)."""
    guarded(
        outcome, lambda: _restore_user(pool_id, plan, password_policy, outcome, unrestored_groups, sign_up_client_id)
    )


def guarded(outcome: ChunkOutcome, work: Callable[[], None]) -> None:
    """Run one user's work; if it raises, drop what it counted (the retry redoes this user from its start,
    or the report would count its memberships twice and verification would find fewer than reported)."""
    counters = ("memberships_restored", "links_restored", "mfa_restored")
    lists = ("memberships_failed", "unlinked", "notes", "mfa_failed", "dependents_skipped")
    mark = {name: getattr(outcome, name) for name in counters} | {name: len(getattr(outcome, name)) for name in lists}
    sync_mark = {k: v if isinstance(v, int) else len(v) for k, v in outcome.sync.items()}
    try:
        work()
    except Exception:
        for name in counters:
            setattr(outcome, name, mark[name])
        for name in lists:
            del getattr(outcome, name)[mark[name] :]
        for key, value in sync_mark.items():
            if isinstance(outcome.sync[key], int):
                outcome.sync[key] = value
            else:
                del outcome.sync[key][value:]
        raise


def _restore_user(
    pool_id: str,
    plan: UserPlan,
    password_policy: dict[str, Any],
    outcome: ChunkOutcome,
    unrestored_groups: frozenset[str],
    sign_up_client_id: str | None = None,
) -> None:
    cognito = outcome.client()
    try:
        # Sync mode never opens a sign-up window (the target's settings are live and would send a code):
        # an UNCONFIRMED user missing from the target is created by AdminCreateUser, to be re-invited.
        admin_created_unconfirmed = plan.target_status == "UNCONFIRMED" and bool(outcome.sync)
        if plan.target_status == "UNCONFIRMED" and not admin_created_unconfirmed:
            attributes, status, enabled, new_username = _sign_up(
                pool_id, plan, password_policy, outcome, sign_up_client_id
            )
        else:
            attributes, status, enabled, new_username = _admin_create(pool_id, plan, outcome)
        if plan.set_permanent_password and status != "CONFIRMED":
            outcome.call("AdminSetUserPassword")
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=new_username, Password=random_password(password_policy), Permanent=True
            )
        if not plan.enabled and enabled:
            outcome.call("AdminDisableUser")
            cognito.admin_disable_user(UserPoolId=pool_id, Username=new_username)
        if plan.sms_mfa or plan.email_mfa:
            _set_sms_mfa(pool_id, new_username, plan, outcome)
        _link_identities(pool_id, new_username, plan, attributes, outcome)
        _add_to_groups(pool_id, new_username, plan, outcome, unrestored_groups)
    except ClientError as error:
        raise_if_throttled(error)
        if error_code(error) not in DATA_ERRORS:
            raise  # not this user's data: fail the chunk (retried, redriven) rather than record a loss
        outcome.failed.append({"item": plan.old_username, "reason": describe_error(error)})
        _skip_dependents(plan, outcome, f"user not restored ({describe_error(error)})")
        return
    outcome.restored += 1
    if plan.status == "FORCE_CHANGE_PASSWORD" or admin_created_unconfirmed:  # no usable temporary password
        outcome.reinvite.append(new_username)
    if admin_created_unconfirmed:
        outcome.notes.append(
            {
                "item": plan.old_username,
                "note": "UNCONFIRMED in the backup; created FORCE_CHANGE_PASSWORD (sync mode opens no sign-up window)",
            }
        )
    for note in plan.notes:
        outcome.notes.append({"item": plan.old_username, "note": note})
    outcome.ids.append(
        {
            "old_username": plan.old_username,
            "new_username": new_username,
            "old_sub": plan.old_sub,
            "new_sub": _sub_of(attributes),
        }
    )


_Created = tuple[list[dict[str, str]], str | None, bool, str]  # attributes, status, enabled, username


def _existing(pool_id: str, plan: UserPlan, outcome: ChunkOutcome) -> _Created:
    """A user an earlier attempt of this chunk created: read back, then finished like a new one."""
    outcome.call("AdminGetUser")
    user = outcome.client().admin_get_user(UserPoolId=pool_id, Username=plan.create_username)
    return user.get("UserAttributes", []), user.get("UserStatus"), user.get("Enabled", True), user["Username"]


def _admin_create(pool_id: str, plan: UserPlan, outcome: ChunkOutcome) -> _Created:
    try:
        outcome.call("AdminCreateUser")
        user = outcome.client().admin_create_user(
            UserPoolId=pool_id,
            Username=plan.create_username,
            UserAttributes=plan.attributes,
            MessageAction="SUPPRESS",
        )["User"]
    except ClientError as error:
        if error_code(error) != "UsernameExistsException":
            raise
        return _existing(pool_id, plan, outcome)
    return user.get("Attributes", []), user.get("UserStatus"), user.get("Enabled", True), user["Username"]


def _signed_up_earlier(pool_id: str, plan: UserPlan, outcome: ChunkOutcome, refusal: ClientError) -> _Created:
    """The window is closed (a redrive after verification): a user signed up before is finished; an
    absent one cannot be signed up now (and must not be: the triggers are attached)."""
    try:
        return _existing(pool_id, plan, outcome)
    except ClientError as error:
        if error_code(error) != "UserNotFoundException":
            raise
    raise SignUpWindowClosed(
        # No username here: the error reaches the execution state and the failure alert.
        "an UNCONFIRMED user of this chunk is absent and the sign-up window is closed "
        f"({describe_error(refusal)}): start the restore again with the same restore_id, which reopens it"
    ) from refusal


def _sign_up(
    pool_id: str, plan: UserPlan, password_policy: dict[str, Any], outcome: ChunkOutcome, client_id: str | None
) -> _Created:
    """SignUp through the restore's temporary client while the pool auto-verifies nothing: UNCONFIRMED,
    no message. What no client may write (verified flags, developer-only attributes) follows with
    AdminUpdateUserAttributes, only where the user does not hold it yet (a retry writes nothing again)."""
    if not client_id:
        # create_pool opens the window whenever the plan has UNCONFIRMED users: this is a bug, never data.
        raise RuntimeError("UNCONFIRMED user planned but the pool has no sign-up client (create_pool)")
    by_client = [a for a in plan.attributes if client_may_write(a["Name"])]
    try:
        outcome.call("SignUp")
        answer = outcome.client().sign_up(
            ClientId=client_id,
            Username=plan.create_username,  # the e-mail / phone in e-mail or phone username pools
            Password=random_password(password_policy),
            UserAttributes=by_client,
        )
    except ClientError as error:
        if window_closed(error_code(error), error_message(error)):
            created = _signed_up_earlier(pool_id, plan, outcome, error)
        elif error_code(error) == "UsernameExistsException":
            created = _existing(pool_id, plan, outcome)
        else:
            raise
    else:
        sub = str(answer["UserSub"])
        username = sub if plan.username_generated else plan.create_username
        created = ([*by_client, {"Name": "sub", "Value": sub}], "UNCONFIRMED", True, username)
    held = {a["Name"]: a["Value"] for a in created[0]}
    missing = [a for a in plan.attributes if not client_may_write(a["Name"]) and held.get(a["Name"]) != a["Value"]]
    if missing:
        outcome.call("AdminUpdateUserAttributes")
        outcome.client().admin_update_user_attributes(UserPoolId=pool_id, Username=created[3], UserAttributes=missing)
    return created


def _skip_dependents(plan: UserPlan, outcome: ChunkOutcome, reason: str) -> None:
    """What a user that could not be created would have had: reported with it, never unaccounted for."""
    user = plan.old_username
    skipped = [{"category": "memberships", "item": f"{group}: {user}", "reason": reason} for group in plan.groups]
    skipped += [
        {"category": "identity_links", "item": f"{user}: {link['provider_name']}", "reason": reason}
        for link in plan.links
    ]
    if plan.sms_mfa or plan.email_mfa:
        skipped.append({"category": "mfa_preferences", "item": user, "reason": reason})
    outcome.dependents_skipped.extend(skipped)


def mfa_preference_request(pool_id: str, username: str, plan: UserPlan) -> dict[str, Any]:
    """SMS (legacy MFAOptions: preferred) and, from a v2 backup, e-mail, with the backed-up preference."""
    request: dict[str, Any] = {"UserPoolId": pool_id, "Username": username}
    preferred = plan.preferred_mfa or ("SMS_MFA" if plan.sms_mfa and not plan.email_mfa else None)
    if plan.sms_mfa:
        request["SMSMfaSettings"] = {"Enabled": True, "PreferredMfa": preferred == "SMS_MFA"}
    if plan.email_mfa:
        request["EmailMfaSettings"] = {"Enabled": True, "PreferredMfa": preferred == "EMAIL_OTP"}
    return request


def _set_sms_mfa(pool_id: str, username: str, plan: UserPlan, outcome: ChunkOutcome) -> None:
    try:
        outcome.call("AdminSetUserMFAPreference")
        outcome.client().admin_set_user_mfa_preference(**mfa_preference_request(pool_id, username, plan))
    except ClientError as error:
        raise_if_throttled(error)
        raise_unless_caused_by_data(error)  # pool gone, internal error: the chunk fails and is run again
        outcome.mfa_failed.append(
            {"item": plan.old_username, "reason": f"MFA preference not restored: {describe_error(error)}"}
        )
        return
    outcome.mfa_restored += 1


def _link_identities(
    pool_id: str, username: str, plan: UserPlan, attributes: list[dict[str, str]], outcome: ChunkOutcome
) -> None:
    """Link the user (federated placeholder or native user) to each identity it had, skipping links made earlier."""
    identities = next((a["Value"] for a in attributes if a["Name"] == "identities"), None)
    linked = {(link["provider_name"], link["user_id"]) for link in federated_links(identities)}
    for link in plan.links:
        if (link["provider_name"], link["user_id"]) in linked:
            outcome.links_restored += 1  # made by an earlier attempt
            continue
        try:
            outcome.call("AdminLinkProviderForUser")
            outcome.client().admin_link_provider_for_user(
                UserPoolId=pool_id,
                DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": username},
                SourceUser={
                    "ProviderName": link["provider_name"],
                    "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": link["user_id"],
                },
            )
        except ClientError as error:
            raise_if_throttled(error)
            raise_unless_caused_by_data(error)  # pool gone, internal error: the chunk fails and is run again
            outcome.unlinked.append(
                {
                    "item": f"{plan.old_username}: {link['provider_name']}",
                    "reason": f"not linked to {link['provider_name']}: {describe_error(error)}",
                }
            )
            continue
        outcome.links_restored += 1


def _add_to_groups(
    pool_id: str, username: str, plan: UserPlan, outcome: ChunkOutcome, unrestored_groups: frozenset[str]
) -> None:
    for group in plan.groups:
        if group in unrestored_groups:  # AdminAddUserToGroup could only answer ResourceNotFoundException
            outcome.memberships_failed.append(
                {"item": f"{group}: {plan.old_username}", "reason": "group not restored (see groups)"}
            )
            continue
        try:
            outcome.call("AdminAddUserToGroup")
            outcome.client().admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
        except ClientError as error:
            raise_if_throttled(error)
            raise_unless_caused_by_data(error)  # group or pool gone, internal error: the chunk fails, run again
            outcome.memberships_failed.append(
                {"item": f"{group}: {plan.old_username}", "reason": describe_error(error)}
            )
            continue
        outcome.memberships_restored += 1


STALE = "stale"  # a result file verification invalidated: the chunk runs again from its first user
CHECKPOINT_EVERY = 100  # users between saved progress points (bounds the redo after a crash)
LEASE_CHECK_EVERY = 10  # users between lease checks (a stale invocation writes at most these before it stops)
TIME_RESERVE_MS = 60_000  # stop and hand back a continuation with this much Lambda time left


def _emit_chunk_metrics(metrics: Any, outcome: ChunkOutcome, before: tuple[int, int, int], started: float) -> None:
    """What this invocation of the chunk did (deltas: a resumed chunk counts only its new work)."""
    if metrics is None:
        return
    from aws_lambda_powertools.metrics import MetricUnit  # the Lambda runtime's Powertools (layer dependency)

    with metrics_lock:
        metrics.add_metric(name="UsersRestored", unit=MetricUnit.Count, value=outcome.restored - before[0])
        metrics.add_metric(name="UsersFailed", unit=MetricUnit.Count, value=len(outcome.failed) - before[1])
        metrics.add_metric(name="ThrottledCalls", unit=MetricUnit.Count, value=outcome.throttled - before[2])
        metrics.add_metric(name="ChunkSeconds", unit=MetricUnit.Seconds, value=round(time.monotonic() - started, 3))
        if outcome.done:
            metrics.add_metric(name="ChunksDone", unit=MetricUnit.Count, value=1)


def run_user_chunk(
    event: UserChunkEvent,
    context: LambdaContext,
    restore_item: Callable[[dict[str, Any], ChunkOutcome], None],
    pacer: Pacer | None = None,
    metrics: Any = None,
    finish: Callable[[ChunkOutcome], None] | None = None,
) -> ChunkOutcome:
    """Restore the users of the chunk named by the Map item, resuming from saved progress.

    Returns with done=False (a continuation) when the Lambda time runs low; the state machine then
    calls again and the work goes on from the saved offset. A finished chunk is never redone. The
    chunk's lease (ChunkLease) is checked before each batch of Cognito writes and each progress
    write: an invocation a newer one took over stops (ChunkLeaseLost) without writing anything.
    metrics (the handler's Powertools Metrics): this invocation's users restored / failed, throttled
    calls and duration, flushed by the handler's log_metrics. finish (sync mode): run once every user of
    the chunk is handled, before the result is saved (a crash in it redoes it from the last checkpoint).
    """
    chunk = event["chunk"]
    store = work_store(event)
    result_key = store.chunk_result_key("users", chunk["index"])
    progress_key = result_key.removesuffix(".json") + ".progress.json"
    finished = store.get_json_or_none(result_key)
    if finished is not None and not finished.get(STALE):
        return ChunkOutcome.from_dict(finished)
    lease = ChunkLease(
        os.environ["LEDGER_TABLE"], event["restore"]["restore_id"], "users", chunk["index"], context.aws_request_id
    )
    claim = event.get("claim")  # the parent execution's run (absent in events of executions started before it)
    lease.acquire(
        context.get_remaining_time_in_millis(),
        (claim["execution_arn"], int(claim["redrive_count"] or 0)) if claim else None,
    )

    def save(key: str, outcome: ChunkOutcome) -> None:
        lease.check()
        store.put_json(key, outcome.to_dict())

    saved = store.get_json_or_none(progress_key)
    outcome = ChunkOutcome.from_dict(saved) if saved else ChunkOutcome(chunk["index"])
    outcome.pacer = pacer
    outcome.cognito = aws.new_client("cognito-idp")
    items = store.get_json(chunk["key"])
    throttled_before = 0
    start = outcome.offset
    began, before = time.monotonic(), (outcome.restored, len(outcome.failed), outcome.throttled)
    for position in range(start, len(items)):
        if position > start and (position - start) % LEASE_CHECK_EVERY == 0:
            lease.check()
        try:
            restore_item(items[position], outcome)
        except CognitoThrottled:
            # Keep what is done; the state machine retries this chunk later, with jitter.
            outcome.throttled += aws.client_throttles(outcome.cognito) - throttled_before
            save(progress_key, outcome)
            _emit_chunk_metrics(metrics, outcome, before, began)
            raise
        outcome.offset = position + 1
        if outcome.offset == len(items):
            break
        out_of_time = context.get_remaining_time_in_millis() < TIME_RESERVE_MS
        if out_of_time or outcome.offset % CHECKPOINT_EVERY == 0:
            outcome.throttled += aws.client_throttles(outcome.cognito) - throttled_before
            throttled_before = aws.client_throttles(outcome.cognito)
            save(progress_key, outcome)
            if out_of_time:
                _emit_chunk_metrics(metrics, outcome, before, began)
                return outcome
    if finish is not None:
        try:
            finish(outcome)
        except CognitoThrottled:  # finish skips what it recorded already: keep every user done
            outcome.throttled += aws.client_throttles(outcome.cognito) - throttled_before
            save(progress_key, outcome)
            _emit_chunk_metrics(metrics, outcome, before, began)
            raise
    outcome.throttled += aws.client_throttles(outcome.cognito) - throttled_before
    outcome.done = True
    save(result_key, outcome)
    _emit_chunk_metrics(metrics, outcome, before, began)
    return outcome


def invalidate_user_chunk(store: Any, index: int, reason: str) -> None:
    """Make the chunk run again from its first user at the next run of the users Map (verification found
    a user or membership it reported restored absent from the pool). Its users that exist are found and
    finished (AdminCreateUser -> UsernameExistsException -> AdminGetUser), the absent ones created again.
    The result file is replaced by a stale marker and the progress by a fresh start (no delete permission)."""
    result_key = store.chunk_result_key("users", index)
    store.put_json(result_key.removesuffix(".json") + ".progress.json", ChunkOutcome(index).to_dict())
    store.put_json(result_key, {"index": index, "done": False, STALE: reason})
