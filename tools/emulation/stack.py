"""The stack: ``template.yaml`` deployed into moto, with the real handlers and the real ASL.

    with RestoreStack() as stack:                      # deploys template.yaml into moto
        result = stack.run({"user_pool_id": "us-east-1_abc"})
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        print(stack.alerts())

Only one ``RestoreStack`` may be active at a time: the moto mock, ``os.environ`` and the
patches are process-wide. While it is active:

* ``mock_aws`` runs with ``stepfunctions.execute_state_machine`` so executions are really
  interpreted; fake credentials and the region are put in ``os.environ`` (``AWS_PROFILE`` and
  ``AWS_ENDPOINT_URL*`` are removed so nothing can reach a real account), with the functions'
  environment (``lambda_runtime.py``);
* every Lambda invocation is dispatched in-process to the real handler (``lambda_runtime.py``);
* moto's Step Functions interpreter is corrected and made instant (``stepfunctions.py``);
* the extensions run (``extensions.py``): IAM enforcement (``iam.py``, unless ``enforce_iam=False``),
  the template's EventBridge rules (``eventbridge.py``), strict Cognito (``cognito/``, unless
  ``strict_cognito=False``);
* DynamoDB requests are served one at a time (``atomic.py``: moto's TransactWriteItems breaks when
  another thread writes meanwhile; each request is atomic on AWS);
* ``boto3`` client/resource creation is serialised with a lock: the interpreter and the
  handlers create clients from the default session in many threads at once, which boto3
  does not support (it does not happen on AWS, where every invocation has its own process).

Deployment (``_deploy``): the template is read and resolved by ``template.py``; buckets, tables,
topics (each with an SQS queue subscribed, read by ``alerts()``), layers, functions and state
machines are created in moto in that order under the names CloudFormation would give them, and
``resources`` / ``outputs`` are filled like CloudFormation's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from tools.emulation import atomic
from tools.emulation.errors import EmulatorError
from tools.emulation.extensions import Extension
from tools.emulation.lambda_runtime import LambdaRuntime, dummy_zip, remove_path
from tools.emulation.stepfunctions import (
    ExecutionResult,
    StepFunctions,
    moto_compatible_definition,
    prune_dead_threads,
)
from tools.emulation.template import LAYER_TYPES, SAM_FUNCTION, SM_TYPES, Template, load_template, scalar_str

LOG = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")

_ACTIVE_LOCK = threading.Lock()
_ACTIVE: RestoreStack | None = None


def _clear_layer_client_cache() -> None:
    aws_module = sys.modules.get("cognito_restore.aws")
    if aws_module is not None:
        aws_module.client.cache_clear()


class RestoreStack:
    """``template.yaml`` deployed into moto, with the real handlers and the real ASL.

    ``parameters`` override the template parameter defaults (validated against
    AllowedPattern/AllowedValues/MinValue/MaxValue); ``template`` is relative to ``root``;
    ``stack_name`` feeds ``AWS::StackName`` and the generated physical names
    (``<stack>-<LogicalId>-<SUFFIX>``, deterministic); ``moto_logs=True`` keeps moto's
    interpreter logs; ``strict_cognito=False`` leaves moto's Cognito as lenient as it is
    (default: ``tools/emulation/cognito`` is installed while the stack is active);
    ``enforce_iam=False`` leaves IAM unchecked (default: ``tools/emulation/iam.py``). Attributes
    once entered:
    ``outputs`` (template Outputs resolved), ``resources`` (logical id -> physical id, as
    ``Ref`` would give), ``region``, ``account_id``, ``invocations`` ((function logical id,
    seconds) in call order), ``waits`` (seconds requested by Wait states) and
    ``retry_sleeps`` (back-off seconds requested by Retriers, after jitter). The parts:
    ``cfn`` (the template resolved, ``template.py``), ``lambda_runtime`` (``lambda_runtime.py``),
    ``sfn`` (``stepfunctions.py``), ``extensions`` (``extensions.py``, once entered), ``iam``
    (``iam.py``'s enforcer), ``execution_events`` (``eventbridge.py``: the template's rules).
    """

    def __init__(
        self,
        root: Path | str = REPO_ROOT,
        *,
        region: str = "us-east-1",
        parameters: dict[str, Any] | None = None,
        template: str = "template.yaml",
        stack_name: str = "cognito-dr-restore-emulator",
        moto_logs: bool = False,
        strict_cognito: bool = True,
        enforce_iam: bool = True,
    ):
        self.root = Path(root).resolve()
        self.template_path = self.root / template
        self.template = load_template(self.template_path)
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.partition = "aws"
        self.stack_name = stack_name
        self.moto_logs = moto_logs
        self.strict_cognito = strict_cognito  # tools/emulation/cognito: Cognito's real refusals
        self.enforce_iam = enforce_iam  # tools/emulation/iam.py: each call checked against its caller's role
        self.iam: Any = None  # the IamEnforcer while the stack is active (its .decisions, .denied())
        self.execution_events: Any = None  # tools/emulation/eventbridge.py's ExecutionEvents, once deployed
        self.parameter_overrides = {k: scalar_str(v) for k, v in (parameters or {}).items()}
        self.cfn = Template(
            self.template,
            region=region,
            account_id=self.account_id,
            partition=self.partition,
            stack_name=stack_name,
            parameters=self.parameter_overrides,
        )
        self.lambda_runtime = LambdaRuntime(self.template_path, region)
        self.sfn = StepFunctions()
        self.extensions: list[Extension] = []

        self.outputs: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.invocations = self.lambda_runtime.invocations
        self.waits = self.sfn.waits
        self.retry_sleeps = self.sfn.retry_sleeps

        self._alert_queues: dict[str, str] = {}  # topic logical id -> queue url
        self._alerts: dict[str, list[dict]] = {}
        self._alerts_lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._active = False
        self._exit_stack: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> RestoreStack:
        global _ACTIVE
        with _ACTIVE_LOCK:
            if _ACTIVE is not None:
                raise EmulatorError("another RestoreStack is already active in this process")
            _ACTIVE = self
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self) -> None:
        from moto import mock_aws

        # a stack may be entered again: start from a clean deployment
        for state in (self._alert_queues, self._alerts, self.outputs, self.resources):
            state.clear()
        self.lambda_runtime.clear()
        self.sfn.threads.clear()
        self.lambda_runtime.build(self.cfn)
        self._set_environ(self.lambda_runtime.environment())
        # A layer module imported before the stack (by a test) is not purged on exit: its per-process
        # client cache would keep the Region of an earlier stack. Each stack starts with fresh clients.
        _clear_layer_client_cache()
        modules_before = set(sys.modules)
        self._exit_stack.append(lambda: self.lambda_runtime.purge_modules(modules_before))
        for layer_dir in self.lambda_runtime.layer_dirs:
            sys.path.insert(0, str(layer_dir))
            self._exit_stack.append(lambda d=str(layer_dir): remove_path(d))  # type: ignore[misc]  # bound default

        if not self.moto_logs:
            # moto's interpreter logs every caught task failure at ERROR with a dump of the
            # state, and warns about ToleratedFailure* (enforced, see stepfunctions.py). The
            # execution result and history carry the errors; moto_logs=True to see them.
            sfn_logger = logging.getLogger("moto.stepfunctions.parser")
            level = sfn_logger.level
            sfn_logger.setLevel(logging.CRITICAL)
            self._exit_stack.append(lambda: sfn_logger.setLevel(level))

        aws = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        aws.start()
        self._exit_stack.append(aws.stop)
        self._install()
        self._active = True
        self._deploy()

    def _stop(self) -> None:
        global _ACTIVE
        errors: list[BaseException] = []
        while self._exit_stack:
            undo = self._exit_stack.pop()
            try:
                undo()
            except BaseException as exc:  # noqa: BLE001 - keep undoing the rest
                errors.append(exc)
        self._active = False
        self._clients.clear()
        with _ACTIVE_LOCK:
            if _ACTIVE is self:
                _ACTIVE = None
        if errors:
            raise errors[0]

    def _set_environ(self, env: dict[str, str]) -> None:
        saved = dict(os.environ)

        def restore() -> None:
            os.environ.clear()
            os.environ.update(saved)

        self._exit_stack.append(restore)
        for key in list(os.environ):
            if key == "AWS_PROFILE" or key.startswith("AWS_ENDPOINT_URL"):
                del os.environ[key]
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_SECURITY_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
            }
        )
        os.environ.update(env)

    # ------------------------------------------------------------------ public API

    def client(self, service: str) -> Any:
        """A boto3 client of the stack's Region (backed by moto while the stack is active)."""
        self._require_active()
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    def messages_sent(self, pool_id: str | None = None) -> int:
        """Calls that would have sent a user an e-mail or SMS (strict Cognito counts them; 0 without it)."""
        from tools.emulation.cognito import messages_sent

        self._require_active()
        return messages_sent(pool_id)

    def state_machine_arn(self, logical_id: str = "RestoreStateMachine") -> str:
        res = self.cfn.resource(logical_id)
        if res.get("Type") not in SM_TYPES:
            raise EmulatorError(f"{logical_id} is not a state machine")
        return self.cfn.ref(logical_id)

    def start(self, input: dict, name: str | None = None, state_machine: str = "RestoreStateMachine") -> str:
        """Start an execution; returns its ARN (``name`` defaults to a uuid4)."""
        resp = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn(state_machine),
            name=name or str(uuid.uuid4()),
            input=json.dumps(input),
        )
        return resp["executionArn"]

    def redrive(self, execution_arn: str) -> str:
        """Step Functions' RedriveExecution, which moto lacks (``StepFunctions.redrive``): the failed
        execution continued from its unsuccessful state, as a new execution ``<name>-redrive-<n>``."""
        return self.sfn.redrive(self.client("stepfunctions"), execution_arn)

    def wait(self, execution_arn: str, timeout: float = 600) -> ExecutionResult:
        """Block until the execution is no longer RUNNING (joins its interpreter thread)."""
        self._require_active()
        return self.sfn.wait(self.client("stepfunctions"), execution_arn, timeout)

    def run(
        self, input: dict, name: str | None = None, state_machine: str = "RestoreStateMachine", timeout: float = 600
    ) -> ExecutionResult:
        """``start`` + ``wait``."""
        return self.wait(self.start(input, name=name, state_machine=state_machine), timeout)

    def alerts(self, topic_logical_id: str = "AlertTopic") -> list[dict]:
        """Every message published to the topic so far, oldest first, each
        ``{"subject": ..., "message": ...}`` (read from an SQS queue subscribed to it)."""
        self._require_active()
        if topic_logical_id not in self._alert_queues:
            raise EmulatorError(f"{topic_logical_id} is not a deployed SNS topic")
        sqs = self.client("sqs")
        url = self._alert_queues[topic_logical_id]
        with self._alerts_lock:
            received = self._alerts.setdefault(topic_logical_id, [])
            while True:
                resp = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=30,
                )
                messages = resp.get("Messages", [])
                if not messages:
                    break
                for msg in messages:
                    body = json.loads(msg["Body"])
                    received.append({"subject": body.get("Subject"), "message": body["Message"]})
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
            return list(received)

    def invoke(self, logical_id: str, event: dict) -> Any:
        """Call one handler directly, in-process (event and result JSON round-tripped like
        Lambda does). The handler's exception is raised as is. The ``on_invoke`` hook is
        called and the call is recorded in ``invocations`` like a dispatched one."""
        self._require_active()
        return self.lambda_runtime.invoke(logical_id, event)

    def on_invoke(self, hook: Callable[[str, dict], None] | None) -> None:
        """Hook called with (function logical id, event) before each invocation (``None`` to
        remove). An exception raised by it fails that invocation like a handler exception
        would (use ``LambdaCrash`` for runtime errors such as ``Runtime.ExitError``)."""
        self.lambda_runtime.hook = hook

    def function_name(self, logical_id: str) -> str:
        return self.lambda_runtime.function(logical_id).name

    @property
    def functions(self) -> dict[str, str]:
        """Function logical id -> function name."""
        return {lid: f.name for lid, f in self.lambda_runtime.functions.items()}

    @property
    def active(self) -> bool:
        """Entered and not yet exited."""
        return self._active

    def _require_active(self) -> None:
        if not self._active:
            raise EmulatorError("the RestoreStack is not active (use it as a context manager)")

    # ------------------------------------------------------------------ patches and extensions

    def _extensions(self) -> list[Extension]:
        """The extensions this stack runs, in order: the one place where a plug-in is added."""
        from tools.emulation.eventbridge import EventBridgeExtension

        extensions: list[Extension] = []
        if self.enforce_iam:
            from tools.emulation.iam import IamExtension

            extensions.append(IamExtension())
        extensions.append(EventBridgeExtension())
        if self.strict_cognito:
            from tools.emulation.cognito import StrictCognitoExtension

            extensions.append(StrictCognitoExtension())
        return extensions

    def _install(self) -> None:
        """The stack's own patches, then the extensions' hooks (see extensions.py for the order)."""
        boto_lock = threading.RLock()
        session_cls = boto3.session.Session
        original_client = session_cls.client
        original_resource = session_cls.resource

        def locked_client(s: Any, *args: Any, **kwargs: Any) -> Any:
            with boto_lock:
                return original_client(s, *args, **kwargs)

        def locked_resource(s: Any, *args: Any, **kwargs: Any) -> Any:
            with boto_lock:
                return original_resource(s, *args, **kwargs)

        patches: list[Any] = [
            self.lambda_runtime.patch(),
            *self.sfn.patches(),
            atomic.dynamodb_patch(),
            mock.patch.object(session_cls, "client", locked_client),
            mock.patch.object(session_cls, "resource", locked_resource),
        ]
        for p in patches:
            p.start()
            self._exit_stack.append(p.stop)

        self.extensions = self._extensions()
        self.lambda_runtime.wrappers = [ext.invocation for ext in self.extensions]
        self.sfn.execution_ended = [ext.execution_ended for ext in self.extensions]
        self.sfn.redriven = [ext.redriven for ext in self.extensions]
        for ext in self.extensions:
            ext.start(self)
            self._exit_stack.append(ext.stop)
        self._exit_stack.append(prune_dead_threads)
        self._exit_stack.append(lambda: self.sfn.stop_running_executions(lambda: self.client("stepfunctions")))

    # ------------------------------------------------------------------ deployment

    def _deploy(self) -> None:
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=f"{self.stack_name}-emulator-role"[:64],
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]

        order = [
            "AWS::S3::Bucket",
            "AWS::DynamoDB::Table",
            "AWS::SNS::Topic",
            *LAYER_TYPES,
            *SAM_FUNCTION,
            *SM_TYPES,
        ]
        for typ in order:
            for lid, res in self.cfn.active_resources():
                if res["Type"] != typ:
                    continue
                props = res.get("Properties") or {}
                if typ == "AWS::S3::Bucket":
                    self._deploy_bucket(lid, props)
                elif typ == "AWS::DynamoDB::Table":
                    self._deploy_table(lid, props)
                elif typ == "AWS::SNS::Topic":
                    self._deploy_topic(lid, props)
                elif typ in LAYER_TYPES:
                    self._deploy_layer(lid, props)
                elif typ in SAM_FUNCTION:
                    self._deploy_function(lid, props, role_arn)
                else:
                    self._deploy_state_machine(lid, props, role_arn)
        for ext in self.extensions:
            ext.deployed(self)
        for lid, _ in self.cfn.active_resources():
            self.resources[lid] = self.cfn.ref(lid)
        for key, out in (self.template.get("Outputs") or {}).items():
            if "Condition" in out and not self.cfn.condition(out["Condition"]):
                continue
            self.outputs[key] = scalar_str(self.cfn.resolve(out["Value"]))

    def _deploy_bucket(self, lid: str, props: dict) -> None:
        s3 = self.client("s3")
        name = self.cfn.name(lid)
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**kwargs)
        versioning = self.cfn.resolve(props.get("VersioningConfiguration"))
        if isinstance(versioning, dict) and versioning.get("Status"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        # Warm standby: S3 sends object events to EventBridge only when the bucket says so (eventbridge.py).
        notification = self.cfn.resolve(props.get("NotificationConfiguration")) or {}
        bridge = notification.get("EventBridgeConfiguration") if isinstance(notification, dict) else None
        if isinstance(bridge, dict) and scalar_str(bridge.get("EventBridgeEnabled", True)) == "true":
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )

    def _deploy_table(self, lid: str, props: dict) -> None:
        p = self.cfn.resolve(props)
        kwargs: dict[str, Any] = {
            "TableName": self.cfn.name(lid),
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
        }
        billing = p.get("BillingMode", "PROVISIONED")
        kwargs["BillingMode"] = billing
        if billing == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = _throughput(p.get("ProvisionedThroughput"))
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if p.get(key):
                indexes = copy.deepcopy(p[key])
                for index in indexes:
                    if billing == "PROVISIONED" and key.startswith("Global"):
                        index["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                    else:
                        index.pop("ProvisionedThroughput", None)
                    index.pop("ContributorInsightsSpecification", None)
                kwargs[key] = indexes
        if p.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        ddb = self.client("dynamodb")
        ddb.create_table(**kwargs)
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=kwargs["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )

    def _deploy_topic(self, lid: str, props: dict) -> None:
        name = self.cfn.name(lid)
        attributes = {}
        if scalar_str(self.cfn.resolve(props.get("FifoTopic", False))) == "true":
            attributes["FifoTopic"] = "true"
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        _check_same(arn, self.cfn.ref(lid), lid)
        queue_name = f"emulator-alerts-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
        if attributes:
            queue_name += ".fifo"
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=queue_name, Attributes=({"FifoQueue": "true"} if attributes else {}))[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("sns").subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        self._alert_queues[lid] = url

    def _deploy_layer(self, lid: str, props: dict) -> None:
        content = self.cfn.resolve(props.get("ContentUri") or props.get("Content"))
        if not isinstance(content, str):
            raise EmulatorError(f"{lid}: only a local ContentUri directory is supported")
        layer_dir = (self.template_path.parent / content).resolve()
        if not layer_dir.is_dir():
            raise EmulatorError(f"{lid}: ContentUri {layer_dir} is not a directory")
        arn = self.client("lambda").publish_layer_version(
            LayerName=self.cfn.name(lid),
            Content={"ZipFile": dummy_zip()},
            CompatibleRuntimes=self.cfn.resolve(props.get("CompatibleRuntimes")) or [],
        )["LayerVersionArn"]
        _check_same(arn, self.cfn.ref(lid), lid)
        # (already on sys.path, see _process_environment)

    def _deploy_function(self, lid: str, props: dict, role_arn: str) -> None:
        fn = self.lambda_runtime.functions[lid]
        kwargs: dict[str, Any] = {
            "FunctionName": fn.name,
            "Runtime": fn.runtime,
            "Role": role_arn,
            "Handler": fn.handler,
            "Code": {"ZipFile": dummy_zip()},
            "Timeout": fn.timeout,
            "MemorySize": fn.memory,
            "Environment": {"Variables": fn.environment},
        }
        if fn.architectures:
            kwargs["Architectures"] = fn.architectures
        arn = self.client("lambda").create_function(**kwargs)["FunctionArn"]
        _check_same(arn, fn.arn, lid)

    def _deploy_state_machine(self, lid: str, props: dict, role_arn: str) -> None:
        if "DefinitionUri" in props:
            uri = self.cfn.resolve(props["DefinitionUri"])
            if not isinstance(uri, str):
                raise EmulatorError(f"{lid}: only a local DefinitionUri file is supported")
            definition = (self.template_path.parent / uri).read_text(encoding="utf-8")
        elif "Definition" in props:
            definition = json.dumps(self.cfn.resolve(props["Definition"]), indent=2)
        elif "DefinitionString" in props:
            definition = self.cfn.resolve(props["DefinitionString"])
        else:
            raise EmulatorError(f"{lid}: no Definition/DefinitionUri")
        subs = props.get("DefinitionSubstitutions") or {}
        for key, value in subs.items():
            definition = definition.replace("${" + key + "}", scalar_str(self.cfn.resolve(value)))
        left = sorted(set(_PLACEHOLDER_RE.findall(definition)))
        if left:
            raise EmulatorError(f"{lid}: placeholders with no DefinitionSubstitutions entry: {left}")
        definition = moto_compatible_definition(definition)
        sm_type = self.cfn.resolve(props.get("Type", "STANDARD"))
        arn = self.client("stepfunctions").create_state_machine(
            name=self.cfn.name(lid),
            definition=definition,
            roleArn=role_arn,
            type=sm_type,
        )["stateMachineArn"]
        _check_same(arn, self.cfn.ref(lid), lid)


def _throughput(spec: dict | None) -> dict:
    spec = spec or {}
    return {
        "ReadCapacityUnits": int(spec.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(spec.get("WriteCapacityUnits", 5)),
    }


def _check_same(actual: str, expected: str, lid: str) -> None:
    if actual != expected:
        raise EmulatorError(f"{lid}: moto created {actual} but the template resolves to {expected}")
