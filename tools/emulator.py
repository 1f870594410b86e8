"""Embedded AWS emulation of the restore stack: ``template.yaml`` deployed into moto.

Used by the workflow tests and by the offline DR drill. Nothing here re-implements the
product: the wiring is READ from ``template.yaml`` (functions, handlers, environment,
parameters, conditions, the layer, ``DefinitionSubstitutions``) and the state machine that
runs is the real ASL file, executed by moto's Step Functions interpreter. Every Lambda
invocation made by that interpreter (or by any boto3 ``lambda.invoke``) is dispatched
in-process to the real handler.

    with RestoreStack() as stack:                      # deploys template.yaml into moto
        result = stack.run({"user_pool_id": "us-east-1_abc"})
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        print(stack.alerts())

Only one ``RestoreStack`` may be active at a time: the moto mock, ``os.environ`` and the
patches below are process-wide. While it is active:

* ``mock_aws`` runs with ``stepfunctions.execute_state_machine`` so executions are really
  interpreted; fake credentials and the region are put in ``os.environ`` (``AWS_PROFILE`` and
  ``AWS_ENDPOINT_URL*`` are removed so nothing can reach a real account);
* ``moto.awslambda.models.LambdaFunction._invoke_lambda`` calls the handler in-process (the
  Lambda error payload ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` is
  returned for an exception, so ``lambda:invoke`` tasks see ``Error`` = the exception class
  name and ``Cause`` = that JSON, like on AWS);
* Wait states and Retry back-off return immediately; the requested seconds are recorded in
  ``waits`` / ``retry_sleeps``;
* moto's execution worker keeps a handle on its thread so ``wait()`` can join it;
* moto 5.2.5 departures from AWS that the real ASL would hit are corrected (each at its
  patch, below): Distributed Map ``ToleratedFailureCount/Percentage`` are enforced (moto
  ignores them: a failed item passed silently; AWS fails the Map with
  ``States.ExceedToleratedFailureThreshold``); ``$variable`` references in JSONPath states
  (``"failed_phase.$": "$failed_phase"``) are resolved (moto sends them to a JSONata engine it
  does not ship -> States.Runtime); a Fail state whose ``ErrorPath`` gives a ``States.*`` name
  fails with it (moto: ValueError -> States.Runtime); a Choice rule on a missing path fails
  with States.Runtime (moto silently takes the Default); an integer
  ``ToleratedFailurePercentage`` is written as a float for moto's parser, which rejects ``0``;
  a Retry or Catch on ``States.ALL`` does not match ``States.Runtime`` / ``States.DataLimitExceeded``
  (moto matches every error);
* EventBridge: when an execution ends, its "Step Functions Execution Status Change" event goes
  through the template's ``AWS::Events::Rule`` resources to their SNS targets, refused where AWS
  refuses (topic policy, AWS managed key): ``tools/execution_events.py``, ``execution_events``;
* IAM is enforced (``enforce_iam=False`` to turn it off): every AWS call of a handler or of the
  interpreter is authorized against the caller's role as deployed from the template (SAM
  transform, policies resolved) and a call the role does not allow fails with the service's
  access-denied error, as on AWS (``tools/iam_enforcement.py``; ``stack.iam.decisions``);
* ``boto3`` client/resource creation is serialised with a lock: the interpreter and the
  handlers create clients from the default session in many threads at once, which boto3
  does not support (it does not happen on AWS, where every invocation has its own process).

Environment: the union of every function's variables (``Globals`` merged with its own) is
set in ``os.environ`` (a variable defined twice with different values is an error: one
process cannot hold both), plus ``POWERTOOLS_TRACE_DISABLED=true`` (no X-Ray daemon offline;
the Tracer would otherwise try to emit segments) and a ``POWERTOOLS_METRICS_NAMESPACE``
default (Metrics refuses to flush without a namespace).

Handlers are loaded lazily (first invocation) from ``CodeUri`` + ``Handler`` under a unique
module name per function, and cached for the life of the stack; the layer ``ContentUri``
directories are on ``sys.path`` (SAM's python build puts ``ContentUri`` at the layer root,
i.e. ``/opt/python``). Modules first imported during the stack from the layer or function
directories are dropped from ``sys.modules`` on exit, so each stack reads its own
environment at import time. Known limits: a function's sibling modules (``CodeUri/x.py``) are
importable only while its ``app`` module is being loaded, and share ``sys.modules`` with
other functions' siblings of the same name; per-invocation Lambda variables
(``AWS_LAMBDA_FUNCTION_NAME``...) are not set because invocations run concurrently in one
process - use the context object; the 256 KiB Step Functions payload limit is not enforced.
A handler that runs longer than its ``Timeout`` has its result replaced by the
``Sandbox.Timedout`` error AWS would give (mind breakpoints). Distributed Map items run as
threads inside the parent execution: no child executions exist, and the parent history shows
``MapStateEntered, MapStateStarted, MapRunStarted, MapRunSucceeded|MapRunFailed,
MapStateSucceeded, MapStateExited`` but no item event (``ExecutionResult.map_runs`` has the
item counts from ``describe_map_run``).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import types
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import yaml

from tools.iam_enforcement import IamEnforcer
from tools.execution_events import ExecutionEvents, states_all_matcher

LOG = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_METRICS_NAMESPACE = "CognitoDrRestoreEmulator"
_LAMBDA_DEFAULT_TIMEOUT = 3
_LAMBDA_DEFAULT_MEMORY = 128

_ACTIVE_LOCK = threading.Lock()
_ACTIVE: RestoreStack | None = None


class EmulatorError(Exception):
    """The template or the ASL cannot be emulated as written (wiring error), or an execution
    could not be run to completion by the emulator itself."""


class LambdaCrash(Exception):
    """Raise from an ``on_invoke`` hook (or a handler) to simulate a Lambda failure whose
    ``errorType`` is not a Python class name, e.g. ``Runtime.ExitError`` (process crashed)
    or ``Sandbox.Timedout``. Any other exception gives ``errorType`` = its class name."""

    def __init__(
        self, message: str = "Runtime exited with error: signal: killed", error_type: str = "Runtime.ExitError"
    ):
        super().__init__(message)
        self.error_type = error_type


# ============================================================================ template loading


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]  # the remaining node kind
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """Load a SAM/CloudFormation YAML (or JSON) template with the short intrinsic tags."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise EmulatorError(f"{path}: not a CloudFormation template (no Resources)")
    return data


