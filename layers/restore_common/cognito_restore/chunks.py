"""Restoring one chunk of users or memberships. Every step is safe to repeat (retries, redrives)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.passwords import random_password
from cognito_restore.phase import describe_error, error_code, raise_if_throttled, work_store
from cognito_restore.users import UserPlan


@dataclass
class ChunkOutcome:
    kind: str
    index: int
    restored: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    ids: list[dict[str, str | None]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    unlinked: list[dict[str, str]] = field(default_factory=list)   # federated placeholders left unlinked

    def call(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    def summary(self) -> dict[str, int]:
        return {"chunk": self.index, "restored": self.restored, "failed": len(self.failed)}

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sub_of(attributes: list[dict[str, str]]) -> str | None:
    return next((a["Value"] for a in attributes if a["Name"] == "sub"), None)


def restore_user(pool_id: str, plan: UserPlan, password_policy: dict[str, Any], outcome: ChunkOutcome) -> None:
    """AdminCreateUser (all attributes, no invitation) -> permanent password if it was usable -> disable."""
    cognito = aws.client("cognito-idp")
    try:
        try:
            outcome.call("AdminCreateUser")
            user = cognito.admin_create_user(
                UserPoolId=pool_id, Username=plan.create_username, UserAttributes=plan.attributes,
                MessageAction="SUPPRESS",
            )["User"]
            attributes, status, enabled = user.get("Attributes", []), user.get("UserStatus"), user.get("Enabled", True)
            new_username = user["Username"]
        except ClientError as error:
            if error_code(error) != "UsernameExistsException":
                raise
            # Created by an earlier attempt of this chunk: finish what that attempt may not have.
            outcome.call("AdminGetUser")
            user = cognito.admin_get_user(UserPoolId=pool_id, Username=plan.create_username)
            attributes, status, enabled = user.get("UserAttributes", []), user.get("UserStatus"), user.get("Enabled", True)
            new_username = user["Username"]
        if plan.set_permanent_password and status != "CONFIRMED":
            outcome.call("AdminSetUserPassword")
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=new_username, Password=random_password(password_policy), Permanent=True
            )
        if not plan.enabled and enabled:
            outcome.call("AdminDisableUser")
            cognito.admin_disable_user(UserPoolId=pool_id, Username=new_username)
        if plan.sms_mfa:
            _set_sms_mfa(pool_id, new_username, plan, outcome)
        _link_identities(pool_id, new_username, plan, attributes, outcome)
    except ClientError as error:
        raise_if_throttled(error)
        outcome.failed.append({"item": plan.old_username, "reason": describe_error(error)})
        return
    outcome.restored += 1
    for note in plan.notes:
        outcome.notes.append({"item": plan.old_username, "note": note})
    outcome.ids.append({"old_username": plan.old_username, "new_username": new_username,
                        "old_sub": plan.old_sub, "new_sub": _sub_of(attributes)})


def _set_sms_mfa(pool_id: str, username: str, plan: UserPlan, outcome: ChunkOutcome) -> None:
    try:
        outcome.call("AdminSetUserMFAPreference")
        aws.client("cognito-idp").admin_set_user_mfa_preference(
            UserPoolId=pool_id, Username=username, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    except ClientError as error:
        raise_if_throttled(error)
        outcome.notes.append({"item": plan.old_username, "note": f"SMS MFA preference not restored ({describe_error(error)})"})


def _link_identities(pool_id: str, username: str, plan: UserPlan, attributes: list[dict[str, str]], outcome: ChunkOutcome) -> None:
    """Link the placeholder to each identity the federated user had (skipping links made by an earlier attempt)."""
    existing = next((a["Value"] for a in attributes if a["Name"] == "identities"), "")
    for link in plan.links:
        if f'"userId":"{link["user_id"]}"' in existing.replace(" ", "") and link["provider_name"] in existing:
            continue
        try:
            outcome.call("AdminLinkProviderForUser")
            aws.client("cognito-idp").admin_link_provider_for_user(
                UserPoolId=pool_id,
                DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": username},
                SourceUser={"ProviderName": link["provider_name"], "ProviderAttributeName": "Cognito_Subject",
                            "ProviderAttributeValue": link["user_id"]},
            )
        except ClientError as error:
            raise_if_throttled(error)
            outcome.unlinked.append({"item": plan.old_username, "reason": f"not linked to {link['provider_name']}: {describe_error(error)}"})


def restore_membership(pool_id: str, item: dict[str, str], outcome: ChunkOutcome) -> None:
    try:
        outcome.call("AdminAddUserToGroup")
        aws.client("cognito-idp").admin_add_user_to_group(
            UserPoolId=pool_id, Username=item["username"], GroupName=item["group"]
        )
    except ClientError as error:
        raise_if_throttled(error)
        outcome.failed.append({"item": f"{item['group']}: {item['old_username']}", "reason": describe_error(error)})
        return
    outcome.restored += 1


def run_chunk(event: dict[str, Any], kind: str, restore_item: Callable[[dict[str, Any], ChunkOutcome], None]) -> ChunkOutcome:
    """Restore every item of the chunk named by the Map item; a chunk finished before is not redone."""
    chunk = event["chunk"]
    store = work_store(event)
    result_key = store.chunk_result_key(kind, chunk["index"])
    done = store.get_json_or_none(result_key)
    if done is not None:
        return ChunkOutcome(kind, chunk["index"], restored=done["restored"], failed=done["failed"])
    outcome = ChunkOutcome(kind, chunk["index"])
    throttled_before = aws.throttle_count()
    for item in store.get_json(chunk["key"]):
        restore_item(item, outcome)
    outcome.throttled = aws.throttle_count() - throttled_before
    store.put_json(result_key, outcome.to_dict())
    return outcome
