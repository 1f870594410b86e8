"""IAM as AWS evaluates it, for the emulator (an extension, ``IamExtension``) and the IAM gates (``tests/gates``).

* ``sam_transform`` runs the SAM translator (samtranslator, the code CloudFormation's
  ``AWS::Serverless-2016-10-31`` transform runs) on ``template.yaml``: SAM policy templates
  (``SNSPublishMessagePolicy``...), the function and state machine roles SAM generates, the AWS
  managed policies it attaches.
* ``deployed_principals`` resolves every role of the transformed template with the stack's
  parameters and conditions into concrete policy documents: inline role policies, the
  template's customer managed policies, ``AWS::IAM::Policy`` resources, AWS managed policies.
* ``required_access`` maps one SDK call to the (IAM action, resource ARN) pairs AWS authorizes
  for it (Service Authorization Reference), e.g. ``s3.ListObjectsV2`` -> ``s3:ListBucket`` on the
  bucket, ``wafv2.AssociateWebACL`` on a user pool -> ``wafv2:AssociateWebACL`` and
  ``cognito-idp:AssociateWebACL`` on the web ACL and the pool. An operation it does not know
  raises ``IamEmulationGap``: a new call fails loudly until it is mapped here, never passes unchecked.
* ``IamEnforcer`` checks every SDK call a handler or the state machine makes while a
  ``RestoreStack`` is active against the caller's deployed role and fails a call the role does
  not allow with the service's access-denied error (``AccessDeniedException``; S3
  ``AccessDenied``; SNS ``AuthorizationError``), as AWS does.

Who calls: one process serves every function and the interpreter, and the layer caches one boto3
client per service for all of them, so the caller is not the client. A handler's calls are made
in the thread running it, inside ``acting_as(<function logical id>)`` (a context variable, so each
Distributed Map item thread has its own); moto's Step Functions interpreter signs its calls with
its own fixed access key (``boto_client_for``): those are the state machine's. Anything else
(the tests, the emulator deploying the stack) is the operator and is not checked.

Evaluation: identity-based policies only (the stack's roles; no resource policies, no SCPs, no
permissions boundaries): an explicit Deny wins, else an Allow whose Action/NotAction,
Resource/NotResource and Condition match, else implicit deny. Condition operators and keys the
emulator cannot evaluate raise ``IamEmulationGap`` rather than guess.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.emulation.extensions import Extension

if TYPE_CHECKING:
    from tools.emulation.stack import RestoreStack

# Documents of the AWS managed policies SAM attaches (as AWS publishes them; AWS-owned, so the
# lint reports but does not judge them). An unknown one is an error, not an empty policy.
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    },
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": "*",
            }
        ],
    },
}

# moto's Step Functions interpreter signs every service call it makes with this access key
# (moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for); checked at install.
_INTERPRETER_ACCESS_KEY = "ak"

_ACTING_AS: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_acting_as", default=None)


class IamEmulationGap(Exception):
    """The emulator cannot decide this call as AWS would (unmapped operation, unsupported
    condition): extend tools/emulation/iam.py rather than let the call through unchecked."""


# ============================================================================ deployed policies


@dataclass
class Principal:
    """A function or state machine with the role it runs as, policies resolved."""

    logical_id: str
    role_logical_id: str
    role_name: str
    session_arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    documents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (source, document)
    aws_managed: list[str] = field(default_factory=list)


def sam_transform(template: dict[str, Any], region: str) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces from ``template`` (local
    ``CodeUri``/``ContentUri``/``DefinitionUri`` become S3 URIs, as ``sam package`` would make them)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)
    for res in sam.get("Resources", {}).values():
        props = res.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://emulator-artifacts/{props[key].strip('/')}"
    # The translator needs a Region (pseudo parameters); no credentials are used.
    session = boto3.session.Session(region_name=region, aws_access_key_id="none", aws_secret_access_key="none")
    translator = Translator(None, Parser(), boto_session=session)
    return translator.translate(sam, parameter_values={}, get_managed_policy_map=dict)


def deployed_principals(stack: RestoreStack) -> dict[str, Principal]:
    """Function / state machine logical id -> its role's resolved policies, with the stack's
    parameters, conditions and physical names (the stack need not be active)."""
    from tools.emulation.errors import EmulatorError

    transformed = sam_transform(stack.template, stack.region)
    resolver = copy.copy(stack.cfn)  # same parameters, conditions and names; the transformed resources
    resolver.doc = transformed
    resources = transformed["Resources"]

    def active(lid: str) -> bool:
        res = resources[lid]
        return "Condition" not in res or resolver.condition(res["Condition"])

    def pick(value: Any) -> Any:
        """Fn::If / AWS::NoValue resolved, everything else left as written."""
        if isinstance(value, list):
            out = [pick(v) for v in value]
            return [v for v in out if v is not _NO_VALUE]
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            cond, yes, no = value["Fn::If"]
            return pick(yes if resolver.condition(cond) else no)
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        return value

    # AWS::IAM::Policy / ManagedPolicy resources attached through their own Roles property.
    attached: dict[str, list[tuple[str, dict]]] = {}
    for lid, res in resources.items():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and active(lid):
            for role in pick((res.get("Properties") or {}).get("Roles") or []):
                if isinstance(role, dict) and "Ref" in role:
                    attached.setdefault(role["Ref"], []).append(
                        (lid, resolver.resolve(res["Properties"]["PolicyDocument"]))
                    )

    principals: dict[str, Principal] = {}
    for lid, res in resources.items():
        if res["Type"] not in ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine") or not active(lid):
            continue
        props = res.get("Properties") or {}
        role_ref = pick(props.get("Role") if res["Type"] == "AWS::Lambda::Function" else props.get("RoleArn"))
        if not (isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref):
            raise EmulatorError(f"{lid}: IAM enforcement needs its role in the template (Role: !GetAtt <Role>.Arn)")
        role_lid = role_ref["Fn::GetAtt"][0]
        role = resources[role_lid]
        role_props = role.get("Properties") or {}
        role_name = resolver.name(role_lid)
        session = resolver.name(lid)
        principal = Principal(
            logical_id=lid,
            role_logical_id=role_lid,
            role_name=role_name,
            session_arn=f"arn:{stack.partition}:sts::{stack.account_id}:assumed-role/{role_name}/{session}",
        )
        for policy in pick(role_props.get("Policies") or []):
            principal.documents.append(
                (f"{role_lid} inline {policy.get('PolicyName')}", resolver.resolve(policy["PolicyDocument"]))
            )
        for managed in pick(role_props.get("ManagedPolicyArns") or []):
            if isinstance(managed, dict) and set(managed) == {"Ref"} and managed["Ref"] in resources:
                ref = managed["Ref"]
                if resources[ref]["Type"] != "AWS::IAM::ManagedPolicy":
                    raise EmulatorError(f"{role_lid}: ManagedPolicyArns Ref {ref} is not an AWS::IAM::ManagedPolicy")
                principal.documents.append((ref, resolver.resolve(resources[ref]["Properties"]["PolicyDocument"])))
                continue
            arn = resolver.resolve(managed)
            if not isinstance(arn, str) or ":iam::aws:policy/" not in arn:
                raise EmulatorError(
                    f"{role_lid}: managed policy {managed!r} is neither in the template nor AWS managed"
                )
            if arn not in AWS_MANAGED_POLICIES:
                raise EmulatorError(f"{role_lid}: AWS managed policy {arn} unknown to tools/emulation/iam.py")
            principal.aws_managed.append(arn)
            principal.documents.append((arn, AWS_MANAGED_POLICIES[arn]))
        principal.documents.extend(attached.get(role_lid, []))
        principals[lid] = principal
    return principals


_NO_VALUE = object()


def deployed_resource_policies(stack: RestoreStack) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, resolved document) of every resource policy the stack deploys (bucket, topic,
    queue policies...): the lint reads them too; the emulator does not evaluate them."""
    transformed = sam_transform(stack.template, stack.region)
    resolver = copy.copy(stack.cfn)
    resolver.doc = transformed
    found = []
    for lid, res in transformed["Resources"].items():
        if res["Type"].startswith("AWS::IAM::") or ("Condition" in res and not resolver.condition(res["Condition"])):
            continue
        props = res.get("Properties") or {}
        if "PolicyDocument" in props:
            found.append((lid, resolver.resolve(props["PolicyDocument"])))
    return found


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ============================================================================ evaluation


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    """IAM wildcard match: * any run of characters (also ':' and '/'), ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _matches(statement: dict[str, Any], key: str, value: str, *, case: bool) -> bool:
    if key in statement:
        return any(_glob(str(p), value, case=case) for p in as_list(statement[key]))
    negated = "Not" + key
    if negated in statement:
        return not any(_glob(str(p), value, case=case) for p in as_list(statement[negated]))
    return False


_CONDITION_OPERATORS = {
    "StringEquals": lambda want, have: have == want,
    "StringNotEquals": lambda want, have: have != want,
    "StringLike": lambda want, have: _glob(want, have, case=True),
    "ArnEquals": lambda want, have: have == want,
    "ArnLike": lambda want, have: _glob(want, have, case=True),
    "Bool": lambda want, have: have.lower() == str(want).lower(),
}


def _condition_holds(condition: dict[str, Any] | None, context: dict[str, str]) -> bool:
    for operator, tests in (condition or {}).items():
        if operator not in _CONDITION_OPERATORS:
            raise IamEmulationGap(f"condition operator {operator} is not evaluated by the emulator")
        for key, wanted in tests.items():
            if key not in context:
                raise IamEmulationGap(f"condition key {key} is not known to the emulator")
            have = context[key]
            test = _CONDITION_OPERATORS[operator]
            values = [str(w) for w in as_list(wanted)]
            ok = (
                all(test(w, have) for w in values)
                if operator.endswith("NotEquals")
                else any(test(w, have) for w in values)
            )
            if not ok:
                return False
    return True


def evaluate(principal: Principal, action: str, resource: str, context: dict[str, str]) -> str:
    """'allow', 'explicit-deny' or 'implicit-deny' (identity-based policies of the principal)."""
    allowed = False
    for _source, document in principal.documents:
        for statement in statements(document):
            if not _matches(statement, "Action", action, case=False):
                continue
            if not _matches(statement, "Resource", resource, case=True):
                continue
            if not _condition_holds(statement.get("Condition"), context):
                continue
            if statement.get("Effect") == "Deny":
                return "explicit-deny"
            if statement.get("Effect") == "Allow":
                allowed = True
    return "allow" if allowed else "implicit-deny"


# ============================================================================ request -> access


def _function_arn(name: str, region: str, account: str, partition: str) -> str:
    """FunctionName as the Lambda API takes it (name, partial or full ARN, with a qualifier)."""
    if name.startswith("arn:"):
        return name
    parts = name.split(":")
    if len(parts) >= 3 and parts[1].isdigit():  # 123456789012:function:name
        return f"arn:{partition}:lambda:{region}:{name}"
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


# Cognito user pool operations authorized on "*" (the Service Authorization Reference lists no
# resource type for them).
_COGNITO_UNSCOPED = {"CreateUserPool", "ListUserPools", "DescribeUserPoolDomain"}
# Public (unauthenticated) user pool operations: "Amazon Cognito doesn't evaluate Identity and Access
# Management (IAM) policies in requests for this API operation" (botocore model, auth: noAuth;
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html).
_COGNITO_PUBLIC = {"SignUp", "ResendConfirmationCode", "ForgotPassword", "ConfirmSignUp", "InitiateAuth"}
_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
}
_S3_BUCKET_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
_DYNAMODB_ITEM_ACTIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable"}


# Cognito log export is a vended-logs delivery: the caller also needs the delivery actions of its
# destination (CloudWatch Logs user guide, "Enabling logging from AWS services"; Cognito developer
# guide, "Exporting user pool logs"), which have no resource type: "*".
_VENDED_LOGS_CWL = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)


def _log_delivery_access(configurations: list[dict[str, Any]]) -> list[tuple[str, str]]:
    access: list[tuple[str, str]] = []
    for configuration in configurations:
        if configuration.get("CloudWatchLogsConfiguration"):
            access.extend((action, "*") for action in _VENDED_LOGS_CWL)
        bucket = (configuration.get("S3Configuration") or {}).get("BucketArn")
        if bucket:
            access.extend([("s3:GetBucketPolicy", bucket), ("s3:PutBucketPolicy", bucket)])
        stream = (configuration.get("FirehoseConfiguration") or {}).get("StreamArn")
        if stream:
            access.extend([("firehose:TagDeliveryStream", stream), ("iam:CreateServiceLinkedRole", "*")])
    return access


def required_access(
    service: str, operation: str, params: dict[str, Any], region: str, account: str, partition: str = "aws"
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS authorizes for one call; every pair must be allowed."""
    p, r, a = partition, region, account
    if service == "cognito-idp":
        action = f"cognito-idp:{operation}"
        if operation in _COGNITO_PUBLIC:
            return []  # Cognito evaluates no IAM policy for it, signed or not (API reference)
        if operation in _COGNITO_UNSCOPED:
            return [(action, "*")]
        if "UserPoolId" in params:
            access = [(action, f"arn:{p}:cognito-idp:{r}:{a}:userpool/{params['UserPoolId']}")]
            if operation in ("CreateGroup", "UpdateGroup") and params.get("RoleArn"):
                access.append(("iam:PassRole", params["RoleArn"]))  # the group's role is passed to Cognito
            if operation == "SetLogDeliveryConfiguration":
                access.extend(_log_delivery_access(params.get("LogConfigurations") or []))
            return access
    elif service == "s3":
        if operation in _S3_OBJECT_ACTIONS:
            action = _S3_OBJECT_ACTIONS[operation]
            if operation in ("GetObject", "HeadObject") and params.get("VersionId"):
                action = "s3:GetObjectVersion"
            return [(action, f"arn:{p}:s3:::{params['Bucket']}/{params['Key']}")]
        if operation in _S3_BUCKET_ACTIONS:
            return [(_S3_BUCKET_ACTIONS[operation], f"arn:{p}:s3:::{params['Bucket']}")]
        if operation == "CopyObject":
            source = params["CopySource"]
            if isinstance(source, dict):
                source = f"{source['Bucket']}/{source['Key']}"
            return [
                ("s3:GetObject", f"arn:{p}:s3:::{source.lstrip('/').split('?')[0]}"),
                ("s3:PutObject", f"arn:{p}:s3:::{params['Bucket']}/{params['Key']}"),
            ]
    elif service == "dynamodb":
        if operation in _DYNAMODB_ITEM_ACTIONS:
            table = params["TableName"]
            arn = table if table.startswith("arn:") else f"arn:{p}:dynamodb:{r}:{a}:table/{table}"
            if params.get("IndexName"):
                arn += f"/index/{params['IndexName']}"
            return [(f"dynamodb:{operation}", arn)]
        if operation == "TransactWriteItems":
            # Each action is authorized as its own item operation; ConditionCheck as dynamodb:ConditionCheckItem
            # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
            actions = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            access = []
            for item in params["TransactItems"]:
                for kind, request in item.items():
                    table = request["TableName"]
                    arn = table if table.startswith("arn:") else f"arn:{p}:dynamodb:{r}:{a}:table/{table}"
                    access.append((f"dynamodb:{actions[kind]}", arn))
            return access
    elif service == "sns":
        topic = params.get("TopicArn") or params.get("TargetArn")
        if topic:
            return [(f"sns:{operation}", topic)]
    elif service == "lambda":
        if "FunctionName" in params:
            action = "lambda:InvokeFunction" if operation in ("Invoke", "InvokeAsync") else f"lambda:{operation}"
            arn = _function_arn(params["FunctionName"], r, a, p)
            if params.get("Qualifier") and arn.count(":") == 6:
                arn += f":{params['Qualifier']}"
            return [(action, arn)]
    elif service == "states":
        for key in ("executionArn", "mapRunArn", "stateMachineArn"):
            if key in params:
                return [(f"states:{operation}", params[key])]
    elif service == "wafv2":
        if operation == "AssociateWebACL":
            acl, target = params["WebACLArn"], params["ResourceArn"]
            # The WAF call and the protected service's permission-only action, each on both resources
            # (Service Authorization Reference: cognito-idp:AssociateWebACL requires userpool* and webacl*).
            access = [("wafv2:AssociateWebACL", acl), ("wafv2:AssociateWebACL", target)]
            if ":cognito-idp:" in target:
                access += [("cognito-idp:AssociateWebACL", target), ("cognito-idp:AssociateWebACL", acl)]
            return access
        if operation in ("GetWebACLForResource", "DisassociateWebACL"):
            target = params["ResourceArn"]
            access = [(f"wafv2:{operation}", target)]
            if ":cognito-idp:" in target:
                access.append((f"cognito-idp:{operation}", target))
            return access
    elif service == "sts" and operation == "GetCallerIdentity":
        return []  # needs no permission (STS API reference)
    raise IamEmulationGap(
        f"{service}:{operation} is not mapped to its IAM actions and resources in tools/emulation/iam.py"
    )