# ============================================================================ results


@dataclass
class ExecutionResult:
    """Final state of one execution (``wait`` returns it once it is no longer RUNNING)."""

    arn: str
    status: str
    output: Any | None
    error: str | None
    cause: str | None
    history: list[dict] = field(default_factory=list)  # all events, all pages
    map_runs: list[dict] = field(default_factory=list)  # describe_map_run of each map run

    def states_entered(self) -> list[str]:
        """Names of the states entered, in order (from the history)."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history
            if e["type"].endswith("StateEntered") and "stateEnteredEventDetails" in e
        ]

    def events(self, event_type: str) -> list[dict]:
        """History events of one type, e.g. ``"TaskFailed"``."""
        return [e for e in self.history if e["type"] == event_type]


class LambdaContext:
    """The attributes of the Python runtime's context object (``awslambdaric``)."""

    def __init__(self, fn: _Function, region: str):
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = fn.arn
        # The runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE: it is a string on AWS.
        self.memory_limit_in_mb = str(fn.memory)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class _Function:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, str]
    layers: list[str]
    architectures: list[str]


_NO_VALUE = object()
_SUB_RE = re.compile(r"\$\{([^}]*)\}")
_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")

_SAM_FUNCTION = ("AWS::Serverless::Function",)
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_SM_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
# name property, max length, lowercase - for the physical names CloudFormation generates
_NAME_PROPS: dict[str, tuple[str | None, int, bool]] = {
    "AWS::S3::Bucket": ("BucketName", 63, True),
    "AWS::DynamoDB::Table": ("TableName", 255, False),
    "AWS::SNS::Topic": ("TopicName", 256, False),
    "AWS::SQS::Queue": ("QueueName", 80, False),
    "AWS::Serverless::Function": ("FunctionName", 64, False),
    "AWS::Lambda::Function": ("FunctionName", 64, False),
    "AWS::Serverless::LayerVersion": ("LayerName", 140, False),
    "AWS::Lambda::LayerVersion": ("LayerName", 140, False),
    "AWS::Serverless::StateMachine": ("Name", 80, False),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", 80, False),
    "AWS::Logs::LogGroup": ("LogGroupName", 512, False),
    "AWS::IAM::Role": ("RoleName", 64, False),
    "AWS::Events::Rule": ("Name", 64, False),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255, False),
    "AWS::CloudWatch::Dashboard": ("DashboardName", 255, False),
}


# ============================================================================ the stack


