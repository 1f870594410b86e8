"""UNCONFIRMED users after the sign-up window has closed (docs/cognito-behaviours.md §2.5).

Verification runs after "Attach Lambda triggers" closed the window (triggers attached, temporary
client deleted). When it finds users absent, a redrive would resume at the users Map, where an absent
UNCONFIRMED user cannot be signed up (and must not be: the triggers would fire). So the redrive
resumes at "Create user pool", which reopens the window with the triggers detached; the user comes
back UNCONFIRMED, silently, and the window closes again before the triggers return. Should a chunk
still meet a closed window (SignUpWindowClosed), it fails loudly rather than lose the user.
"""

from __future__ import annotations

import json
from typing import Any

from cognito_restore.sign_up import SIGN_UP_CLIENT_NAME
from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec


def _users(stack: RestoreStack, pool_id: str) -> dict[str, str]:
    cognito = stack.client("cognito-idp")
    return {
        u["Username"]: u["UserStatus"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    }


def _chunk_errors(stack: RestoreStack, restore_id: str) -> str:
    s3 = stack.client("s3")
    bucket = stack.outputs["WorkBucketName"]
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"restores/{restore_id}/results/users/").get("Contents", [])
        if o["Key"].endswith(".error.json")
    ]
    return " ".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in keys)


def test_an_unconfirmed_user_found_absent_by_verification_is_signed_up_again_by_a_redrive(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3, with_domain=False))
    request = {"user_pool_id": source.pool_id}
    first = stack.run(request)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    pool_id, restore_id = first.output["new_user_pool_id"], first.output["restore_id"]
    cognito = stack.client("cognito-idp")
    victim = sorted(u for u, status in _users(stack, pool_id).items() if status == "UNCONFIRMED")[0]
    cognito.admin_delete_user(UserPoolId=pool_id, Username=victim)

    again = stack.run(request)  # the same restore, verified again: the victim is absent
    assert again.status == "FAILED" and again.error == "RestoreIncomplete", (again.error, again.cause)

    redriven = stack.wait(stack.redrive(again.arn))

    # The redrive resumes at "Create user pool": it reopens the window (triggers detached, a new
    # temporary client), the users Map signs the victim up again, "Attach Lambda triggers" closes it.
    assert redriven.status == "SUCCEEDED", (redriven.error, _chunk_errors(stack, restore_id), redriven.states_entered())
    assert redriven.states_entered()[:3] == ["Restore failed", "Resume at the failed phase", "Create user pool"]
    assert redriven.output["new_user_pool_id"] == pool_id
    users = _users(stack, pool_id)
    assert users[victim] == "UNCONFIRMED"
    assert sorted(users) == sorted(u["Username"] for u in source.backup["users"])
    statuses = {u["Username"]: u["UserStatus"] for u in source.backup["users"]}
    assert all(users[u] == "UNCONFIRMED" for u, s in statuses.items() if s == "UNCONFIRMED")
    names = [
        c["ClientName"] for c in cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    ]
    assert SIGN_UP_CLIENT_NAME not in names and len(names) == len(source.backup["app_clients"])
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["AdminCreateUserConfig"][
        "AllowAdminCreateUserOnly"
    ]
    assert stack.messages_sent(pool_id) == 0
    assert not _chunk_errors(stack, restore_id)
    report = json.loads(
        stack.client("s3")
        .get_object(Bucket=stack.outputs["WorkBucketName"], Key=f"restores/{restore_id}/report.json")["Body"]
        .read()
    )
    assert report["counts"]["users"]["restored"] == len(source.backup["users"])
