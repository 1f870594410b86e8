"""IAM enforced by the emulator: every call of a handler or of the state machine is checked against
the caller's role as deployed from template.yaml (tools/emulation/iam.py), as AWS would."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto.wafv2.exceptions import WAFv2ClientError
from moto.wafv2.models import WAFV2Backend

from tests.workflow.conftest import DR_REGION, SOURCE_REGION, UNPACED, make_backup, put_raw_backup
from tests.workflow.test_round_trip import _dr_dependencies
from tools.emulation import REPO_ROOT, RestoreStack
from tools.sample_pool import SamplePoolSpec, backup_key, build_source_pool, export_backup


def _rich_restore_input(stack: RestoreStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """A PLUS pool (triggers, UI, threat protection, WAF) backed up, with its DR dependencies mapped."""

    source = boto3.client("cognito-idp", region_name=SOURCE_REGION)
    pool = build_source_pool(source, SamplePoolSpec(users=60, groups=3, rich=True))
    backup = export_backup(source, pool.pool_id)
    put_raw_backup(stack, backup_key(pool.pool_id, datetime.now(UTC)), json.dumps(backup).encode())
    return {"user_pool_id": pool.pool_id, "arn_map": _dr_dependencies(stack, backup)}, backup


def test_every_call_of_a_full_restore_is_checked_and_allowed(stack: RestoreStack) -> None:
    request, _ = _rich_restore_input(stack)

    result = stack.run(request)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert stack.iam.denied() == []
    checked = {(d.principal, d.action) for d in stack.iam.decisions}
    # Not vacuous: each phase's own calls and the state machine's integrations went through the check.
    for expected in [
        ("FindBackupFunction", "s3:ListBucket"),
        ("FindBackupFunction", "dynamodb:PutItem"),
        ("CreatePoolFunction", "cognito-idp:CreateUserPool"),
        ("CreateDomainFunction", "cognito-idp:CreateUserPoolDomain"),
        ("RestoreUsersFunction", "cognito-idp:AdminCreateUser"),
        ("AttachTriggersFunction", "lambda:AddPermission"),
        ("AssociateWafFunction", "wafv2:AssociateWebACL"),
        ("AssociateWafFunction", "cognito-idp:AssociateWebACL"),
        ("RestoreStateMachine", "lambda:InvokeFunction"),
        ("RestoreStateMachine", "sns:Publish"),
        ("RestoreStateMachine", "s3:GetObject"),  # the Distributed Map's ItemReader
    ]:
        assert expected in checked, expected
    waf = {d.resource.split(":")[2] for d in stack.iam.decisions if d.action == "cognito-idp:AssociateWebACL"}
    assert waf == {"cognito-idp", "wafv2"}  # authorized on the pool and on the web ACL


def _template_without(tmp_path: Path, function: str, action: str) -> Path:
    """A copy of the app (code symlinked) whose template lacks one action in one function's policy."""
    text = (REPO_ROOT / "template.yaml").read_text()
    block = re.search(rf"\n  {function}:\n.*?(?=\n  \S)", text, re.DOTALL)
    assert block is not None, function
    body = block.group(0)
    assert body.count(f"[{action}]") == 1, f"{action} must be granted alone in one statement of {function}"
    changed = body.replace(f"[{action}]", "[cognito-idp:ListGroups]")  # a harmless action in its place
    for entry in ("functions", "layers", "statemachine"):
        os.symlink(REPO_ROOT / entry, tmp_path / entry)
    (tmp_path / "template.yaml").write_text(text[: block.start()] + changed + text[block.end() :])
    return tmp_path


def test_a_removed_permission_fails_the_workflow_with_access_denied_naming_the_phase(tmp_path: Path) -> None:
    root = _template_without(tmp_path, "RestoreGroupsFunction", "cognito-idp:CreateGroup")
    with RestoreStack(
        root, region=DR_REGION, parameters={"UserChunkSize": "50", "Environment": "test", **UNPACED}
    ) as stack:
        source = make_backup(stack, boto3.client("cognito-idp", region_name=SOURCE_REGION), SamplePoolSpec(users=20))

        result = stack.run({"user_pool_id": source.pool_id})

        assert result.status == "FAILED"
        assert result.error == "AccessDenied"
        message = json.loads(result.cause)["errorMessage"]
        assert message.startswith("Restore groups: AccessDeniedException: User: arn:aws:sts::"), message
        assert "RestoreGroupsFunction" in message and "not authorized to perform: cognito-idp:CreateGroup" in message
        [denied] = {(d.principal, d.action) for d in stack.iam.denied()}
        assert denied == ("RestoreGroupsFunction", "cognito-idp:CreateGroup")
        alert = stack.alerts()[-2]  # the last one is EventBridge's "execution ended FAILED"
        assert alert["subject"] == "Cognito DR restore FAILED: Restore groups"
        assert "AccessDenied" in alert["message"]


def test_the_same_restore_with_the_template_as_is_succeeds(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20))
    result = stack.run({"user_pool_id": source.pool_id})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert any(d.action == "cognito-idp:CreateGroup" and d.outcome == "allow" for d in stack.iam.decisions)


def test_a_web_acl_still_propagating_is_retried_until_it_associates(stack: RestoreStack) -> None:
    request, _ = _rich_restore_input(stack)
    original = WAFV2Backend.associate_web_acl
    unavailable = {"left": 2}

    def propagating(backend: Any, web_acl_arn: str, resource_arn: str) -> None:
        if unavailable["left"]:
            unavailable["left"] -= 1
            raise WAFv2ClientError(
                "WAFUnavailableEntityException",
                "AWS WAF couldn't retrieve the resource that you requested. Retry your request.",
            )
        original(backend, web_acl_arn, resource_arn)

    with mock.patch.object(WAFV2Backend, "associate_web_acl", propagating):
        result = stack.run(request)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert unavailable["left"] == 0
    assert sum(1 for lid, _ in stack.invocations if lid == "AssociateWafFunction") == 3
    retried = [e for e in result.history if e["type"] == "TaskFailed"]
    assert len(retried) >= 2 and all(
        "ResourceTemporarilyUnavailable" in json.dumps(e, default=str) for e in retried[:2]
    )
    pool_arn = stack.client("cognito-idp").describe_user_pool(UserPoolId=result.output["new_user_pool_id"])["UserPool"][
        "Arn"
    ]
    acl = stack.client("wafv2").get_web_acl_for_resource(ResourceArn=pool_arn)["WebACL"]
    assert acl["ARN"] == request["arn_map"][next(k for k in request["arn_map"] if ":wafv2:" in k)]