class RestoreStack:
    """``template.yaml`` deployed into moto, with the real handlers and the real ASL.

    ``parameters`` override the template parameter defaults (validated against
    AllowedPattern/AllowedValues/MinValue/MaxValue); ``template`` is relative to ``root``;
    ``stack_name`` feeds ``AWS::StackName`` and the generated physical names
    (``<stack>-<LogicalId>-<SUFFIX>``, deterministic); ``moto_logs=True`` keeps moto's
    interpreter logs; ``strict_cognito=False`` leaves moto's Cognito as lenient as it is
    (default: ``tools/strict_cognito.py`` is installed while the stack is active). Attributes
    once entered:
    ``outputs`` (template Outputs resolved), ``resources`` (logical id -> physical id, as
    ``Ref`` would give), ``region``, ``account_id``, ``invocations`` ((function logical id,
    seconds) in call order), ``waits`` (seconds requested by Wait states) and
    ``retry_sleeps`` (back-off seconds requested by Retriers, after jitter).
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
        self.strict_cognito = strict_cognito  # tools/strict_cognito.py: Cognito's real refusals
        self.enforce_iam = enforce_iam  # tools/iam_enforcement.py: each call checked against its caller's role
        self.iam: Any = None  # the IamEnforcer while the stack is active (its .decisions, .denied())
        self.parameter_overrides = {k: _scalar_str(v) for k, v in (parameters or {}).items()}

        self.outputs: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.invocations: list[tuple[str, float]] = []
        self.waits: list[float] = []
        self.retry_sleeps: list[float] = []

        self._params: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        self._condition_stack: list[str] = []
        self._names: dict[str, str] = {}
        self._name_stack: list[str] = []
        self._functions: dict[str, _Function] = {}  # logical id -> function
        self._functions_by_name: dict[str, str] = {}  # physical name -> logical id
        self._modules: dict[str, Callable[[Any, Any], Any]] = {}
        self._module_names: list[str] = []
        self._module_lock = threading.RLock()
        self._layer_dirs: list[Path] = []
        self._alert_queues: dict[str, str] = {}  # topic logical id -> queue url
        self._alerts: dict[str, list[dict]] = {}
        self._alerts_lock = threading.Lock()
        self._hook: Callable[[str, dict], None] | None = None
        self._clients: dict[str, Any] = {}
        self._active = False
        self._exit_stack: list[Callable[[], None]] = []
        self._threads: list[tuple[str, threading.Thread]] = []
        self._redrive_counts: dict[str, int] = {}  # execution name -> Execution.RedriveCount
        self._redrive_inputs: dict[str, Any] = {}  # execution name -> the original Execution.Input
        self.execution_events: ExecutionEvents | None = None  # tools/execution_events.py, once deployed

        self._resolve_parameters()

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
        for state in (
            self._functions,
            self._functions_by_name,
            self._alert_queues,
            self._alerts,
            self.outputs,
            self.resources,
        ):
            state.clear()
        self._layer_dirs.clear()
        self._threads.clear()
        env = self._process_environment()
        self._set_environ(env)
        modules_before = set(sys.modules)
        self._exit_stack.append(lambda: self._purge_modules(modules_before))
        for layer_dir in self._layer_dirs:
            sys.path.insert(0, str(layer_dir))
            self._exit_stack.append(lambda d=str(layer_dir): _remove_path(d))  # type: ignore[misc]  # bound default

        if not self.moto_logs:
            # moto's interpreter logs every caught task failure at ERROR with a dump of the
            # state, and warns about ToleratedFailure* (enforced here, see _map_run). The
            # execution result and history carry the errors; moto_logs=True to see them.
            sfn_logger = logging.getLogger("moto.stepfunctions.parser")
            level = sfn_logger.level
            sfn_logger.setLevel(logging.CRITICAL)
            self._exit_stack.append(lambda: sfn_logger.setLevel(level))

        aws = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        aws.start()
        self._exit_stack.append(aws.stop)
        self._install_patches()
        self._active = True
        self._deploy()

    def _stop(self) -> None:
        global _ACTIVE
        errors: list[BaseException] = []
        while self._exit_stack:
            undo = self._exit_stack.pop()
            try:
                undo()
            except BaseException as exc:  # keep undoing the rest
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

    def _purge_modules(self, before: set[str]) -> None:
        roots = [str(d) for d in self._layer_dirs]
        roots += [str(f.code_dir) for f in self._functions.values()]
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            file = getattr(module, "__file__", None) or ""
            if name in self._module_names or any(file.startswith(r + os.sep) for r in roots):
                sys.modules.pop(name, None)
                # A parent package loaded before the stack keeps the submodule as an attribute;
                # drop it too, or `from package import submodule` returns the stale module.
                parent_name, _, child = name.rpartition(".")
                parent = sys.modules.get(parent_name) if parent_name else None
                if parent is not None and getattr(parent, child, None) is module:
                    delattr(parent, child)
        self._modules.clear()
        self._module_names.clear()

    # ------------------------------------------------------------------ public API

    def client(self, service: str) -> Any:
        """A boto3 client of the stack's Region (backed by moto while the stack is active)."""
        self._require_active()
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    def state_machine_arn(self, logical_id: str = "RestoreStateMachine") -> str:
        res = self._resource(logical_id)
        if res.get("Type") not in _SM_TYPES:
            raise EmulatorError(f"{logical_id} is not a state machine")
        return self._ref(logical_id)

    def start(self, input: dict, name: str | None = None, state_machine: str = "RestoreStateMachine") -> str:
        """Start an execution; returns its ARN (``name`` defaults to a uuid4)."""
        resp = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn(state_machine),
            name=name or str(uuid.uuid4()),
            input=json.dumps(input),
        )
        return resp["executionArn"]

    def redrive(self, execution_arn: str) -> str:
        """Step Functions' RedriveExecution, which moto lacks: continue a failed execution from its
        unsuccessful state, with that state's input, Execution.RedriveCount one higher and
        Execution.Input the original execution's input (a redrive "uses the same input").

        AWS continues under the same execution ARN; here it is a new execution of the same
        definition starting at that state (named ``<name>-redrive-<n>``). Returns its ARN.
        """
        sfn = self.client("stepfunctions")
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] == "SUCCEEDED" or described["status"] == "RUNNING":
            raise EmulatorError(f"Execution is {described['status']} and cannot be redriven.")
        history = self.wait(execution_arn).history
        open_states: dict[str, dict] = {}
        for event in history:
            if event["type"].endswith("StateEntered"):
                open_states[event["stateEnteredEventDetails"]["name"]] = event["stateEnteredEventDetails"]
            elif event["type"].endswith("StateExited"):
                open_states.pop(event["stateExitedEventDetails"]["name"], None)
        if not open_states:
            raise EmulatorError("no unsuccessful state in the history to redrive from")
        failed = list(open_states.values())[-1]
        machine = sfn.describe_state_machine(stateMachineArn=described["stateMachineArn"])
        definition = json.loads(machine["definition"])
        definition["StartAt"] = failed["name"]
        name = described["name"].split("-redrive-")[0]
        count = self._redrive_counts.get(described["name"], 0) + 1
        redrive_name = f"{name}-redrive-{count}"
        self._redrive_counts[redrive_name] = count
        self._redrive_inputs[redrive_name] = self._redrive_inputs.get(
            described["name"], json.loads(described.get("input") or "{}")
        )
        redriven = sfn.create_state_machine(
            name=f"{machine['name']}-redrive-{count}-{uuid.uuid4().hex[:6]}",
            definition=json.dumps(definition),
            roleArn=machine["roleArn"],
            type=machine.get("type", "STANDARD"),
        )
        if self.execution_events is not None:  # its status change events name the original state machine
            original = described["stateMachineArn"]
            self.execution_events.redriven_from[redriven["stateMachineArn"]] = self.execution_events.redriven_from.get(
                original, original
            )
        return sfn.start_execution(
            stateMachineArn=redriven["stateMachineArn"], name=redrive_name, input=failed.get("input") or "{}"
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 600) -> ExecutionResult:
        """Block until the execution is no longer RUNNING.

        Joins the thread of moto's execution worker (kept by the patched
        ``ExecutionWorker.start``), so there is no polling; falls back to polling
        ``describe_execution`` with a short ``Event.wait`` for an execution started by a worker
        that has no thread handle (e.g. started before the patch)."""
        self._require_active()
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[self.account_id][self.region]
        execution = backend.describe_execution(execution_arn)
        worker = execution.exec_worker  # type: ignore[attr-defined]  # moto sets it at start
        thread: threading.Thread | None = getattr(worker, "_emulator_thread", None)
        deadline = time.monotonic() + timeout
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
        else:
            pause = threading.Event()
            while execution.exec_status == "RUNNING":  # type: ignore[attr-defined]  # moto internals
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
                pause.wait(0.01)

        sfn = self.client("stepfunctions")
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] == "RUNNING":
            crash = getattr(worker, "_emulator_exception", None)
            raise EmulatorError(
                f"the interpreter thread of {execution_arn} died without ending the execution: {crash!r}"
            ) from crash
        history: list[dict] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            history.extend(page["events"])
        map_runs = [
            sfn.describe_map_run(mapRunArn=m["mapRunArn"])
            for m in sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
        ]
        for run in map_runs:
            run.pop("ResponseMetadata", None)
        output = json.loads(desc["output"]) if desc.get("output") is not None else None
        return ExecutionResult(
            arn=execution_arn,
            status=desc["status"],
            output=output,
            error=desc.get("error"),
            cause=desc.get("cause"),
            history=history,
            map_runs=map_runs,
        )

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
        fn = self._function(logical_id)
        return json.loads(_to_json(self._call_handler(fn, event)))

    def on_invoke(self, hook: Callable[[str, dict], None] | None) -> None:
        """Hook called with (function logical id, event) before each invocation (``None`` to
        remove). An exception raised by it fails that invocation like a handler exception
        would (use ``LambdaCrash`` for runtime errors such as ``Runtime.ExitError``)."""
        self._hook = hook

    def function_name(self, logical_id: str) -> str:
        return self._function(logical_id).name

    @property
    def functions(self) -> dict[str, str]:
        """Function logical id -> function name."""
        return {lid: f.name for lid, f in self._functions.items()}

    # ------------------------------------------------------------------ invocation

    def _function(self, logical_id: str) -> _Function:
        try:
            return self._functions[logical_id]
        except KeyError:
            raise EmulatorError(f"{logical_id} is not an AWS::Serverless::Function of {self.template_path}") from None

    def _handler(self, fn: _Function) -> Callable[[Any, Any], Any]:
        with self._module_lock:
            cached = self._modules.get(fn.logical_id)
            if cached is not None:
                return cached
            module_path, _, func_name = fn.handler.rpartition(".")
            if not module_path or not func_name:
                raise EmulatorError(f"{fn.logical_id}: Handler {fn.handler!r} is not module.function")
            file = fn.code_dir / (module_path.replace(".", "/") + ".py")
            if not file.is_file():
                raise _RuntimeError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': no {file}")
            mod_name = f"_emulated_lambda_{fn.logical_id}_{module_path.replace('.', '_')}"
            spec = importlib.util.spec_from_file_location(mod_name, file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            self._module_names.append(mod_name)
            sys.path.insert(0, str(fn.code_dir))  # like /var/task, for sibling modules
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                sys.modules.pop(mod_name, None)
                raise _RuntimeError(
                    "Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}"
                ) from exc
            finally:
                _remove_path(str(fn.code_dir))
            handler = getattr(module, func_name, None)
            if not callable(handler):
                raise _RuntimeError(
                    "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_path}'"
                )
            self._modules[fn.logical_id] = handler
            return handler

    def _call_handler(self, fn: _Function, event: Any, context: LambdaContext | None = None) -> Any:
        """Run hook + handler; exceptions propagate. Records the invocation."""
        event = json.loads(_to_json(event))
        context = context or LambdaContext(fn, self.region)
        started = time.perf_counter()
        try:
            if self._hook is not None:
                self._hook(fn.logical_id, copy.deepcopy(event))
            handler = self._handler(fn)
            with IamEnforcer.acting_as(fn.logical_id):  # its AWS calls are checked against its role
                return handler(event, context)
        finally:
            self.invocations.append((fn.logical_id, time.perf_counter() - started))

    def _dispatch(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        """moto's ``LambdaFunction._invoke_lambda`` replacement: (payload, errored, logs)."""
        logical_id = self._functions_by_name.get(function_name)
        if logical_id is None:
            return (
                _error_payload(
                    "Emulator.UnknownFunction",
                    f"{function_name} is not a function of {self.template_path.name}",
                    str(uuid.uuid4()),
                ),
                True,
                "",
            )
        fn = self._functions[logical_id]
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        context = LambdaContext(fn, self.region)
        request_id = context.aws_request_id
        started = time.perf_counter()
        try:
            payload = _to_json(self._call_handler(fn, event, context))
        except LambdaCrash as exc:
            return _error_payload(exc.error_type, f"RequestId: {request_id} Error: {exc}", request_id, exc), True, ""
        except SystemExit as exc:
            return (
                _error_payload(
                    "Runtime.ExitError",
                    f"RequestId: {request_id} Error: Runtime exited with error: exit status {exc.code}",
                    request_id,
                ),
                True,
                "",
            )
        except _RuntimeError as exc:
            LOG.warning("%s: %s", logical_id, exc, exc_info=exc.__cause__ is not None)
            return _error_payload(exc.error_type, str(exc), request_id), True, ""
        except _MarshalError as exc:
            return _error_payload("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id), True, ""
        except Exception as exc:
            LOG.info("%s raised %s", logical_id, type(exc).__name__, exc_info=True)
            return _error_payload(type(exc).__name__, str(exc), request_id, exc), True, ""
        elapsed = time.perf_counter() - started
        if elapsed > fn.timeout:  # AWS would have stopped it and discarded the result
            return (
                _error_payload(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {fn.timeout:.2f} seconds",
                    request_id,
                ),
                True,
                "",
            )
        return payload, False, ""

    def _require_active(self) -> None:
        if not self._active:
            raise EmulatorError("the RestoreStack is not active (use it as a context manager)")

    # ------------------------------------------------------------------ patches

    def _install_patches(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as dic,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
            wait_function,
        )
        from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
            StringVariableSample,
        )
        from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (  # noqa: E501
            ComparisonVariable,
        )
        from moto.stepfunctions.parser.asl.component.state.fail import state_fail
        from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
        from moto.stepfunctions.parser.backend import execution_worker

        stack = self

        def invoke_lambda(fn_self: Any, event: Any = None) -> tuple[str, bool, str]:
            return stack._dispatch(fn_self.function_name, event if event is not None else {})

        def wait_interval(wf_self: Any, env: Any, wait_seconds: Any) -> None:
            stack.waits.append(wait_seconds)

        def sleep(seconds: float) -> None:
            stack.retry_sleeps.append(seconds)

        def worker_start(worker: Any) -> None:
            def target() -> None:
                try:
                    worker._execution_logic()
                except BaseException as exc:
                    worker._emulator_exception = exc
                    raise
                stack._execution_ended(worker._evaluation_details.execution_details.arn)

            name = worker._evaluation_details.execution_details.name
            thread = threading.Thread(target=target, daemon=True, name=f"sfn-{name}")
            worker._emulator_thread = thread
            stack._threads.append((worker._evaluation_details.execution_details.arn, thread))
            execution_worker.TMP_THREADS.append(thread)
            thread.start()

        original_map_run = dic.DistributedIterationComponent._map_run

        def map_run(comp: Any, env: Any, eval_input: Any) -> None:
            original_map_run(comp, env, eval_input)
            _enforce_tolerated_failures(env, eval_input.map_run_record)

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

        original_environment = execution_worker.ExecutionWorker._get_evaluation_environment

        def evaluation_environment(worker: Any) -> Any:
            # moto's context object lacks Execution.RedriveCount; redriven executions carry theirs.
            env = original_environment(worker)
            name = worker._evaluation_details.execution_details.name
            env.states.context_object.context_object_data["Execution"]["RedriveCount"] = stack._redrive_counts.get(  # type: ignore[typeddict-unknown-key]
                name, 0
            )
            if name in stack._redrive_inputs:  # the started input is the failed state's, not the execution's
                env.states.context_object.context_object_data["Execution"]["Input"] = copy.deepcopy(
                    stack._redrive_inputs[name]
                )
            return env

        original_variable_sample = StringVariableSample._eval_body

        def variable_sample(sample: Any, env: Any) -> None:
            if not _sample_jsonpath_variable(sample, env):
                original_variable_sample(sample, env)

        patches: list[Any] = [
            mock.patch.object(LambdaFunction, "_invoke_lambda", invoke_lambda),
            mock.patch.object(StringVariableSample, "_eval_body", variable_sample),
            mock.patch.object(ComparisonVariable, "_eval_body", _choice_comparison),
            mock.patch.object(ErrorEqualsDecl, "_eval_body", states_all_matcher(ErrorEqualsDecl._eval_body)),
            mock.patch.object(state_fail, "CustomErrorName", _fail_state_error_name),
            mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait_interval),
            mock.patch.object(retrier_decl, "time", types.SimpleNamespace(sleep=sleep)),
            mock.patch.object(execution_worker.ExecutionWorker, "start", worker_start),
            mock.patch.object(execution_worker.ExecutionWorker, "_get_evaluation_environment", evaluation_environment),
            mock.patch.object(dic.DistributedIterationComponent, "_map_run", map_run),
            mock.patch.object(session_cls, "client", locked_client),
            mock.patch.object(session_cls, "resource", locked_resource),
        ]
        for p in patches:
            p.start()
            self._exit_stack.append(p.stop)
        if self.enforce_iam:
            self.iam = IamEnforcer(self).start()
            self._exit_stack.append(self.iam.stop)
        if self.strict_cognito:
            from tools.strict_cognito import strict_cognito

            self._exit_stack.append(strict_cognito().start().stop)
        self._exit_stack.append(_prune_dead_threads)
        self._exit_stack.append(self._stop_running_executions)

    def _execution_ended(self, execution_arn: str) -> None:
        """EventBridge: the execution's status change event through the template's rules (tools/execution_events.py)."""
        if self.execution_events is None or not self._active:
            return
        try:
            self.execution_events.execution_ended(execution_arn)
        except Exception:  # noqa: BLE001 - reported, never kills the interpreter thread
            LOG.exception("execution status change event of %s not delivered", execution_arn)
            raise

    def _stop_running_executions(self) -> None:
        """On exit: abort what is still running (a test that did not wait) and give its thread
        a moment, so it does not outlive the patches and the mock."""
        for arn, thread in self._threads:
            if not thread.is_alive():
                continue
            try:
                self.client("stepfunctions").stop_execution(
                    executionArn=arn, error="Emulator.Exit", cause="RestoreStack exited"
                )
            except Exception:  # noqa: BLE001 - best effort
                LOG.warning("could not stop %s", arn, exc_info=True)
            thread.join(5)

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
            *_LAYER_TYPES,
            *_SAM_FUNCTION,
            *_SM_TYPES,
        ]
        for typ in order:
            for lid, res in self._active_resources():
                if res["Type"] != typ:
                    continue
                props = res.get("Properties") or {}
                if typ == "AWS::S3::Bucket":
                    self._deploy_bucket(lid, props)
                elif typ == "AWS::DynamoDB::Table":
                    self._deploy_table(lid, props)
                elif typ == "AWS::SNS::Topic":
                    self._deploy_topic(lid, props)
                elif typ in _LAYER_TYPES:
                    self._deploy_layer(lid, props)
                elif typ in _SAM_FUNCTION:
                    self._deploy_function(lid, props, role_arn)
                else:
                    self._deploy_state_machine(lid, props, role_arn)
        self.execution_events = ExecutionEvents(self)
        self.execution_events.deploy()
        for lid, _ in self._active_resources():
            self.resources[lid] = self._ref(lid)
        for key, out in (self.template.get("Outputs") or {}).items():
            if "Condition" in out and not self._condition(out["Condition"]):
                continue
            self.outputs[key] = _scalar_str(self._resolve(out["Value"]))

    def _active_resources(self) -> Iterator[tuple[str, dict]]:
        for lid, res in self.template["Resources"].items():
            if "Condition" in res and not self._condition(res["Condition"]):
                continue
            yield lid, res

    def _deploy_bucket(self, lid: str, props: dict) -> None:
        s3 = self.client("s3")
        name = self._name(lid)
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**kwargs)
        versioning = self._resolve(props.get("VersioningConfiguration"))
        if isinstance(versioning, dict) and versioning.get("Status"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})

    def _deploy_table(self, lid: str, props: dict) -> None:
        p = self._resolve(props)
        kwargs: dict[str, Any] = {
            "TableName": self._name(lid),
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
        name = self._name(lid)
        attributes = {}
        if _scalar_str(self._resolve(props.get("FifoTopic", False))) == "true":
            attributes["FifoTopic"] = "true"
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        _check_same(arn, self._ref(lid), lid)
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
        content = self._resolve(props.get("ContentUri") or props.get("Content"))
        if not isinstance(content, str):
            raise EmulatorError(f"{lid}: only a local ContentUri directory is supported")
        layer_dir = (self.template_path.parent / content).resolve()
        if not layer_dir.is_dir():
            raise EmulatorError(f"{lid}: ContentUri {layer_dir} is not a directory")
        arn = self.client("lambda").publish_layer_version(
            LayerName=self._name(lid),
            Content={"ZipFile": _dummy_zip()},
            CompatibleRuntimes=self._resolve(props.get("CompatibleRuntimes")) or [],
        )["LayerVersionArn"]
        _check_same(arn, self._ref(lid), lid)
        # (already on sys.path, see _process_environment)

    def _deploy_function(self, lid: str, props: dict, role_arn: str) -> None:
        fn = self._functions[lid]
        kwargs: dict[str, Any] = {
            "FunctionName": fn.name,
            "Runtime": fn.runtime,
            "Role": role_arn,
            "Handler": fn.handler,
            "Code": {"ZipFile": _dummy_zip()},
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
            uri = self._resolve(props["DefinitionUri"])
            if not isinstance(uri, str):
                raise EmulatorError(f"{lid}: only a local DefinitionUri file is supported")
            definition = (self.template_path.parent / uri).read_text(encoding="utf-8")
        elif "Definition" in props:
            definition = json.dumps(self._resolve(props["Definition"]), indent=2)
        elif "DefinitionString" in props:
            definition = self._resolve(props["DefinitionString"])
        else:
            raise EmulatorError(f"{lid}: no Definition/DefinitionUri")
        subs = props.get("DefinitionSubstitutions") or {}
        for key, value in subs.items():
            definition = definition.replace("${" + key + "}", _scalar_str(self._resolve(value)))
        left = sorted(set(_PLACEHOLDER_RE.findall(definition)))
        if left:
            raise EmulatorError(f"{lid}: placeholders with no DefinitionSubstitutions entry: {left}")
        definition = _moto_compatible_definition(definition)
        sm_type = self._resolve(props.get("Type", "STANDARD"))
        arn = self.client("stepfunctions").create_state_machine(
            name=self._name(lid),
            definition=definition,
            roleArn=role_arn,
            type=sm_type,
        )["stateMachineArn"]
        _check_same(arn, self._ref(lid), lid)

    # ------------------------------------------------------------------ functions & env

    def _build_functions(self) -> None:
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        for lid, res in self._active_resources():
            if res["Type"] in _LAYER_TYPES:
                content = self._resolve((res.get("Properties") or {}).get("ContentUri"))
                if isinstance(content, str):
                    self._layer_dirs.append((self.template_path.parent / content).resolve())
            if res["Type"] not in _SAM_FUNCTION:
                continue
            props = _merge_globals(globals_fn, res.get("Properties") or {})
            if props.get("PackageType", "Zip") != "Zip" or "InlineCode" in props:
                raise EmulatorError(f"{lid}: only Zip functions with a local CodeUri are supported")
            code_uri = self._resolve(props.get("CodeUri"))
            if not isinstance(code_uri, str):
                raise EmulatorError(f"{lid}: only a local CodeUri directory is supported")
            env_vars = self._resolve(((props.get("Environment") or {}).get("Variables")) or {})
            name = self._name(lid)
            self._functions[lid] = _Function(
                logical_id=lid,
                name=name,
                arn=self._getatt(lid, "Arn"),
                code_dir=(self.template_path.parent / code_uri).resolve(),
                handler=self._resolve(props.get("Handler")),
                runtime=self._resolve(props.get("Runtime", "python3.13")),
                timeout=int(self._resolve(props.get("Timeout", _LAMBDA_DEFAULT_TIMEOUT))),
                memory=int(self._resolve(props.get("MemorySize", _LAMBDA_DEFAULT_MEMORY))),
                environment={k: _scalar_str(v) for k, v in env_vars.items()},
                layers=[_scalar_str(x) for x in self._resolve(props.get("Layers") or [])],
                architectures=self._resolve(props.get("Architectures") or []),
            )
            self._functions_by_name[name] = lid

    def _process_environment(self) -> dict[str, str]:
        """The union of the functions' environments (conflicts are an error) + defaults."""
        self._build_functions()
        union: dict[str, str] = {}
        owner: dict[str, str] = {}
        for lid, fn in self._functions.items():
            for key, value in fn.environment.items():
                if key in union and union[key] != value:
                    raise EmulatorError(
                        f"environment variable {key} is {union[key]!r} in {owner[key]} but "
                        f"{value!r} in {lid}: the in-process emulator needs one value per variable"
                    )
                union[key] = value
                owner.setdefault(key, lid)
        union.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        union.setdefault("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE)
        return union

    # ------------------------------------------------------------------ intrinsics

    def _resolve_parameters(self) -> None:
        declared = self.template.get("Parameters") or {}
        unknown = set(self.parameter_overrides) - set(declared)
        if unknown:
            raise EmulatorError(f"unknown template parameters: {sorted(unknown)}")
        for name, spec in declared.items():
            if name in self.parameter_overrides:
                raw = self.parameter_overrides[name]
            elif "Default" in spec:
                raw = _scalar_str(spec["Default"])
            else:
                raise EmulatorError(f"parameter {name} has no Default: pass it in parameters=")
            _validate_parameter(name, spec, raw)
            typ = spec.get("Type", "String")
            if typ == "CommaDelimitedList" or typ.startswith("List<"):
                self._params[name] = [x.strip() for x in raw.split(",")] if raw else []
            else:
                self._params[name] = raw

    def _condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise EmulatorError(f"unknown condition {name}")
        if name in self._condition_stack:
            raise EmulatorError(f"circular condition {self._condition_stack + [name]}")
        self._condition_stack.append(name)
        try:
            value = self._eval_condition(conditions[name])
        finally:
            self._condition_stack.pop()
        self._conditions[name] = value
        return value

    def _eval_condition(self, expr: Any) -> bool:
        if not isinstance(expr, dict) or len(expr) != 1:
            raise EmulatorError(f"not a condition expression: {expr!r}")
        ((key, arg),) = expr.items()
        if key == "Condition":
            return self._condition(arg)
        if key == "Fn::Equals":
            left, right = (self._resolve(x) for x in arg)
            return _scalar_str(left) == _scalar_str(right)
        if key == "Fn::Not":
            return not self._eval_condition(arg[0])
        if key == "Fn::And":
            return all(self._eval_condition(x) for x in arg)
        if key == "Fn::Or":
            return any(self._eval_condition(x) for x in arg)
        raise EmulatorError(f"unsupported condition function {key}")

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = [self._resolve(v) for v in value]
            return [v for v in out if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        resolved = {k: self._resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            return self._getatt(arg[0], self._resolve(arg[1]))
        if key == "Fn::Sub":
            if isinstance(arg, list):
                template, variables = arg[0], self._resolve(arg[1])
            else:
                template, variables = arg, {}
            return self._sub(template, variables)
        if key == "Fn::If":
            cond, when_true, when_false = arg
            return self._resolve(when_true if self._condition(cond) else when_false)
        if key == "Fn::Join":
            sep, items = arg
            return self._resolve(sep).join(_scalar_str(x) for x in self._resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self._resolve(items)[int(self._resolve(index))]
        if key == "Fn::Split":
            sep, text = arg
            return self._resolve(text).split(self._resolve(sep))
        if key == "Fn::FindInMap":
            m, k1, k2 = (self._resolve(x) for x in arg[:3])
            return self.template["Mappings"][m][k1][k2]
        if key == "Fn::GetAZs":
            return [f"{self.region}{s}" for s in "abc"]
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._eval_condition({key: arg})
        raise EmulatorError(f"unsupported intrinsic function {key}")

    def _sub(self, template: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return _scalar_str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                lid, attr = expr.split(".", 1)
                return _scalar_str(self._getatt(lid, attr))
            return _scalar_str(self._ref(expr))

        return _SUB_RE.sub(replace, template)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:"
            f"{self.account_id}:stack/{self.stack_name}/"
            f"{uuid.uuid5(uuid.NAMESPACE_DNS, self.stack_name)}",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._params:
            return self._params[name]
        res = self._resource(name)
        typ = res["Type"]
        if typ == "AWS::SNS::Topic":
            return self._getatt(name, "TopicArn")
        if typ in _SM_TYPES:
            return self._getatt(name, "Arn")
        if typ in _LAYER_TYPES:
            return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:layer:{self._name(name)}:1"
        if typ == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self._name(name)}"
        return self._name(name)

    def _getatt(self, lid: str, attr: str) -> str:
        res = self._resource(lid)
        typ, name = res["Type"], self._name(lid)
        p, r, a = self.partition, self.region, self.account_id
        arns = {
            "AWS::Serverless::Function": f"arn:{p}:lambda:{r}:{a}:function:{name}",
            "AWS::Lambda::Function": f"arn:{p}:lambda:{r}:{a}:function:{name}",
            "AWS::S3::Bucket": f"arn:{p}:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:{p}:dynamodb:{r}:{a}:table/{name}",
            "AWS::SNS::Topic": f"arn:{p}:sns:{r}:{a}:{name}",
            "AWS::SQS::Queue": f"arn:{p}:sqs:{r}:{a}:{name}",
            "AWS::Serverless::StateMachine": f"arn:{p}:states:{r}:{a}:stateMachine:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:{p}:states:{r}:{a}:stateMachine:{name}",
            "AWS::Logs::LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{name}:*",
            "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{name}",
            "AWS::Events::Rule": f"arn:{p}:events:{r}:{a}:rule/{name}",
            "AWS::KMS::Key": f"arn:{p}:kms:{r}:{a}:key/{name}",
            "AWS::CloudWatch::Alarm": f"arn:{p}:cloudwatch:{r}:{a}:alarm:{name}",
        }
        if attr == "Arn" and typ in arns:
            return arns[typ]
        extra = {
            ("AWS::SNS::Topic", "TopicArn"): arns["AWS::SNS::Topic"],
            ("AWS::SNS::Topic", "TopicName"): name,
            ("AWS::Serverless::StateMachine", "Name"): name,
            ("AWS::StepFunctions::StateMachine", "Name"): name,
            ("AWS::S3::Bucket", "DomainName"): f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "RegionalDomainName"): f"{name}.s3.{r}.amazonaws.com",
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::SQS::Queue", "QueueUrl"): f"https://sqs.{r}.amazonaws.com/{a}/{name}",
        }
        if (typ, attr) in extra:
            return extra[(typ, attr)]
        raise EmulatorError(f"Fn::GetAtt {lid}.{attr} is not supported for {typ}")

    def _resource(self, lid: str) -> dict:
        res = self.template["Resources"].get(lid)
        if res is None:
            raise EmulatorError(f"unknown parameter or resource {lid!r}")
        if "Condition" in res and not self._condition(res["Condition"]):
            raise EmulatorError(f"{lid} is referenced but not created (Condition {res['Condition']} is false)")
        return res

    def _name(self, lid: str) -> str:
        """Physical name: the name property if set, else the name CloudFormation generates
        (stack-LogicalId-SUFFIX, deterministic here)."""
        if lid in self._names:
            return self._names[lid]
        if lid in self._name_stack:
            raise EmulatorError(f"circular name reference {self._name_stack + [lid]}")
        res = self._resource(lid)
        prop, max_len, lower = _NAME_PROPS.get(res["Type"], (None, 128, False))
        props = res.get("Properties") or {}
        self._name_stack.append(lid)
        try:
            given = self._resolve(props[prop]) if prop and prop in props else _NO_VALUE
        finally:
            self._name_stack.pop()
        if given is _NO_VALUE:
            suffix = hashlib.sha256(f"{self.stack_name}/{lid}".encode()).hexdigest()[:12]
            base = f"{self.stack_name}-{lid}"[: max_len - len(suffix) - 1]
            given = f"{base}-{suffix}" if lower else f"{base}-{suffix.upper()}"
            if lower:
                given = given.lower()
        self._names[lid] = str(given)
        return self._names[lid]


# ============================================================================ helpers


class _MarshalError(Exception):
    pass


class _RuntimeError(EmulatorError):
    """The Lambda runtime could not run the handler (``Runtime.ImportModuleError``,
    ``Runtime.HandlerNotFound``): raised by ``invoke``, returned as such by the dispatch."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def _to_json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise _MarshalError(str(exc)) from exc


def _error_payload(error_type: str, message: str, request_id: str, exc: BaseException | None = None) -> str:
    stack = (
        traceback.format_list(traceback.extract_tb(exc.__traceback__))
        if exc is not None and exc.__traceback__ is not None
        else []
    )
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": stack,
        }
    )


def _enforce_tolerated_failures(env: Any, record: Any) -> None:
    """AWS fails a Distributed Map run whose failed items exceed ToleratedFailureCount or
    ToleratedFailurePercentage (both default 0); moto 5.2.5 counts them and carries on."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    counts = record.item_counter
    total = counts.total.get()
    failed = counts.failed.get() + counts.timed_out.get()
    # moto stores an absent threshold as 0: a non-zero one is a declared one.
    checks = []
    if record.tolerated_failure_count:
        checks.append(failed > record.tolerated_failure_count)
    if record.tolerated_failure_percentage:
        checks.append(total > 0 and 100.0 * failed / total > record.tolerated_failure_percentage)
    if not (any(checks) if checks else failed > 0):
        return
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]  # moto's TypedDict is total; AWS sends one key
                mapRunFailedEventDetails=MapRunFailedEventDetails(
                    error=error_name.error_name,
                    cause="The specified tolerated failure threshold was exceeded",
                )
            ),
        )
    )


_VARIABLE_REF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)(.*)", re.S)