# ============================================================================ enforcement

_DENIED = {  # service -> (error code, HTTP status) AWS answers an unauthorized call with
    "s3": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "sqs": ("AccessDenied", 403),
}


@dataclass
class Decision:
    principal: str
    action: str
    resource: str
    outcome: str


class IamEnforcer:
    """Installed by ``RestoreStack`` (``enforce_iam=True``): every SDK call of a handler or of
    the state machine is authorized against the deployed roles of the stack's template."""

    def __init__(self, stack: RestoreStack):
        self.stack = stack
        self.principals = deployed_principals(stack)
        machines = [
            lid
            for lid, res in stack.template["Resources"].items()
            if lid in self.principals
            and res["Type"] in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
        ]
        # The interpreter's calls are told apart by the state machine whose execution runs in the
        # calling thread (stepfunctions.running_state_machine).
        self.state_machines = {stack.cfn.ref(lid): lid for lid in machines}
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        self._undo: list[Any] = []

    # ------------------------------------------------------------------ who calls

    @staticmethod
    @contextlib.contextmanager
    def acting_as(logical_id: str) -> Iterator[None]:
        """SDK calls made in this context (this thread) are the function's."""
        token = _ACTING_AS.set(logical_id)
        try:
            yield
        finally:
            _ACTING_AS.reset(token)

    def _caller(self, client: Any) -> str | None:
        acting = _ACTING_AS.get()
        if acting is not None:
            return acting
        credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
        if credentials is not None and getattr(credentials, "access_key", None) == _INTERPRETER_ACCESS_KEY:
            from tools.emulation.stepfunctions import running_state_machine

            machine = running_state_machine()
            if machine in self.state_machines:
                return self.state_machines[machine]
            raise IamEmulationGap(f"a Step Functions call from no known state machine's execution ({machine})")
        return None

    # ------------------------------------------------------------------ install

    def start(self) -> IamEnforcer:
        import botocore.client
        from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

        probe = boto_client_for(self.stack.region, "s3")
        if probe._request_signer._credentials.access_key != _INTERPRETER_ACCESS_KEY:  # type: ignore[attr-defined]  # botocore private
            from tools.emulation.errors import EmulatorError

            raise EmulatorError(
                "moto's Step Functions interpreter no longer signs with its fixed key: update tools/emulation/iam.py"
            )
        original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]  # the one place every call passes
        enforcer = self

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            enforcer._authorize(client, operation_name, api_params)
            return original(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]
        self._undo.append(lambda: setattr(botocore.client.BaseClient, "_make_api_call", original))
        return self

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    # ------------------------------------------------------------------ decide

    def _authorize(self, client: Any, operation: str, params: dict[str, Any]) -> None:
        caller = self._caller(client)
        if caller is None:
            return
        principal = self.principals.get(caller)
        if principal is None:
            raise IamEmulationGap(f"{caller} makes AWS calls but has no role in the template")
        model = client.meta.service_model
        service = model.signing_name or model.endpoint_prefix
        region = client.meta.region_name or self.stack.region
        context = {
            "aws:SecureTransport": "true",
            "aws:RequestedRegion": region,
            "aws:PrincipalAccount": self.stack.account_id,
            "aws:PrincipalArn": f"arn:{self.stack.partition}:iam::{self.stack.account_id}:role/{principal.role_name}",
        }
        for action, resource in required_access(
            service, operation, params, region, self.stack.account_id, self.stack.partition
        ):
            outcome = evaluate(principal, action, resource, context)
            with self._lock:
                self.decisions.append(Decision(caller, action, resource, outcome))
            if outcome == "allow":
                continue
            code, status = _DENIED.get(service, ("AccessDeniedException", 400))
            why = (
                "with an explicit deny in an identity-based policy"
                if outcome == "explicit-deny"
                else (f"because no identity-based policy allows the {action} action")
            )
            message = (
                f"User: {principal.session_arn} is not authorized to perform: {action} on resource: {resource} {why}"
            )
            parsed = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status, "HTTPHeaders": {}},
            }
            raise client.exceptions.from_code(code)(parsed, operation)

    def denied(self) -> list[Decision]:
        with self._lock:
            return [d for d in self.decisions if d.outcome != "allow"]


