"""Sync mode, users and memberships: reconcile the backup's users into an existing pool (docs/sync.md).

The target pool is read once, in pages (ListUsers, ListGroups, ListUsersInGroup), by the "Read target
pool" phase, into one S3 partition per user chunk: a user's partition is a hash of its sign-in name
(the username, or the e-mail / phone number in pools that sign in with them; never `sub`), and
preparation in sync mode puts each backed-up user in the chunk of the same number. So each chunk task
reads its own partition of the target (one S3 object) and writes only the differences: the Cognito
calls of a sync are proportional to the changes, not to the users.

Pure functions (keys, partitions, the diff) and the AWS side (listing, applying, deleting) are here;
chunks.py runs it through its hooks (resume, checkpoints, lease, throttling).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled, raise_unless_caused_by_data
from cognito_restore.users import MANAGED_ATTRIBUTES, MANAGED_PREFIX, UserPlan, federated_links

PAGE_SIZE = 60  # ListUsers / ListUsersInGroup maximum
VERIFIED_FLAGS = {"email": "email_verified", "phone_number": "phone_number_verified"}
KEPT_NOT_IN_BACKUP = "in the target pool, absent from the backup: kept (delete_missing is false)"
KEPT_OVER_CAP = "in the target pool, absent from the backup: kept (max_deletes reached)"


# ---------------------------------------------------------------- options and keys


@dataclass(frozen=True)
class SyncOptions:
    """The sync keys of the execution input (execution_input.py validates them)."""

    delete_missing: bool = False
    max_deletes: int = 0

    @classmethod
    def of(cls, restore: Mapping[str, object]) -> SyncOptions:
        max_deletes = restore.get("max_deletes")
        return cls(
            delete_missing=restore.get("delete_missing") is True,
            max_deletes=max_deletes if isinstance(max_deletes, int) and not isinstance(max_deletes, bool) else 0,
        )


def is_sync(restore: Mapping[str, object]) -> bool:
    return restore.get("mode") == "sync"


def sign_in_key(name: str, case_sensitive: bool) -> str:
    return name if case_sensitive else name.lower()


def partition_of(key: str, partitions: int) -> int:
    """Stable across processes and Python versions (not hash()): preparation and the listing must agree."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % max(1, partitions)