def _sample_jsonpath_variable(sample: Any, env: Any) -> bool:
    """``$name`` / ``$name.path`` in a JSONPath state (``"x.$": "$failed_phase"``, intrinsic
    function arguments, Choice ``...Path`` values). moto 5.2.5 evaluates every variable
    sample through JSONata, whose engine is not bundled (``TypeError: 'NoneType' object is
    not callable`` -> States.Runtime). Resolved here from the variable store; JSONata states
    are left to moto. Returns False when not handled."""
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    if sample.query_language_mode != QueryLanguageMode.JSONPath:
        return False
    match = _VARIABLE_REF_RE.fullmatch(sample.expression.strip())
    if match is None:
        return False
    value = env.variable_store.get(match.group(1))
    if match.group(2):
        value = extract_json("$" + match.group(2), value)
    env.stack.append(copy.deepcopy(value))
    return True


def _fail_state_error_name(error_name: str | None) -> Any:
    """Error name of a Fail state. moto 5.2.5 builds a ``CustomErrorName``, which rejects
    ``States.*``: a Fail state re-raising a caught ``States.Runtime`` /
    ``States.ExceedToleratedFailureThreshold``... through ``ErrorPath`` then dies with
    ``ValueError`` (reported as States.Runtime). AWS fails the execution with that error."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName

    class FailStateErrorName(ErrorName):
        pass

    return FailStateErrorName(error_name=error_name)


def _choice_comparison(comparison: Any, env: Any) -> None:
    """Choice rule ``{"Variable": path, <operator>: ...}``. On AWS a path missing from the
    input fails the execution (States.Runtime) except for ``IsPresent``/``Is*`` tests; moto
    5.2.5 evaluates the rule to false and silently takes another branch or the Default."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import (
        NoSuchVariable,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    comparison.variable.eval(env)
    operator = comparison.comparison_function.operator_type
    if isinstance(env.stack[-1], NoSuchVariable) and not operator.name.startswith("Is"):
        path = comparison.variable.string_sampler.literal_value
        cause = f"Invalid path '{path}': The choice state's condition path references an invalid value."
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(  # type: ignore[typeddict-item]  # moto's TypedDict is total
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=StatesErrorNameType.StatesRuntime.to_name(), cause=cause
                    )
                ),
            )
        )
    comparison.comparison_function.eval(env)