__all__ = [
    "AWS_MANAGED_POLICIES",
    "IamEmulationGap",
    "IamEnforcer",
    "Principal",
    "deployed_principals",
    "evaluate",
    "required_access",
    "sam_transform",
    "statements",
]


class IamExtension(Extension):
    """IAM enforcement as a ``RestoreStack`` extension (``enforce_iam=True``): ``stack.iam`` is the
    ``IamEnforcer`` while the stack is active; each handler call is made as its function."""

    def __init__(self) -> None:
        self.enforcer: IamEnforcer | None = None

    def start(self, stack: RestoreStack) -> None:
        self.enforcer = IamEnforcer(stack).start()
        stack.iam = self.enforcer

    def invocation(self, function_logical_id: str) -> contextlib.AbstractContextManager[Any]:
        return IamEnforcer.acting_as(function_logical_id)  # its AWS calls are checked against its role

    def redriven(self, failed_state_machine_arn: str, redriven_state_machine_arn: str) -> None:
        # The emulator plays a redrive on a copy of the state machine (a new ARN; AWS keeps the original):
        # its calls are the original state machine's, with the original's role.
        if self.enforcer is not None and failed_state_machine_arn in self.enforcer.state_machines:
            machines = self.enforcer.state_machines
            machines[redriven_state_machine_arn] = machines[failed_state_machine_arn]

    def stop(self) -> None:
        if self.enforcer is not None:
            self.enforcer.stop()
