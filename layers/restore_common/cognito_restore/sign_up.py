"""The sign-up window: how UNCONFIRMED users come back UNCONFIRMED without a message to anyone.

Cognito creates UNCONFIRMED users only through SignUp (AdminCreateUser always yields
FORCE_CHANGE_PASSWORD). SignUp needs an app client and a pool that allows self-registration, and
it sends a confirmation code when the pool auto-verifies the user's e-mail or phone. So, only when
the backup holds UNCONFIRMED users, the pool is created (or re-applied) with the window open:

* ``AdminCreateUserConfig.AllowAdminCreateUserOnly`` false (SignUp refused otherwise);
* no ``AutoVerifiedAttributes`` (SignUp then sends nothing and the user stays UNCONFIRMED) and no
  ``UserAttributeUpdateSettings`` (Cognito requires its attributes to be auto-verified);
* a temporary app client, ``SIGN_UP_CLIENT_NAME``, without a secret (no SECRET_HASH), writing every
  attribute a client may write; found again by its name on a re-run.

The chunk tasks sign the UNCONFIRMED users up through it and set what no client may write (verified
flags, developer-only attributes) with AdminUpdateUserAttributes. "Attach Lambda triggers" closes
the window before it attaches any trigger: the backed-up sign-up settings back (UpdateUserPool with
everything else the pool has, since it resets what is omitted) and the client deleted. A restore
that fails with the window open closes it too ("Restore failed"): a failed restore never leaves its
pool open to self-registration, and its redrive resumes at "Create user pool", which reopens it.
See docs/cognito-behaviours.md §2.5.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code
from cognito_restore.messaging import without_sms
from cognito_restore.pool_config import create_user_pool_request, update_user_pool_request

SIGN_UP_CLIENT_NAME = "cognito-dr-restore-sign-up"  # reserved: a backed-up client of this name is not expected
VERIFICATION_SETTINGS = ("AutoVerifiedAttributes", "UserAttributeUpdateSettings")
# No app client may write these (Cognito: "A client attempted to write unauthorized attribute").
CLIENT_UNWRITABLE = frozenset({"sub", "email_verified", "phone_number_verified"})
DEVELOPER_PREFIX = "dev:"


class SignUpWindowClosed(Exception):
    """An UNCONFIRMED user is absent while the sign-up window is closed (a redrive of the users Map
    after verification: triggers are attached, the temporary client is gone). Not a data error: the
    chunk fails, loudly; starting the restore again with the same restore_id reopens the window."""


def window_closed(code: str, message: str) -> bool:
    """SignUp's answer when the window is closed: the temporary client deleted, or self-registration off."""
    return code == "ResourceNotFoundException" or (
        code == "NotAuthorizedException" and "signup is not permitted" in message.lower()
    )


def needs_sign_up(status_counts: dict[str, int]) -> bool:
    """The window opens only for a backup with UNCONFIRMED users."""
    return int(status_counts.get("UNCONFIRMED", 0)) > 0


def client_may_write(name: str) -> bool:
    return name not in CLIENT_UNWRITABLE and not name.startswith(DEVELOPER_PREFIX)


def open_sign_up(request: dict[str, Any]) -> dict[str, Any]:
    """A CreateUserPool / UpdateUserPool request with the window open (the real settings are kept
    in the backup and put back by close_sign_up_request)."""
    opened = copy.deepcopy(request)
    opened.pop("AutoVerifiedAttributes", None)
    opened.pop("UserAttributeUpdateSettings", None)
    opened["AdminCreateUserConfig"] = {**(opened.get("AdminCreateUserConfig") or {}), "AllowAdminCreateUserOnly": False}
    return opened


def without_triggers(request: dict[str, Any]) -> dict[str, Any]:
    """The re-applied configuration of a pool found again (a re-run, or a redrive that reopens the
    window) without the Lambda triggers an earlier run attached: a SignUp must fire none of them
    (pre sign-up could confirm or refuse the user). "Attach Lambda triggers" attaches them again."""
    detached = copy.deepcopy(request)
    detached.pop("LambdaConfig", None)
    return detached


