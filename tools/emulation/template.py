"""The SAM/CloudFormation template: loaded, its parameters, conditions and intrinsics resolved.

``load_template`` reads the file with cfn-lint's decoder (``cfnlint.decode``: the short intrinsic
tags ``!Ref``, ``!GetAtt``, ``!Sub``... become their long form; a template cfn-lint cannot decode is a
wiring error). ``Template`` resolves it the way CloudFormation would for one deployment (Region,
account, stack name, parameter overrides): ``resolve`` (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
``Fn::If``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, ``Fn::GetAZs``, the
condition functions, ``AWS::NoValue``), ``condition``, ``ref``, ``getatt`` and ``name`` (the physical
name: the name property if set, else ``<stack>-<LogicalId>-<SUFFIX>``, deterministic).
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.emulation.errors import EmulatorError

NO_VALUE = object()  # AWS::NoValue: dropped from the list or mapping that holds it
_SUB_RE = re.compile(r"\$\{([^}]*)\}")

SAM_FUNCTION = ("AWS::Serverless::Function",)
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
SM_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
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


def load_template(path: Path) -> dict[str, Any]:
    """Load a SAM/CloudFormation YAML (or JSON) template with cfn-lint's decoder."""
    # Imported here: cfn-lint takes seconds to import. It ships no type information.
    from cfnlint.decode import decode  # type: ignore[import-untyped]

    data, matches = decode(str(path))
    if matches:
        raise EmulatorError(f"{path}: cfn-lint cannot decode it: " + "; ".join(m.message for m in matches))
    if not isinstance(data, dict) or "Resources" not in data:
        raise EmulatorError(f"{path}: not a CloudFormation template (no Resources)")
    return data


class Template:
    """One deployment of a template: parameters, conditions, names, intrinsics (see module doc)."""

    def __init__(
        self,
        doc: dict[str, Any],
        *,
        region: str,
        account_id: str,
        partition: str,
        stack_name: str,
        parameters: dict[str, str],
    ):
        self.doc = doc
        self.region = region
        self.account_id = account_id
        self.partition = partition
        self.stack_name = stack_name
        self.parameter_overrides = parameters
        self._params: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        self._condition_stack: list[str] = []
        self._names: dict[str, str] = {}
        self._name_stack: list[str] = []
        self._resolve_parameters()

    def active_resources(self) -> Iterator[tuple[str, dict]]:
        """(logical id, resource) of the resources this deployment creates (Conditions applied)."""
        for lid, res in self.doc["Resources"].items():
            if "Condition" in res and not self.condition(res["Condition"]):
                continue
            yield lid, res

    def _resolve_parameters(self) -> None:
        declared = self.doc.get("Parameters") or {}
        unknown = set(self.parameter_overrides) - set(declared)
        if unknown:
            raise EmulatorError(f"unknown template parameters: {sorted(unknown)}")
        for name, spec in declared.items():
            if name in self.parameter_overrides:
                raw = self.parameter_overrides[name]
            elif "Default" in spec:
                raw = scalar_str(spec["Default"])
            else:
                raise EmulatorError(f"parameter {name} has no Default: pass it in parameters=")
            _validate_parameter(name, spec, raw)
            typ = spec.get("Type", "String")
            if typ == "CommaDelimitedList" or typ.startswith("List<"):
                self._params[name] = [x.strip() for x in raw.split(",")] if raw else []
            else:
                self._params[name] = raw

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.doc.get("Conditions") or {}
        if name not in conditions:
            raise EmulatorError(f"unknown condition {name}")
        if name in self._condition_stack:
            raise EmulatorError(f"circular condition {[*self._condition_stack, name]}")
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
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(x) for x in arg)
            return scalar_str(left) == scalar_str(right)
        if key == "Fn::Not":
            return not self._eval_condition(arg[0])
        if key == "Fn::And":
            return all(self._eval_condition(x) for x in arg)
        if key == "Fn::Or":
            return any(self._eval_condition(x) for x in arg)
        raise EmulatorError(f"unsupported condition function {key}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = [self.resolve(v) for v in value]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            return self.getatt(arg[0], self.resolve(arg[1]))
        if key == "Fn::Sub":
            if isinstance(arg, list):
                template, variables = arg[0], self.resolve(arg[1])
            else:
                template, variables = arg, {}
            return self._sub(template, variables)
        if key == "Fn::If":
            cond, when_true, when_false = arg
            return self.resolve(when_true if self.condition(cond) else when_false)
        if key == "Fn::Join":
            sep, items = arg
            return self.resolve(sep).join(scalar_str(x) for x in self.resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            sep, text = arg
            return self.resolve(text).split(self.resolve(sep))
        if key == "Fn::FindInMap":
            m, k1, k2 = (self.resolve(x) for x in arg[:3])
            return self.doc["Mappings"][m][k1][k2]
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
                return scalar_str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                lid, attr = expr.split(".", 1)
                return scalar_str(self.getatt(lid, attr))
            return scalar_str(self.ref(expr))

        return _SUB_RE.sub(replace, template)

    def ref(self, name: str) -> Any:
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
            return NO_VALUE
        if name in self._params:
            return self._params[name]
        res = self.resource(name)
        typ = res["Type"]
        if typ == "AWS::SNS::Topic":
            return self.getatt(name, "TopicArn")
        if typ in SM_TYPES:
            return self.getatt(name, "Arn")
        if typ in LAYER_TYPES:
            return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:layer:{self.name(name)}:1"
        if typ == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.name(name)}"
        return self.name(name)

    def getatt(self, lid: str, attr: str) -> str:
        res = self.resource(lid)
        typ, name = res["Type"], self.name(lid)
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

    def resource(self, lid: str) -> dict:
        res = self.doc["Resources"].get(lid)
        if res is None:
            raise EmulatorError(f"unknown parameter or resource {lid!r}")
        if "Condition" in res and not self.condition(res["Condition"]):
            raise EmulatorError(f"{lid} is referenced but not created (Condition {res['Condition']} is false)")
        return res

    def name(self, lid: str) -> str:
        """Physical name: the name property if set, else the name CloudFormation generates
        (stack-LogicalId-SUFFIX, deterministic here)."""
        if lid in self._names:
            return self._names[lid]
        if lid in self._name_stack:
            raise EmulatorError(f"circular name reference {[*self._name_stack, lid]}")
        res = self.resource(lid)
        prop, max_len, lower = _NAME_PROPS.get(res["Type"], (None, 128, False))
        props = res.get("Properties") or {}
        self._name_stack.append(lid)
        try:
            given = self.resolve(props[prop]) if prop and prop in props else NO_VALUE
        finally:
            self._name_stack.pop()
        if given is NO_VALUE:
            suffix = hashlib.sha256(f"{self.stack_name}/{lid}".encode()).hexdigest()[:12]
            base = f"{self.stack_name}-{lid}"[: max_len - len(suffix) - 1]
            given = f"{base}-{suffix}" if lower else f"{base}-{suffix.upper()}"
            if lower:
                given = given.lower()
        self._names[lid] = str(given)
        return self._names[lid]


def merge_globals(globals_fn: dict, props: dict) -> dict:
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
            merged[key] = merge_globals(merged[key], value)
        elif key in merged and isinstance(merged[key], list) and isinstance(value, list) and key != "Architectures":
            merged[key] = merged[key] + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _validate_parameter(name: str, spec: dict, raw: str) -> None:
    if "AllowedValues" in spec and raw not in [scalar_str(v) for v in spec["AllowedValues"]]:
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


def scalar_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        raise EmulatorError(f"expected a scalar, got {value!r}")
    return str(value)