def partitions_for(users: int, chunk_size: int) -> int:
    return max(1, -(-users // max(1, chunk_size)))


def target_sign_in(user: Mapping[str, Any], username_attributes: Iterable[str]) -> str | None:
    """A listed user's sign-in name, the one preparation gives its plan (UserPlan.create_username)."""
    attributes = {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}
    names = tuple(username_attributes)
    if names:
        return next((attributes[a] for a in names if attributes.get(a)), None)
    username = user.get("Username")
    return username if isinstance(username, str) else None


def partition_key(store: Any, index: int) -> str:
    return str(store.key(f"sync/target/part-{index:06d}.json"))


# ---------------------------------------------------------------- reading the target


@dataclass
class TargetSnapshot:
    """The target pool, partitioned; what the "Read target pool" phase writes and returns."""

    partitions: list[list[dict[str, Any]]]
    pages: dict[str, int] = field(default_factory=dict)  # read calls per operation
    users: int = 0
    memberships: int = 0
    unmatched: list[dict[str, str]] = field(default_factory=list)  # target users without a sign-in name
    target_only: int = 0
    to_delete: int = 0
    kept: int = 0


def _pages(
    call: Callable[..., dict[str, Any]], operation: str, pages: dict[str, int], **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every page by PaginationToken/NextToken; each page is one read call (counted, paced by `call`)."""
    token_key = "PaginationToken" if operation == "ListUsers" else "NextToken"  # the botocore model's names
    token: str | None = None
    while True:
        pages[operation] = pages.get(operation, 0) + 1
        try:
            page = call(operation, **kwargs, **({token_key: token} if token else {}))
        except ClientError as error:
            raise_if_throttled(error)
            raise
        yield page
        token = page.get(token_key)
        if not token:
            return


def target_entry(user: Mapping[str, Any], key: str) -> dict[str, Any]:
    """What a partition keeps of a listed target user (its groups are added from the group listings)."""
    return {
        "key": key,
        "username": user["Username"],
        "attributes": user.get("Attributes", []),
        "status": user.get("UserStatus"),
        "enabled": user.get("Enabled", True) is not False,
        "mfa_options": user.get("MFAOptions") or [],
        "groups": [],
    }


def read_target(
    call: Callable[..., dict[str, Any]],
    pool_id: str,
    partitions: int,
    username_attributes: Iterable[str],
    case_sensitive: bool,
    backup_keys: set[str],
    options: SyncOptions,
) -> TargetSnapshot:
    """List the target pool once and partition it; mark each user absent from the backup delete or keep.

    call(operation, **params): one Cognito call (the handler's paced, counted client). backup_keys: the
    sign-in keys of every planned user. The first max_deletes target-only users in sign-in order are
    marked for deletion (deterministic: a re-run marks the same ones); the others are kept, by name."""
    snapshot = TargetSnapshot(partitions=[[] for _ in range(max(1, partitions))])
    names = tuple(username_attributes)
    by_username: dict[str, dict[str, Any]] = {}
    for page in _pages(call, "ListUsers", snapshot.pages, UserPoolId=pool_id, Limit=PAGE_SIZE):
        for user in page.get("Users", []):
            sign_in = target_sign_in(user, names)
            if sign_in is None:  # cannot be matched with a backed-up user: reported, never touched
                snapshot.unmatched.append({"item": user["Username"], "reason": "no sign-in attribute: left as is"})
                continue
            key = sign_in_key(sign_in, case_sensitive)
            entry = target_entry(user, key)
            by_username[user["Username"]] = entry
            snapshot.partitions[partition_of(key, partitions)].append(entry)
            snapshot.users += 1
    for page in _pages(call, "ListGroups", snapshot.pages, UserPoolId=pool_id, Limit=PAGE_SIZE):
        for group in page.get("Groups", []):
            name = group["GroupName"]
            for members in _pages(
                call, "ListUsersInGroup", snapshot.pages, UserPoolId=pool_id, GroupName=name, Limit=PAGE_SIZE
            ):
                for member in members.get("Users", []):
                    listed = by_username.get(member["Username"])
                    if listed is not None:
                        listed["groups"].append(name)
                        snapshot.memberships += 1
    target_only = sorted((e for e in by_username.values() if e["key"] not in backup_keys), key=lambda e: e["key"])
    snapshot.target_only = len(target_only)
    for position, entry in enumerate(target_only):
        if options.delete_missing and position < options.max_deletes:
            entry["action"] = "delete"
            snapshot.to_delete += 1
        else:
            entry["action"] = "keep"
            entry["reason"] = KEPT_OVER_CAP if options.delete_missing else KEPT_NOT_IN_BACKUP
            snapshot.kept += 1
    return snapshot


# ---------------------------------------------------------------- the diff (pure)


def _current_attributes(target: Mapping[str, Any]) -> dict[str, str]:
    return {
        a["Name"]: a.get("Value", "")
        for a in target.get("attributes", [])
        if a["Name"] not in MANAGED_ATTRIBUTES and not a["Name"].startswith(MANAGED_PREFIX)
    }


def _normalised(values: Mapping[str, str]) -> dict[str, str]:
    """Cognito treats an absent verified flag as false."""
    out = dict(values)
    for flag in VERIFIED_FLAGS.values():
        out[flag] = "true" if out.get(flag) == "true" else "false"
    return out


@dataclass
class UserDiff:
    """What must change for one matched user to be as backed up."""

    set_attributes: dict[str, str] = field(default_factory=dict)
    delete_attributes: list[str] = field(default_factory=list)
    immutable_differs: list[str] = field(default_factory=list)  # Cognito refuses to change these: reported
    enable: bool | None = None  # True: AdminEnableUser, False: AdminDisableUser
    confirm: str | None = None  # "password" (AdminSetUserPassword) or "sign_up" (AdminConfirmSignUp)
    status_kept: str | None = None  # a status move Cognito does not allow: reported
    sms_mfa: bool | None = None  # True/False: set / clear the SMS MFA preference; None: as listed
    check_sms_mfa: bool = False  # the listing cannot show it (AdminGetUser decides)
    add_links: list[dict[str, str]] = field(default_factory=list)
    extra_links: list[str] = field(default_factory=list)  # links the backup lacks: kept, reported
    add_groups: list[str] = field(default_factory=list)
    remove_groups: list[str] = field(default_factory=list)
    verified: dict[str, str] = field(default_factory=dict)  # the backed-up verified flags ("true"/"false")

    def changes(self) -> list[str]:
        """The change list of a dry run and of the report (attribute names, never values)."""
        out = []
        if self.set_attributes:
            out.append("attributes set: " + ", ".join(sorted(self.set_attributes)))
        if self.delete_attributes:
            out.append("attributes removed: " + ", ".join(sorted(self.delete_attributes)))
        if self.enable is not None:
            out.append("enabled" if self.enable else "disabled")
        if self.confirm:
            out.append("confirmed")
        if self.check_sms_mfa:
            out.append("SMS MFA on (unless already set)")
        out += [f"linked to {link['provider_name']}" for link in self.add_links]
        out += [f"added to {group}" for group in self.add_groups]
        out += [f"removed from {group}" for group in self.remove_groups]
        return out

    @property
    def writes(self) -> bool:
        """Writes known from the listing alone (the SMS MFA preference is decided in sync_user)."""
        return bool(
            self.set_attributes
            or self.delete_attributes
            or self.enable is not None
            or self.confirm
            or self.add_links
            or self.add_groups
            or self.remove_groups
        )


def _listed_sms_mfa(target: Mapping[str, Any]) -> bool:
    return any(isinstance(o, dict) and o.get("DeliveryMedium") == "SMS" for o in target.get("mfa_options") or [])


def diff_user(plan: UserPlan, target: Mapping[str, Any], immutable: frozenset[str] = frozenset()) -> UserDiff:
    """The writes that make `target` (a partition entry) what `plan` would have created."""
    diff = UserDiff()
    desired = _normalised({a["Name"]: a["Value"] for a in plan.attributes})
    current = _normalised(_current_attributes(target))
    diff.verified = {flag: desired[flag] for flag in VERIFIED_FLAGS.values()}
    for name, value in desired.items():
        if current.get(name) != value:
            if name in immutable:
                diff.immutable_differs.append(name)
            else:
                diff.set_attributes[name] = value
    for name in sorted(set(current) - set(desired)):
        if name not in immutable:
            diff.delete_attributes.append(name)
    if plan.enabled != target.get("enabled", True):
        diff.enable = plan.enabled
    status = target.get("status")
    if status != plan.target_status:
        if plan.target_status == "CONFIRMED" and status == "RESET_REQUIRED":
            # Failback (docs/failback.md): the original pool's user must reset its password either way, and a
            # random one would overwrite its pending reset; a restore's RESET_REQUIRED -> CONFIRMED is no change.
            diff.status_kept = "RESET_REQUIRED kept: the user resets its password either way (no password overwritten)"
        elif plan.target_status == "CONFIRMED" and status == "FORCE_CHANGE_PASSWORD":
            diff.confirm = "password"
        elif plan.target_status == "CONFIRMED" and status == "UNCONFIRMED":
            diff.confirm = "sign_up"  # keeps the user's own password
        else:
            diff.status_kept = f"{status} kept: Cognito cannot move a user to {plan.target_status}"
    listed = _listed_sms_mfa(target)
    if plan.sms_mfa and not listed:
        diff.check_sms_mfa = True
    elif listed and not plan.sms_mfa:
        diff.sms_mfa = False
    identities = next((a["Value"] for a in target.get("attributes", []) if a["Name"] == "identities"), None)
    linked = {(link["provider_name"], link["user_id"]) for link in federated_links(identities)}
    wanted = {(link["provider_name"], link["user_id"]) for link in plan.links}
    diff.add_links = [link for link in plan.links if (link["provider_name"], link["user_id"]) not in linked]
    diff.extra_links = sorted(f"{provider}" for provider, user_id in linked - wanted)
    groups = set(target.get("groups") or [])
    diff.add_groups = sorted(set(plan.groups) - groups)
    diff.remove_groups = sorted(groups - set(plan.groups))
    return diff


# ---------------------------------------------------------------- applying (AWS)


def new_sync_counts() -> dict[str, Any]:
    return {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "deleted": [],  # target-only users deleted (delete_missing), by name
        "kept": [],  # target-only users kept, by name and reason
        "changes": [],  # {"item", "changes"} per created or updated user
        "status_kept": [],  # status moves Cognito does not allow
        "extra_links": [],  # links in the target the backup lacks (kept)
        "immutable": [],  # immutable attributes that differ (kept)
        "memberships_added": 0,
        "memberships_removed": 0,
    }


def _confirm(cognito: Any, pool_id: str, username: str, how: str, policy: dict[str, Any], outcome: Any) -> None:
    from cognito_restore.passwords import random_password

    if how == "sign_up":
        outcome.call("AdminConfirmSignUp")
        try:
            cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            # Confirmed by an earlier attempt of this chunk (its snapshot predates that write).
            if error_code(error) != "NotAuthorizedException" or "CONFIRMED" not in describe_error(error):
                raise
    else:
        outcome.call("AdminSetUserPassword")
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=random_password(policy), Permanent=True
        )


def _update_attributes(
    cognito: Any, pool_id: str, username: str, values: dict[str, str], verified: dict[str, str], outcome: Any
) -> None:
    """AdminUpdateUserAttributes without a message: a changed e-mail or phone goes with its verified flag
    true in the same request (Cognito then sends no code); a flag the backup has false is set after."""
    first = dict(values)
    after: dict[str, str] = {}
    for base, flag in VERIFIED_FLAGS.items():
        if values.get(base):
            wanted = verified.get(flag, "false")
            first[flag] = "true"
            if wanted != "true":
                after[flag] = wanted
    outcome.call("AdminUpdateUserAttributes")
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username=username, UserAttributes=[{"Name": k, "Value": v} for k, v in first.items()]
    )
    if after:
        outcome.call("AdminUpdateUserAttributes")
        cognito.admin_update_user_attributes(
            UserPoolId=pool_id, Username=username, UserAttributes=[{"Name": k, "Value": v} for k, v in after.items()]
        )


def _sync_mfa_preferences(cognito: Any, pool_id: str, username: str, plan: UserPlan, outcome: Any) -> bool:
    """A user with e-mail MFA in the backup (v2): its MFA factors and preferred one read (AdminGetUser) and
    set as backed up when they differ. True when it wrote. A factor the target has and the backup does not
    is kept (the backup's factors are enabled, none is disabled)."""
    from cognito_restore.chunks import set_mfa_preferences

    outcome.call("AdminGetUser")
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    enabled = set(user.get("UserMFASettingList") or [])
    wanted = {"EMAIL_OTP", "SMS_MFA"} if plan.sms_mfa else {"EMAIL_OTP"}
    preferred = plan.preferred_mfa if plan.preferred_mfa in wanted else None  # as mfa_preference_request sets it
    if wanted <= enabled and (preferred is None or user.get("PreferredMfaSetting") == preferred):
        outcome.mfa_restored += 1
        return False
    set_mfa_preferences(pool_id, username, plan, outcome)
    return True


def _has_sms_mfa(cognito: Any, pool_id: str, username: str, outcome: Any) -> bool:
    outcome.call("AdminGetUser")
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return "SMS_MFA" in (user.get("UserMFASettingList") or [])


def sync_user(
    pool_id: str,
    plan: UserPlan,
    target: Mapping[str, Any],
    password_policy: dict[str, Any],
    outcome: Any,
    unrestored_groups: frozenset[str] = frozenset(),
    immutable: frozenset[str] = frozenset(),
) -> None:
    """Make one matched user as backed up with the fewest writes; its outcome is recorded like a restore's
    (restored, ids, memberships) so the report and verification read a sync as they read a restore."""
    cognito = outcome.client()
    username = target["username"]
    diff = diff_user(plan, target, immutable)
    sync = outcome.sync
    changes = [c for c in diff.changes() if not c.startswith("SMS MFA")]  # decided below
    wrote = diff.writes
    try:
        if diff.set_attributes:
            _update_attributes(cognito, pool_id, username, diff.set_attributes, diff.verified, outcome)
        if diff.delete_attributes:
            outcome.call("AdminDeleteUserAttributes")
            cognito.admin_delete_user_attributes(
                UserPoolId=pool_id, Username=username, UserAttributeNames=diff.delete_attributes
            )
        if diff.confirm:
            _confirm(cognito, pool_id, username, diff.confirm, password_policy, outcome)
        if diff.enable is True:
            outcome.call("AdminEnableUser")
            cognito.admin_enable_user(UserPoolId=pool_id, Username=username)
        elif diff.enable is False:
            outcome.call("AdminDisableUser")
            cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
    except ClientError as error:
        raise_if_throttled(error)
        if error_code(error) == "UserNotFoundException":  # deleted since the listing: created as a restore would
            from cognito_restore.chunks import restore_user

            before = outcome.restored
            restore_user(pool_id, plan, password_policy, outcome, unrestored_groups)
            if outcome.restored > before:
                sync["created"] += 1
                sync["changes"].append({"item": plan.old_username, "changes": ["created (gone since the listing)"]})
            return
        raise_unless_caused_by_data(error)
        outcome.failed.append({"item": plan.old_username, "reason": f"not synced: {describe_error(error)}"})
        _skip(plan, outcome, f"user not synced ({describe_error(error)})")
        return
    if plan.email_mfa:  # v2: the listing shows no e-mail MFA; one read for this user (docs/sync.md)
        if _sync_mfa_preferences(cognito, pool_id, username, plan, outcome):
            wrote = True
            changes.append("MFA preferences")
    else:
        mfa_wanted = diff.sms_mfa  # False: listed as set, not in the backup
        if diff.check_sms_mfa:  # the listing does not show it: one read for this user (docs/sync.md)
            if _has_sms_mfa(cognito, pool_id, username, outcome):
                outcome.mfa_restored += 1
            else:
                mfa_wanted = True
        elif plan.sms_mfa:
            outcome.mfa_restored += 1  # listed as set
        if mfa_wanted is not None:
            wrote = True
            changes.append("SMS MFA " + ("on" if mfa_wanted else "off"))
            _set_sms_mfa(cognito, pool_id, username, plan, mfa_wanted, outcome)
    _link(pool_id, username, plan, diff, outcome)
    _memberships(cognito, pool_id, username, plan, diff, outcome, unrestored_groups)
    outcome.restored += 1
    if wrote:
        sync["updated"] += 1
        sync["changes"].append({"item": plan.old_username, "changes": changes})
    else:
        sync["unchanged"] += 1
    if diff.status_kept:
        sync["status_kept"].append({"item": plan.old_username, "reason": diff.status_kept})
    for name in diff.immutable_differs:
        sync["immutable"].append({"item": plan.old_username, "reason": f"immutable attribute {name} differs: kept"})
    for provider in diff.extra_links:
        sync["extra_links"].append(
            {"item": f"{plan.old_username}: {provider}", "reason": "link not in the backup: kept"}
        )
    for note in plan.notes:
        outcome.notes.append({"item": plan.old_username, "note": note})
    sub = next((a["Value"] for a in target.get("attributes", []) if a["Name"] == "sub"), None)
    outcome.ids.append(
        {"old_username": plan.old_username, "new_username": username, "old_sub": plan.old_sub, "new_sub": sub}
    )


def _skip(plan: UserPlan, outcome: Any, reason: str) -> None:
    user = plan.old_username
    outcome.dependents_skipped.extend(
        {"category": "memberships", "item": f"{group}: {user}", "reason": reason} for group in plan.groups
    )
    outcome.dependents_skipped.extend(
        {"category": "identity_links", "item": f"{user}: {link['provider_name']}", "reason": reason}
        for link in plan.links
    )
    if plan.sms_mfa or plan.email_mfa:
        outcome.dependents_skipped.append({"category": "mfa_preferences", "item": user, "reason": reason})


def _set_sms_mfa(cognito: Any, pool_id: str, username: str, plan: UserPlan, enabled: bool, outcome: Any) -> None:
    try:
        outcome.call("AdminSetUserMFAPreference")
        cognito.admin_set_user_mfa_preference(
            UserPoolId=pool_id, Username=username, SMSMfaSettings={"Enabled": enabled, "PreferredMfa": enabled}
        )
    except ClientError as error:
        raise_if_throttled(error)
        raise_unless_caused_by_data(error)
        outcome.mfa_failed.append(
            {"item": plan.old_username, "reason": f"SMS MFA preference not synced: {describe_error(error)}"}
        )
        return
    if enabled:
        outcome.mfa_restored += 1


def _link(pool_id: str, username: str, plan: UserPlan, diff: UserDiff, outcome: Any) -> None:
    from cognito_restore.chunks import link_identity

    outcome.links_restored += len(plan.links) - len(diff.add_links)  # already linked
    for link in diff.add_links:
        link_identity(pool_id, username, plan, link, outcome)


def _memberships(
    cognito: Any,
    pool_id: str,
    username: str,
    plan: UserPlan,
    diff: UserDiff,
    outcome: Any,
    unrestored_groups: frozenset[str],
) -> None:
    outcome.memberships_restored += len(plan.groups) - len(diff.add_groups)  # already a member
    for group in diff.add_groups:
        if group in unrestored_groups:
            outcome.memberships_failed.append(
                {"item": f"{group}: {plan.old_username}", "reason": "group not restored (see groups)"}
            )
            continue
        try:
            outcome.call("AdminAddUserToGroup")
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
        except ClientError as error:
            raise_if_throttled(error)
            raise_unless_caused_by_data(error)
            outcome.memberships_failed.append(
                {"item": f"{group}: {plan.old_username}", "reason": describe_error(error)}
            )
            continue
        outcome.memberships_restored += 1
        outcome.sync["memberships_added"] += 1
    for group in diff.remove_groups:
        try:
            outcome.call("AdminRemoveUserFromGroup")
            cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=group)
        except ClientError as error:
            raise_if_throttled(error)
            if error_code(error) == "ResourceNotFoundException":  # the group is gone: so is the membership
                outcome.sync["memberships_removed"] += 1
                continue
            raise_unless_caused_by_data(error)
            outcome.memberships_failed.append(
                {"item": f"{group}: {plan.old_username}", "reason": f"not removed: {describe_error(error)}"}
            )
            continue
        outcome.sync["memberships_removed"] += 1


def finish_partition(pool_id: str, partition: list[dict[str, Any]], outcome: Any) -> None:
    """The partition's target-only users: deleted when marked so (delete_missing, within max_deletes),
    otherwise kept; each named in the chunk's result. A retry finds a deleted user gone: still deleted."""
    cognito = outcome.client()
    recorded = {d["item"] for d in outcome.sync["deleted"]} | {k["item"] for k in outcome.sync["kept"]}
    for entry in partition:
        action = entry.get("action")
        if entry["key"] in recorded:  # a throttled earlier turn of this chunk got this far
            continue
        if action == "keep":
            outcome.sync["kept"].append({"item": entry["key"], "reason": entry["reason"]})
        elif action == "delete":
            try:
                outcome.call("AdminDeleteUser")
                cognito.admin_delete_user(UserPoolId=pool_id, Username=entry["username"])
            except ClientError as error:
                raise_if_throttled(error)
                if error_code(error) != "UserNotFoundException":
                    raise_unless_caused_by_data(error)
                    outcome.sync["kept"].append(
                        {"item": entry["key"], "reason": f"not deleted: {describe_error(error)}"}
                    )
                    continue
            outcome.sync["deleted"].append({"item": entry["key"]})


def index_partition(partition: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in partition}


# ---------------------------------------------------------------- phase entry points


def _pool_model(config: Mapping[str, Any]) -> tuple[tuple[str, ...], bool, frozenset[str]]:
    """Sign-in attributes, case sensitivity and immutable attributes of the backed-up pool."""
    from cognito_restore.users import UserModel

    model = UserModel.from_pool_config(dict(config))
    case_sensitive = (config.get("UsernameConfiguration") or {}).get("CaseSensitive", True) is not False
    return model.username_attributes, case_sensitive, model.immutable_attributes


def paced_list_call(cognito: Any, quota: float) -> Callable[..., dict[str, Any]]:
    """One listing call at a time, at most `quota` per second (UserList: ListUsers, ListUsersInGroup;
    ListGroups is UserPoolResourceRead, 5/s per pool for one operation, docs/sync.md)."""
    from pyrate_limiter import Limiter, Rate

    from cognito_restore.pacing import per_task_interval_ms

    limiters = {
        "UserList": Limiter(Rate(1, per_task_interval_ms(quota, 1)), buffer_ms=0),
        "UserPoolResourceRead": Limiter(Rate(1, per_task_interval_ms(min(quota, 5.0), 1)), buffer_ms=0),
    }
    methods = {"ListUsers": "list_users", "ListUsersInGroup": "list_users_in_group", "ListGroups": "list_groups"}

    def call(operation: str, **params: Any) -> dict[str, Any]:
        category = "UserPoolResourceRead" if operation == "ListGroups" else "UserList"
        limiters[category].try_acquire(category, blocking=True)
        result: dict[str, Any] = getattr(cognito, methods[operation])(**params)
        return result

    return call


def read_target_phase(
    state: Mapping[str, Any], store: Any, cognito: Any, quota: float, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """The "Read target pool" phase: the target listed once into partition files, in as many invocations as
    it takes (target_listing.TargetListing; ``done`` false: a continuation), or the summary of the listing
    an earlier attempt finished (a re-listing after some chunks deleted users would move the max_deletes
    cap: the first listing decides)."""
    from cognito_restore.target_listing import SUMMARY, TargetListing

    done = store.get_json_or_none(store.key(SUMMARY))
    if done is not None:
        return {"done": True, **dict(done)}
    plan = state["plan"]
    if not plan.get("sync_partitions"):
        from cognito_restore.errors import InvalidInput

        raise InvalidInput("The plan was not prepared for a sync (its chunks are not partitioned by sign-in name).")
    config = store.get_json(plan["parts_key"]).get("user_pool_config") or {}
    username_attributes, case_sensitive, immutable = _pool_model(config)
    chunks = sorted(store.get_json(plan["users_manifest_key"]), key=lambda chunk: int(chunk["index"]))
    listing = TargetListing(
        store,
        paced_list_call(cognito, quota),
        state["restore"]["target_pool_id"],  # the sync's pool (a dry run has no state["pool"])
        int(plan["sync_partitions"]),
        username_attributes,
        case_sensitive,
        immutable,
        SyncOptions.of(state["restore"]),
        [chunk["key"] for chunk in chunks],
    )
    return listing.run(should_stop)


def chunk_hooks(
    event: Mapping[str, Any], store: Any, password_policy: dict[str, Any], unrestored_groups: frozenset[str]
) -> tuple[Callable[[dict[str, Any], Any], None], Callable[[Any], None]]:
    """(restore_item, finish) for chunks.run_user_chunk in sync mode: the chunk's target partition is read
    once per invocation (one S3 object); a backed-up user absent from it is created as a restore creates it."""
    from cognito_restore.chunks import guarded, restore_user

    index = int(event["chunk"]["index"])
    pool = event["pool"]["id"]
    part = store.get_json(partition_key(store, index))
    case_sensitive = bool(part["case_sensitive"])
    immutable = frozenset(part["immutable"])
    targets = index_partition(part["users"])

    def start_counts(outcome: Any) -> None:
        if not outcome.sync:  # a fresh chunk (a resumed one has its saved counts)
            outcome.sync = new_sync_counts()

    def restore_item(item: dict[str, Any], outcome: Any) -> None:
        start_counts(outcome)
        plan = UserPlan.from_item(item)
        target = targets.get(sign_in_key(plan.create_username, case_sensitive))
        if target is None:
            before = outcome.restored
            restore_user(pool, plan, password_policy, outcome, unrestored_groups)
            if outcome.restored > before:
                outcome.sync["created"] += 1
                outcome.sync["changes"].append({"item": plan.old_username, "changes": ["created"]})
            return
        guarded(
            outcome,
            lambda: sync_user(pool, plan, target, password_policy, outcome, unrestored_groups, immutable),
        )

    def finish(outcome: Any) -> None:
        start_counts(outcome)
        finish_partition(pool, part["users"], outcome)

    return restore_item, finish


DRY_RUN_PREFETCH = 8  # (chunk, partition) pairs read ahead: S3 latency hidden, memory bounded


def _chunks_with_partitions(store: Any, manifest: Iterable[Mapping[str, Any]]) -> Iterator[tuple[list[Any], Any]]:
    """Each chunk's items with its partition file, in order, read DRY_RUN_PREFETCH pairs ahead."""

    def load(chunk: Mapping[str, Any]) -> tuple[list[Any], Any]:
        return store.get_json(chunk["key"]), store.get_json(partition_key(store, int(chunk["index"])))

    with ThreadPoolExecutor(max_workers=max(1, DRY_RUN_PREFETCH), thread_name_prefix="dry-run-read") as pool:
        pending: deque[Future[tuple[list[Any], Any]]] = deque()
        for chunk in manifest:
            pending.append(pool.submit(load, chunk))
            if len(pending) > DRY_RUN_PREFETCH:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def dry_run_users(state: Mapping[str, Any], store: Any) -> dict[str, Any]:
    """A sync's dry run, users: each chunk diffed against its target partition, which "Read target pool"
    listed (reads only, in as many segments as the target needs) before "Write dry-run report"; the
    changes the sync would write, by name (attribute names, never values). A few chunks and partitions in
    memory at a time (read ahead while one is diffed). Shaped like the pool-level categories of the dry run's plan
    (sync_plans.dry_run_changes)."""
    create: list[str] = []
    update: list[dict[str, Any]] = []
    cannot: list[dict[str, str]] = []
    absent: list[str] = []
    delete: list[str] = []
    unchanged = 0
    manifest = sorted(store.get_json(state["plan"]["users_manifest_key"]), key=lambda chunk: int(chunk["index"]))
    for items, part in _chunks_with_partitions(store, manifest):
        case_sensitive, immutable = bool(part["case_sensitive"]), frozenset(part["immutable"])
        targets = index_partition(part["users"])
        for item in items:
            user = UserPlan.from_item(item)
            target = targets.get(sign_in_key(user.create_username, case_sensitive))
            if target is None:
                create.append(user.old_username)
                continue
            diff = diff_user(user, target, immutable)
            changes = diff.changes()
            if changes:
                update.append({"item": user.old_username, "settings": changes})
            else:
                unchanged += 1
            if diff.status_kept:
                cannot.append({"item": user.old_username, "note": diff.status_kept})
            cannot.extend(
                {"item": user.old_username, "note": f"immutable attribute {name} differs: kept"}
                for name in diff.immutable_differs
            )
        absent.extend(entry["key"] for entry in part["users"] if entry.get("action") == "keep")
        delete.extend(entry["key"] for entry in part["users"] if entry.get("action") == "delete")
    return {
        "create": create,
        "update": update,
        "unchanged": unchanged,
        "absent_from_backup": absent,
        "delete": delete,
        "cannot_sync": cannot,
        "read_calls": dict(state["sync_target"]["read_calls"]),
    }