def close_sign_up_request(pool: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """UpdateUserPool for the pool as it is now (DescribeUserPool), with the sign-up settings of the
    CreateUserPool request the backup gives (``wanted``): omitted ones reset to Cognito's defaults,
    as in the source pool. Without an SMS configuration (left out: docs/messaging.md) phone_number
    cannot be auto-verified, exactly as at creation."""
    request = update_user_pool_request(pool, pool.get("LambdaConfig") or {})
    verification = {key: copy.deepcopy(wanted[key]) for key in VERIFICATION_SETTINGS if wanted.get(key)}
    if not request.get("SmsConfiguration"):
        verification = without_sms(verification)[0]
    for key in VERIFICATION_SETTINGS:
        request.pop(key, None)
    request.update(verification)
    # Only the flag changes: the invitation templates stay as Cognito accepted them at creation
    # (a degraded e-mail configuration may have had to leave some out, docs/messaging.md).
    admin_only = bool((wanted.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False))
    request["AdminCreateUserConfig"] = {
        **(request.get("AdminCreateUserConfig") or {}),
        "AllowAdminCreateUserOnly": admin_only,
    }
    return request


def writable_attributes(schema: list[dict[str, Any]]) -> list[str]:
    """WriteAttributes of the temporary client: every schema attribute a client may write."""
    return sorted({a["Name"] for a in schema if isinstance(a.get("Name"), str) and client_may_write(a["Name"])})


def find_sign_up_client(cognito: Any, pool_id: str) -> str | None:
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for client in page.get("UserPoolClients", []):
            if client.get("ClientName") == SIGN_UP_CLIENT_NAME:
                return str(client["ClientId"])
    return None


def ensure_sign_up_client(cognito: Any, pool_id: str, schema: list[dict[str, Any]]) -> str:
    """The restore's temporary client: found again by name (a retry or re-run never makes a second)."""
    found = find_sign_up_client(cognito, pool_id)
    if found:
        return found
    created = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=SIGN_UP_CLIENT_NAME,
        GenerateSecret=False,  # SignUp then needs no SECRET_HASH
        WriteAttributes=writable_attributes(schema),
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],  # nobody signs in through it
    )
    return str(created["UserPoolClient"]["ClientId"])


def close_sign_up(cognito: Any, pool_id: str, wanted: dict[str, Any], client_id: str | None) -> None:
    """Put the real sign-up settings back, then delete the temporary client (a deleted one is fine)."""
    current = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    cognito.update_user_pool(**close_sign_up_request(current, wanted))
    client_id = client_id or find_sign_up_client(cognito, pool_id)
    if client_id is None:
        return
    try:
        cognito.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":  # deleted by an earlier run
            raise


def uses_sign_up_window(state: Any) -> bool:
    """A restore (not a sync) whose plan holds UNCONFIRMED users, or whose pool got the temporary client:
    its pool is created with the sign-up window open."""
    from cognito_restore.execution_input import sync_target

    restore, plan, pool = state.get("restore"), state.get("plan"), state.get("pool")
    if not isinstance(restore, dict) or not isinstance(plan, dict) or sync_target(restore):  # type: ignore[arg-type]
        return False
    client = pool.get("sign_up_client_id") if isinstance(pool, dict) else None
    return needs_sign_up(plan.get("status_counts") or {}) or bool(client)


def close_window_of(state: Any, pool_id: str, region: str) -> None:
    """Close the restore's sign-up window with the backup's own settings (Attach Lambda triggers, and
    Restore failed for a restore that stops before it). Idempotent: a closed window stays closed."""
    from cognito_restore import aws
    from cognito_restore.arn_map import ArnMapper
    from cognito_restore.phase import backup_parts

    wanted = create_user_pool_request(
        backup_parts(state)["user_pool_config"],
        restore_id=state["restore"]["restore_id"],
        source_pool_id=state["restore"]["source_pool_id"],
        target_region=region,
        mapper=ArnMapper.for_restore(state["restore"], region),
    ).request
    found = state.get("pool")
    pool: dict[str, Any] = found if isinstance(found, dict) else {}
    close_sign_up(aws.client("cognito-idp"), pool_id, wanted, pool.get("sign_up_client_id"))
