"""tools/iam_enforcement.py: SDK call -> (action, resource) as AWS authorizes it, and policy evaluation."""

from __future__ import annotations

import pytest

from tools.iam_enforcement import IamEmulationGap, Principal, evaluate, required_access

REGION, ACCOUNT = "us-west-2", "123456789012"
POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/us-west-2_abc"
ACL = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/dr/1111"
CONTEXT = {"aws:SecureTransport": "true", "aws:RequestedRegion": REGION, "aws:PrincipalAccount": ACCOUNT}


def access(service: str, operation: str, **params):
    return required_access(service, operation, params, REGION, ACCOUNT)


def test_calls_map_to_the_actions_and_resources_aws_authorizes():
    assert access("cognito-idp", "CreateGroup", UserPoolId="us-west-2_abc", GroupName="g") == [
        ("cognito-idp:CreateGroup", POOL)
    ]
    role = f"arn:aws:iam::{ACCOUNT}:role/readers"
    assert access("cognito-idp", "CreateGroup", UserPoolId="us-west-2_abc", GroupName="g", RoleArn=role) == [
        ("cognito-idp:CreateGroup", POOL),
        ("iam:PassRole", role),
    ]
    assert access("cognito-idp", "CreateUserPool", PoolName="p") == [("cognito-idp:CreateUserPool", "*")]
    assert access("cognito-idp", "CreateUserPoolDomain", UserPoolId="us-west-2_abc", Domain="d") == [
        ("cognito-idp:CreateUserPoolDomain", POOL)
    ]
    assert access("cognito-idp", "DescribeUserPoolDomain", Domain="d") == [("cognito-idp:DescribeUserPoolDomain", "*")]
    assert access("s3", "ListObjectsV2", Bucket="b", Prefix="x/") == [("s3:ListBucket", "arn:aws:s3:::b")]
    assert access("s3", "HeadObject", Bucket="b", Key="k") == [("s3:GetObject", "arn:aws:s3:::b/k")]
    assert access("lambda", "Invoke", FunctionName="f") == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")
    ]
    assert access("dynamodb", "UpdateItem", TableName="t", Key={}) == [
        ("dynamodb:UpdateItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t")
    ]


def test_associating_a_web_acl_with_a_pool_needs_both_services_on_both_resources():
    assert sorted(access("wafv2", "AssociateWebACL", WebACLArn=ACL, ResourceArn=POOL)) == sorted(
        [
            ("wafv2:AssociateWebACL", ACL),
            ("wafv2:AssociateWebACL", POOL),
            ("cognito-idp:AssociateWebACL", POOL),
            ("cognito-idp:AssociateWebACL", ACL),
        ]
    )


def test_an_unmapped_call_is_a_gap_not_a_pass():
    with pytest.raises(IamEmulationGap, match="kms:Encrypt"):
        access("kms", "Encrypt", KeyId="k", Plaintext=b"x")


def _principal(*statements):
    return Principal(
        "Fn", "FnRole", "role", "arn:aws:sts::1:assumed-role/role/fn", [("p", {"Statement": list(statements)})]
    )


def test_evaluation_allow_wildcards_deny_and_not_action():
    allow = {
        "Effect": "Allow",
        "Action": "cognito-idp:Admin*",
        "Resource": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/*",
    }
    assert evaluate(_principal(allow), "cognito-idp:AdminCreateUser", POOL, CONTEXT) == "allow"
    assert evaluate(_principal(allow), "COGNITO-IDP:admincreateuser", POOL, CONTEXT) == "allow"  # actions: any case
    assert evaluate(_principal(allow), "cognito-idp:CreateGroup", POOL, CONTEXT) == "implicit-deny"
    assert evaluate(_principal(allow), "cognito-idp:AdminCreateUser", ACL, CONTEXT) == "implicit-deny"
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert evaluate(_principal(allow, deny), "cognito-idp:AdminCreateUser", POOL, CONTEXT) == "explicit-deny"
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert evaluate(_principal(not_action), "s3:GetObject", "arn:aws:s3:::b/k", CONTEXT) == "allow"
    assert evaluate(_principal(not_action), "iam:PassRole", "arn:aws:iam::1:role/r", CONTEXT) == "implicit-deny"


def test_a_condition_the_emulator_cannot_evaluate_is_a_gap():
    odd = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4"}},
    }
    with pytest.raises(IamEmulationGap, match="IpAddress"):
        evaluate(_principal(odd), "s3:GetObject", "arn:aws:s3:::b/k", CONTEXT)