def _moto_compatible_definition(definition: str) -> str:
    """moto 5.2.5's ASL grammar takes ``ToleratedFailurePercentage`` only as a NUMBER token
    with a fraction (``0`` lexes as INT: "no viable alternative"), while AWS accepts any
    number. Such integers become floats (same value); the text is otherwise untouched."""
    try:
        doc = json.loads(definition)
    except ValueError:
        return definition
    changed = False

    def walk(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            value = node.get("ToleratedFailurePercentage")
            if isinstance(value, int) and not isinstance(value, bool):
                node["ToleratedFailurePercentage"] = float(value)
                changed = True
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(doc)
    return json.dumps(doc, indent=2) if changed else definition


def _merge_globals(globals_fn: dict, props: dict) -> dict:
    """SAM Globals: maps are merged, lists are concatenated (globals first), scalars are
    overridden by the resource (Architectures, a list, is overridden too)."""
    merged = copy.deepcopy(globals_fn)
    for key, value in props.items():
        if (
            key in merged
            and isinstance(merged[key], dict)
            and isinstance(value, dict)
            and not any(k == "Ref" or k.startswith("Fn::") for k in value)
        ):
            merged[key] = _merge_globals(merged[key], value)
        elif key in merged and isinstance(merged[key], list) and isinstance(value, list) and key != "Architectures":
            merged[key] = merged[key] + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _validate_parameter(name: str, spec: dict, raw: str) -> None:
    if "AllowedValues" in spec and raw not in [_scalar_str(v) for v in spec["AllowedValues"]]:
        raise EmulatorError(f"parameter {name}={raw!r} not in AllowedValues")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], raw):
        raise EmulatorError(f"parameter {name}={raw!r} does not match {spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        try:
            number = float(raw)
        except ValueError:
            raise EmulatorError(f"parameter {name}={raw!r} is not a Number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise EmulatorError(f"parameter {name}={raw} < MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise EmulatorError(f"parameter {name}={raw} > MaxValue {spec['MaxValue']}")


def _scalar_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        raise EmulatorError(f"expected a scalar, got {value!r}")
    return str(value)


def _throughput(spec: dict | None) -> dict:
    spec = spec or {}
    return {
        "ReadCapacityUnits": int(spec.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(spec.get("WriteCapacityUnits", 5)),
    }


def _check_same(actual: str, expected: str, lid: str) -> None:
    if actual != expected:
        raise EmulatorError(f"{lid}: moto created {actual} but the template resolves to {expected}")


def _remove_path(entry: str) -> None:
    try:
        sys.path.remove(entry)
    except ValueError:
        pass


def _prune_dead_threads() -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    TMP_THREADS[:] = [t for t in TMP_THREADS if t.is_alive()]


_DUMMY_ZIP: bytes | None = None


def _dummy_zip() -> bytes:
    global _DUMMY_ZIP
    if _DUMMY_ZIP is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        _DUMMY_ZIP = buf.getvalue()
    return _DUMMY_ZIP
