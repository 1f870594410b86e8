"""EventBridge for the emulator: Step Functions status changes and S3 object events through the template's rules.

moto neither emits Step Functions events nor delivers EventBridge targets to SNS. When an execution of a
deployed state machine ends FAILED, TIMED_OUT or ABORTED (the statuses a Catch cannot see: an abort, a
timeout, States.Runtime, States.DataLimitExceeded), ``ExecutionEvents.execution_ended`` builds the event
as AWS sends it, matches it against every ``AWS::Events::Rule`` of the template (moto's event-pattern
matcher, on the rules deployed into moto's EventBridge), renders the target's ``InputTransformer`` and
publishes the result to the target topic. Delivery is refused, as AWS refuses it (the rule's
``FailedInvocations`` metric, no message), when the topic policy does not allow ``events.amazonaws.com``
to ``sns:Publish`` for that rule (``aws:SourceArn``), when the topic is encrypted with the AWS managed
key ``alias/aws/sns``, whose key policy cannot grant EventBridge, or when the topic's key (one the template
creates) has no key-policy statement letting ``events.amazonaws.com`` use it for that rule and account
(``aws:SourceArn``, ``aws:SourceAccount``; docs/alerts.md, docs/kms.md). Refusals are kept in
``failed_invocations``.

S3 "Object Created" / "Object Deleted" events (warm standby, docs/standby.md): moto builds them only for a
bucket whose notification configuration has ``EventBridgeConfiguration`` (as AWS sends them only then) and
delivers them to every rule's targets itself, with a numeric ``time``, ``eTag`` and the notification's
event name as ``reason``, and without looking at any resource policy. ``ExecutionEvents.object_event``
replaces that (``moto.s3.notifications._send_event_bridge_message``): the event as S3 sends it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), through the template's rules.

Targets: SNS topics (above) and Lambda functions. A Lambda target is invoked (in-process, at once, in the
thread that caused the event: the emulation's stand-in for EventBridge's asynchronous invocation) only when
an ``AWS::Lambda::Permission`` of the template lets ``events.amazonaws.com`` invoke that function for that
rule (``SourceArn``); otherwise the delivery is refused as AWS refuses it (``failed_invocations``). A
handler error is kept in ``lambda_errors`` (Lambda would retry an asynchronous event twice, then drop it).

What reaches these rules depends on a Step Functions correction in ``stepfunctions.py``: on AWS a Retry
or Catch on ``States.ALL`` does not match ``States.Runtime`` or ``States.DataLimitExceeded`` (the
execution fails); moto 5.2.5 matches every error.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tools.emulation.extensions import Extension

if TYPE_CHECKING:
    from tools.emulation.stack import RestoreStack

LOG = logging.getLogger(__name__)

DETAIL_TYPE = "Step Functions Execution Status Change"
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


@dataclass
class ExecutionEvents:
    """The template's EventBridge rules, deployed into moto and evaluated for each ended execution."""

    stack: RestoreStack
    rules: dict[str, str] = field(default_factory=dict)  # rule name -> rule ARN
    topic_policies: dict[str, list[dict]] = field(default_factory=dict)  # topic ARN -> statements
    topic_keys: dict[str, str] = field(default_factory=dict)  # topic ARN -> KmsMasterKeyId
    key_policies: dict[str, list[dict]] = field(default_factory=dict)  # key id / ARN -> statements (template keys)
    redriven_from: dict[str, str] = field(default_factory=dict)  # redrive state machine ARN -> original
    lambda_permissions: list[dict[str, Any]] = field(default_factory=list)  # AWS::Lambda::Permission properties
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failed_invocations: list[dict[str, Any]] = field(default_factory=list)
    lambda_errors: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ deployment

    def deploy(self) -> None:
        events = self.stack.client("events")
        for lid, res in self.stack.cfn.active_resources():
            props = self.stack.cfn.resolve(res.get("Properties") or {})
            if res["Type"] == "AWS::SNS::Topic":
                self.topic_keys[self.stack.cfn.ref(lid)] = str(props.get("KmsMasterKeyId") or "")
            elif res["Type"] == "AWS::KMS::Key":
                statements = (props.get("KeyPolicy") or {}).get("Statement") or []
                statements = statements if isinstance(statements, list) else [statements]
                self.key_policies[self.stack.cfn.ref(lid)] = statements
                self.key_policies[self.stack.cfn.getatt(lid, "Arn")] = statements
            elif res["Type"] == "AWS::Lambda::Permission":
                self.lambda_permissions.append(props)
            elif res["Type"] == "AWS::SNS::TopicPolicy":
                statements = (props.get("PolicyDocument") or {}).get("Statement") or []
                for topic in props.get("Topics") or []:
                    self.topic_policies.setdefault(topic, []).extend(
                        statements if isinstance(statements, list) else [statements]
                    )
        for lid, res in self.stack.cfn.active_resources():
            if res["Type"] != "AWS::Events::Rule":
                continue
            props = self.stack.cfn.resolve(res.get("Properties") or {})
            if props.get("EventBusName", "default") != "default":
                raise NotImplementedError(f"{lid}: only the default event bus is emulated")
            name = self.stack.cfn.name(lid)
            arn = events.put_rule(
                Name=name,
                EventPattern=json.dumps(props["EventPattern"]),
                State=props.get("State", "ENABLED"),
                Description=props.get("Description", ""),
            )["RuleArn"]
            if arn != self.stack.cfn.getatt(lid, "Arn"):
                raise RuntimeError(
                    f"{lid}: moto created {arn}, the template resolves to {self.stack.cfn.getatt(lid, 'Arn')}"
                )
            targets = props.get("Targets") or []
            if targets:
                response = events.put_targets(Rule=name, Targets=targets)
                if response.get("FailedEntryCount"):
                    raise RuntimeError(f"{lid}: targets refused: {response['FailedEntries']}")
            self.rules[name] = arn

    # ------------------------------------------------------------------ the event

    def execution_ended(self, execution_arn: str) -> None:
        """Called by the emulator once an execution has ended (from its interpreter thread)."""
        sfn = self.stack.client("stepfunctions")
        self.publish(self.status_change_event(sfn.describe_execution(executionArn=execution_arn)))

    def status_change_event(self, described: dict[str, Any]) -> dict[str, Any]:
        machine = self.redriven_from.get(described["stateMachineArn"], described["stateMachineArn"])
        name = described["name"]
        redrive_count = int(self.stack.sfn.redrive_counts.get(name, 0))
        if redrive_count:  # AWS redrives under the same execution ARN and name
            name = name.split("-redrive-")[0]
        stop = described.get("stopDate") or datetime.now(UTC)
        execution_arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": DETAIL_TYPE,
            "source": "aws.states",
            "account": self.stack.account_id,
            "time": stop.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.stack.region,
            "resources": [execution_arn],
            "detail": {
                "executionArn": execution_arn,
                "stateMachineArn": machine,
                "name": name,
                "status": described["status"],
                "startDate": int(described["startDate"].timestamp() * 1000),
                "stopDate": int(stop.timestamp() * 1000),
                "input": described.get("input"),
                "output": described.get("output"),
                "inputDetails": {"included": True},
                "outputDetails": {"included": True} if described.get("output") is not None else None,
                "error": described.get("error"),
                "cause": described.get("cause"),
                "redriveCount": redrive_count,
            },
        }

    def publish(self, event: dict[str, Any]) -> None:
        from moto.events.models import events_backends

        backend = events_backends[self.stack.account_id][self.stack.region]
        for name, rule_arn in self.rules.items():
            rule = backend.describe_rule(name, None)
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):  # type: ignore[arg-type]  # moto's TypedDict of the same shape
                continue
            for target in rule.targets:
                self._deliver(rule_arn, target, event)

    # ------------------------------------------------------------------ delivery

    def _deliver(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = target["Arn"]
        if ":lambda:" in arn:
            self._invoke(rule_arn, target, event)
            return
        if ":sns:" not in arn:
            raise NotImplementedError(f"EventBridge target {arn}: only SNS topics and Lambda functions are emulated")
        message = render_input(target, event)
        refusal = self._refusal(rule_arn, arn)
        if refusal:
            self.failed_invocations.append({"rule": rule_arn, "target": arn, "reason": refusal})
            return
        try:
            self.stack.client("sns").publish(TopicArn=arn, Message=message)  # EventBridge sets no Subject
        except Exception as error:  # noqa: BLE001 - SNS down: AWS retries for up to 24 h, then drops it
            self.failed_invocations.append({"rule": rule_arn, "target": arn, "reason": f"SNS refused: {error}"})
            return
        self.delivered.append({"rule": rule_arn, "target": arn, "message": message})

    def _invoke(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = target["Arn"]
        if not any(self._permits(p, rule_arn, arn) for p in self.lambda_permissions):
            self.failed_invocations.append(
                {
                    "rule": rule_arn,
                    "target": arn,
                    "reason": "no resource-based policy lets events.amazonaws.com invoke the function for this rule",
                }
            )
            return
        name = arn.split(":function:", 1)[1].split(":", 1)[0]
        payload, errored, _ = self.stack.lambda_runtime.dispatch(name, json.loads(render_input(target, event)))
        if errored:
            self.lambda_errors.append({"rule": rule_arn, "target": arn, "error": json.loads(payload)})
            return
        self.delivered.append({"rule": rule_arn, "target": arn, "message": json.dumps(event)})

    def _permits(self, permission: dict[str, Any], rule_arn: str, function_arn: str) -> bool:
        """An AWS::Lambda::Permission allowing EventBridge to invoke this function for this rule."""
        function = str(permission.get("FunctionName", ""))
        named = function in (function_arn, function_arn.split(":function:", 1)[1])
        source = permission.get("SourceArn")
        account = permission.get("SourceAccount")
        return (
            named
            and permission.get("Action") in ("lambda:InvokeFunction", "lambda:*")
            and permission.get("Principal") == "events.amazonaws.com"
            and (source is None or source == rule_arn)
            and (account is None or account == self.stack.account_id)
        )

    # ------------------------------------------------------------------ S3 object events

    def object_event(self, bucket: Any, event_name: str, key: Any) -> None:
        """moto's S3 notification for a bucket with EventBridge notifications on, as S3 sends it."""
        kind, _, action = event_name.removeprefix("s3:").partition(":")
        reasons = {
            ("ObjectCreated", "Put"): "PutObject",
            ("ObjectCreated", "Post"): "POST Object",
            ("ObjectCreated", "Copy"): "CopyObject",
            ("ObjectCreated", "CompleteMultipartUpload"): "CompleteMultipartUpload",
            ("ObjectRemoved", "Delete"): "DeleteObject",
            ("ObjectRemoved", "DeleteMarkerCreated"): "DeleteObject",
        }
        reason = reasons.get((kind, action))
        if reason is None:
            return  # other S3 event types: no rule of the template selects them (not emulated)
        obj: dict[str, Any] = {"key": key.name, "sequencer": f"{uuid.uuid4().int % 10**18:018X}"}
        if kind == "ObjectCreated":
            obj = {"key": key.name, "size": key.size, "etag": key.etag.strip('"'), **obj}
        if getattr(key, "version_id", None) and key.version_id != "null":
            obj["version-id"] = key.version_id
        self.publish(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Object Created" if kind == "ObjectCreated" else "Object Deleted",
                "source": "aws.s3",
                "account": self.stack.account_id,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": bucket.region_name,
                "resources": [f"arn:{self.stack.partition}:s3:::{bucket.name}"],
                "detail": {
                    "version": "0",
                    "bucket": {"name": bucket.name},
                    "object": obj,
                    "request-id": uuid.uuid4().hex[:16].upper(),
                    "requester": self.stack.account_id,
                    "source-ip-address": "192.0.2.1",
                    "reason": reason,
                },
            }
        )

    def _refusal(self, rule_arn: str, topic_arn: str) -> str | None:
        if self.topic_keys.get(topic_arn) == "alias/aws/sns":
            return "the topic is encrypted with the AWS managed key aws/sns, which EventBridge cannot use"
        if not any(_allows_eventbridge(s, rule_arn, topic_arn) for s in self.topic_policies.get(topic_arn, [])):
            return "the topic policy does not allow events.amazonaws.com to publish for this rule"
        key = self.topic_keys.get(topic_arn, "")
        context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": self.stack.account_id}
        # A key from outside the template (KmsKeyArn): its policy is the operator's (docs/kms.md).
        if key in self.key_policies and not any(_allows_key_use(s, context) for s in self.key_policies[key]):
            return "the topic's key policy does not let events.amazonaws.com use the key for this rule"
        return None


def _allows_key_use(statement: dict[str, Any], context: dict[str, str]) -> bool:
    """SNS calls GenerateDataKey and Decrypt for EventBridge: both must be allowed to events.amazonaws.com,
    under conditions that hold for this rule and account (only the ones evaluated here; others refuse)."""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal") or {}
    services = principal.get("Service") if isinstance(principal, dict) else None
    if "events.amazonaws.com" not in (services if isinstance(services, list) else [services]):
        return False
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    needed = ("kms:GenerateDataKey", "kms:Decrypt")
    if not all(any(re.fullmatch(re.escape(a).replace(r"\*", ".*"), n) for a in actions) for n in needed):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, expected in conditions.items():
            actual = context.get(key.lower())
            if actual is None or operator not in ("ArnEquals", "StringEquals", "ArnLike", "StringLike"):
                return False  # a condition this emulation cannot evaluate: refuse rather than guess
            values = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            if operator.endswith("Like"):
                matched = any(re.fullmatch(re.escape(v).replace(r"\*", ".*"), actual) for v in values)
            else:
                matched = actual in values
            if not matched:
                return False
    return True


def _allows_eventbridge(statement: dict[str, Any], rule_arn: str, topic_arn: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal") or {}
    services = principal.get("Service") if isinstance(principal, dict) else None
    if "events.amazonaws.com" not in (services if isinstance(services, list) else [services]):
        return False
    actions = statement.get("Action")
    if not set(actions if isinstance(actions, list) else [actions]) & {"sns:Publish", "sns:*", "*"}:
        return False
    resources = statement.get("Resource")
    if not set(resources if isinstance(resources, list) else [resources]) & {topic_arn, "*"}:
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, expected in conditions.items():
            if key.lower() != "aws:sourcearn" or operator not in ("ArnEquals", "StringEquals", "ArnLike", "StringLike"):
                return False  # a condition this emulation cannot evaluate: refuse rather than guess
            values = expected if isinstance(expected, list) else [expected]
            if operator.endswith("Like"):
                matched = any(re.fullmatch(re.escape(v).replace(r"\*", ".*"), rule_arn) for v in values)
            else:
                matched = rule_arn in values
            if not matched:
                return False
    return True


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def render_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The InputTransformer: each <name> of InputTemplate replaced by its InputPathsMap value (a string as
    is inside a quoted template, anything else as JSON; a missing path gives null). No transformer: the
    whole event. The result must be valid JSON, as EventBridge requires."""
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(target["Input"]) if "Input" in target else json.dumps(event)
    values = {name: _path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    template = transformer["InputTemplate"]

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return json.dumps(value)[1:-1] if isinstance(value, str) else json.dumps(value)

    rendered = _PLACEHOLDER.sub(value_of, template)
    json.loads(rendered)  # ValueError: EventBridge would refuse the template
    return rendered


class EventBridgeExtension(Extension):
    """The template's EventBridge rules as a ``RestoreStack`` extension: ``stack.execution_events``
    is the ``ExecutionEvents`` of the deployment."""

    def __init__(self) -> None:
        self.stack: RestoreStack | None = None
        self._undo: list[Any] = []

    def start(self, stack: RestoreStack) -> None:
        from unittest import mock

        from moto.s3 import notifications

        self.stack = stack
        extension = self

        def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
            # Called by moto only when the bucket has EventBridge notifications on (as on AWS).
            events = extension.stack.execution_events if extension.stack is not None else None
            if events is None or not extension.stack.active:  # type: ignore[union-attr]  # checked just above
                return
            events.object_event(bucket, event_name, key)

        patch = mock.patch.object(notifications, "_send_event_bridge_message", send_event_bridge_message)
        patch.start()
        self._undo.append(patch.stop)

    def deployed(self, stack: RestoreStack) -> None:
        stack.execution_events = ExecutionEvents(stack)
        stack.execution_events.deploy()

    def execution_ended(self, execution_arn: str) -> None:
        stack = self.stack
        if stack is None or stack.execution_events is None or not stack.active:
            return
        try:
            stack.execution_events.execution_ended(execution_arn)
        except Exception:
            LOG.exception("execution status change event of %s not delivered", execution_arn)
            raise

    def redriven(self, failed_state_machine_arn: str, redriven_state_machine_arn: str) -> None:
        # The status change events of a redriven execution name the original state machine.
        events = self.stack.execution_events if self.stack is not None else None
        if events is not None:
            events.redriven_from[redriven_state_machine_arn] = events.redriven_from.get(
                failed_state_machine_arn, failed_state_machine_arn
            )

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()
        self.stack = None
