"""Restoring one chunk of users or memberships. Every step is safe to repeat (retries, redrives)."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

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
from cognito_restore.pacing import Pacer, threads_for
from cognito_restore.passwords import random_password
from cognito_restore.phase import work_store
from cognito_restore.running import EPOCH_S, READ_BEFORE_S, RunningTasks
from cognito_restore.sign_up import SignUpWindowClosed, client_may_write, window_closed
from cognito_restore.state import UserChunkEvent
from cognito_restore.users import UserPlan, federated_links

_RUNTIME_FIELDS = ("pacer", "cognito")
_POSITION_FIELDS = ("index", "offset", "done", "throttled")  # the chunk's own, not summed per user
_log = logging.getLogger(__name__)


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

    def merge(self, other: ChunkOutcome) -> None:
        """Add what one user's restore did (other: that user's own outcome) to the chunk's: counters add up,
        lists are extended, call counts summed. Generic over the fields, so a new field merges too."""
        for name in self.__dataclass_fields__:
            if name in _RUNTIME_FIELDS or name in _POSITION_FIELDS:
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, bool):
                continue
            if isinstance(mine, int):
                setattr(self, name, mine + theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, dict):  # calls {operation: n}; sync {counter: n, list: [...]}
                for key, value in theirs.items():
                    if isinstance(value, list):
                        mine.setdefault(key, []).extend(value)
                    elif isinstance(value, int) and not isinstance(value, bool):
                        mine[key] = mine.get(key, 0) + value
                    else:
                        mine.setdefault(key, value)

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
            set_mfa_preferences(pool_id, new_username, plan, outcome)
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


def set_mfa_preferences(pool_id: str, username: str, plan: UserPlan, outcome: ChunkOutcome) -> None:
    """The backed-up MFA preferences (mfa_preference_request); a refusal caused by the data is named."""
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
        link_identity(pool_id, username, plan, link, outcome)


def link_identity(pool_id: str, username: str, plan: UserPlan, link: dict[str, str], outcome: ChunkOutcome) -> None:
    """AdminLinkProviderForUser for one backed-up identity; a refusal caused by the data is named."""
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
        return
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


class _Workers:
    """The users of one chunk restored by a few threads at once (in-task concurrency hides call latency).

    Each user is restored into an outcome of its own (restore_user's code runs in one thread per
    user, unchanged); finished users are merged into the chunk's outcome in chunk order, so the
    saved offset is always a prefix of users whose every effect is in the saved outcome: a resumed
    chunk redoes at most the users that were in flight, and counts each of them once.
    """

    def __init__(
        self,
        outcome: ChunkOutcome,
        items: list[dict[str, Any]],
        restore_item: Callable[[dict[str, Any], ChunkOutcome], None],
        context: LambdaContext,
        lease: ChunkLease,
        save_progress: Callable[[ChunkOutcome], None],
        throttles: Callable[[], int],
    ) -> None:
        self.outcome, self.items, self.restore_item, self.context = outcome, items, restore_item, context
        self.lease, self.save_progress, self.throttles = lease, save_progress, throttles
        self.start = outcome.offset
        self.throttled_before = outcome.throttled
        self.lock = threading.Lock()
        self.next = self.start
        self.finished: dict[int, ChunkOutcome] = {}
        self.errors: list[BaseException] = []
        self.out_of_time = False
        self.threads: list[threading.Thread] = []

    def grow(self, count: int) -> None:
        """Run at least count worker threads (more when fewer tasks share the quota)."""
        with self.lock:
            while len(self.threads) < count and self.next < len(self.items) and not self._stopping():
                # In the invoking thread's context (copied per thread): what the runtime and the tools keep
                # in context variables (log keys; the emulator's caller identity for IAM) holds in workers too.
                thread = threading.Thread(
                    target=contextvars.copy_context().run,
                    args=(self._work,),
                    name=f"chunk-{self.outcome.index}-w{len(self.threads)}",
                )
                self.threads.append(thread)
                thread.start()

    def join(self) -> None:
        while True:
            with self.lock:
                alive = [t for t in self.threads if t.is_alive()]
            if not alive:
                return
            for thread in alive:
                thread.join()

    def _stopping(self) -> bool:
        return bool(self.errors) or self.out_of_time

    def _pull(self) -> int | None:
        with self.lock:
            if self._stopping() or self.next >= len(self.items):
                return None
            if self.next > self.start and (self.next - self.start) % LEASE_CHECK_EVERY == 0:
                try:
                    self.lease.check()  # before each batch of Cognito writes
                except Exception as error:  # noqa: BLE001  # ChunkLeaseLost and all: re-raised by the task's thread
                    self.errors.append(error)
                    return None
            if self.context.get_remaining_time_in_millis() < TIME_RESERVE_MS:
                self.out_of_time = True
                return None
            position = self.next
            self.next += 1
            return position

    def _finish(self, position: int, done: ChunkOutcome) -> None:
        with self.lock:
            self.finished[position] = done
            crossed = False
            while self.outcome.offset in self.finished:
                self.outcome.merge(self.finished.pop(self.outcome.offset))
                self.outcome.offset += 1
                crossed |= self.outcome.offset % CHECKPOINT_EVERY == 0
            if crossed and self.outcome.offset < len(self.items) and not self._stopping():
                try:
                    self.save()
                except Exception as error:  # noqa: BLE001  # re-raised by the task's thread
                    self.errors.append(error)

    def save(self) -> None:
        """Save the merged prefix (caller holds the lock, or the workers have stopped)."""
        self.outcome.throttled = self.throttled_before + self.throttles()
        self.save_progress(self.outcome)

    def _work(self) -> None:
        while (position := self._pull()) is not None:
            mine = ChunkOutcome(self.outcome.index, pacer=self.outcome.pacer, cognito=self.outcome.cognito)
            try:
                self.restore_item(self.items[position], mine)
            except BaseException as error:  # noqa: BLE001  # re-raised by the task's thread
                with self.lock:
                    self.errors.append(error)
                return
            self._finish(position, mine)


def _keep_place(
    registry: RunningTasks, pacer: Pacer, workers: _Workers, stop: threading.Event, first_boundary: float
) -> None:
    """Heartbeat thread: READ_BEFORE_S before each epoch boundary, read the running tasks and take this
    task's place among them from that boundary on (cognito_restore.running)."""
    read_at = first_boundary - READ_BEFORE_S
    while not stop.wait(timeout=max(0.0, read_at - pacer.clock())):
        try:
            position, tasks, boundary = registry.beat(pacer.clock())
        except (ClientError, BotoCoreError):  # DynamoDB unavailable: keep the place, try again next epoch
            _log.warning("running-tasks heartbeat failed", exc_info=True)
            read_at += EPOCH_S
            pacer.hold_place(read_at + READ_BEFORE_S + EPOCH_S)
            continue
        if tasks:
            pacer.assign(position, tasks, boundary, boundary + EPOCH_S)  # the next read decides what follows
            workers.grow(threads_for(pacer.quotas, pacer.share, tasks))
        read_at = boundary + EPOCH_S - READ_BEFORE_S


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
    With a pacer, the task registers among the running chunk tasks (RunningTasks) so it paces at
    its real share, and restores several users at once (threads_for).
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
    outcome.cognito = aws.new_client("cognito-idp", pacer.retry_delay if pacer is not None else None)
    items = store.get_json(chunk["key"])
    began, before = time.monotonic(), (outcome.restored, len(outcome.failed), outcome.throttled)
    workers = _Workers(
        outcome,
        items,
        restore_item,
        context,
        lease,
        lambda o: save(progress_key, o),
        lambda: aws.client_throttles(outcome.cognito),
    )
    stop = threading.Event()
    keeper = None
    # The place on the grids is kept while any paced call may still be made, the finish hook's included:
    # a pacer left without a place makes its calls wait for the next assignment, which would never come.
    if pacer is not None and (outcome.offset < len(items) or finish is not None):
        registry = RunningTasks(os.environ["LEDGER_TABLE"], event["restore"]["restore_id"], "users", chunk["index"])
        pacer.unplace()  # no slots until the first boundary: the running tasks keep theirs
        keeper = threading.Thread(
            target=contextvars.copy_context().run,
            args=(_keep_place, registry, pacer, workers, stop, registry.join(pacer.clock())),
            daemon=True,
        )
        keeper.start()
        workers.grow(threads_for(pacer.quotas, pacer.share, pacer.concurrency))
    else:
        workers.grow(1)
    try:
        workers.join()
        if finish is not None and not workers.errors and not workers.out_of_time:
            try:
                finish(outcome)
            except CognitoThrottled:  # finish skips what it recorded already: keep every user done
                outcome.throttled = workers.throttled_before + aws.client_throttles(outcome.cognito)
                save(progress_key, outcome)
                _emit_chunk_metrics(metrics, outcome, before, began)
                raise
    finally:
        stop.set()
        if keeper is not None:
            keeper.join()
            registry.leave(pacer.clock())  # type: ignore[union-attr]  # set with keeper
    other = [e for e in workers.errors if not isinstance(e, CognitoThrottled)]
    if other:
        raise other[0]  # not this user's data (lease lost, pool gone, ...): nothing more is written
    if workers.errors or workers.out_of_time:
        # Throttled past the SDK's retries: keep what is done; the state machine retries the chunk later,
        # with jitter. Out of time: a continuation goes on from the saved offset.
        workers.save()
        _emit_chunk_metrics(metrics, outcome, before, began)
        if workers.errors:
            raise workers.errors[0]
        return outcome
    outcome.throttled = workers.throttled_before + aws.client_throttles(outcome.cognito)
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
