"""Tests of the embedded AWS emulation (tools/emulator.py) itself.

Everything runs against a tiny stack of its own, written to a temporary directory with the
conventions of the real template.yaml (Globals with Layers/Environment, a LayerVersion with
ContentUri, functions with CodeUri dirs holding app.py, a conditional bucket, a topic, a table,
a state machine with DefinitionUri + DefinitionSubstitutions), so these tests do not depend on
the real handlers.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tools.emulator import EmulatorError, LambdaCrash, RestoreStack

ACCOUNT = "123456789012"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: tiny stack for the emulator tests

Parameters:
  Environment:
    Type: String
    Default: test
    AllowedPattern: "[a-z0-9-]{1,20}"
  BackupBucketName:
    Type: String
    Default: ""
  Concurrency:
    Type: Number
    Default: 3
    MinValue: 1
    MaxValue: 10

Conditions:
  CreateBackupBucket: !Equals [!Ref BackupBucketName, ""]
  UseExistingBucket: !Not [!Condition CreateBackupBucket]
  IsProdWithExisting: !And [!Equals [!Ref Environment, prod], !Condition UseExistingBucket]
  IsTestOrProd: !Or [!Equals [!Ref Environment, test], !Equals [!Ref Environment, prod]]

Globals:
  Function:
    Runtime: python3.13
    Architectures: [arm64]
    Timeout: 120
    MemorySize: 256
    Tracing: Active
    Layers: [!Ref CommonLayer]
    Environment:
      Variables:
        ENVIRONMENT: !Ref Environment
        POWERTOOLS_SERVICE_NAME: tiny
        WORK_BUCKET: !Ref WorkBucket
        LEDGER_TABLE: !Ref LedgerTable

Resources:
  BackupBucket:
    Type: AWS::S3::Bucket
    Condition: CreateBackupBucket
    Properties:
      BucketName: !Sub tiny-backup-${Environment}-${AWS::AccountId}
      VersioningConfiguration: { Status: Enabled }

  BackupBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Condition: CreateBackupBucket
    Properties:
      Bucket: !Ref BackupBucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!GetAtt BackupBucket.Arn, !Sub "${BackupBucket.Arn}/*"]
            Condition: { Bool: { aws:SecureTransport: "false" } }

  WorkBucket:
    Type: AWS::S3::Bucket

  LedgerTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: run_id, AttributeType: S }]
      KeySchema: [{ AttributeName: run_id, KeyType: HASH }]

  AlertTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub tiny-alerts-${Environment}

  CommonLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub tiny-common-${Environment}
      ContentUri: layers/common/
      CompatibleRuntimes: [python3.13]
    Metadata:
      BuildMethod: python3.13

  FirstFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/first/
      Handler: app.lambda_handler
      Environment:
        Variables:
          BACKUP_BUCKET: !If [CreateBackupBucket, !Ref BackupBucket, !Ref BackupBucketName]
      Policies:
        - S3CrudPolicy: { BucketName: !Ref WorkBucket }

  SecondFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/second/
      Handler: app.lambda_handler
      Timeout: 30
      MemorySize: 512
      Environment:
        Variables:
          GREETING: !Join ["-", [hello, !Ref Environment, !Select [1, [a, b, c]]]]
          CONCURRENCY: !Ref Concurrency
      Policies:
        - DynamoDBCrudPolicy: { TableName: !Ref LedgerTable }

  FlowLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/vendedlogs/states/tiny-${Environment}

  FlowStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub tiny-flow-${Environment}
      Type: STANDARD
      DefinitionUri: statemachine/flow.asl.json
      DefinitionSubstitutions:
        FirstFunctionArn: !GetAtt FirstFunction.Arn
        SecondFunctionArn: !GetAtt [SecondFunction, Arn]
        AlertTopicArn: !Ref AlertTopic
        WorkBucket: !Ref WorkBucket
      Logging:
        Level: ERROR
        Destinations:
          - CloudWatchLogsLogGroup: { LogGroupArn: !GetAtt FlowLogGroup.Arn }
      Policies:  # the emulator enforces IAM: what the flow's integrations need
        - LambdaInvokePolicy: { FunctionName: !Ref FirstFunction }
        - LambdaInvokePolicy: { FunctionName: !Ref SecondFunction }
        - S3ReadPolicy: { BucketName: !Ref WorkBucket }
        - SNSPublishMessagePolicy: { TopicName: !GetAtt AlertTopic.TopicName }

Outputs:
  StateMachineArn:
    Value: !Ref FlowStateMachine
  StateMachineName:
    Value: !GetAtt FlowStateMachine.Name
  AlertTopicArn:
    Value: !Ref AlertTopic
  AlertTopicName:
    Value: !GetAtt AlertTopic.TopicName
  BackupBucketName:
    Value: !If [CreateBackupBucket, !Ref BackupBucket, !Ref BackupBucketName]
  BackupBucketArn:
    Condition: CreateBackupBucket
    Value: !GetAtt BackupBucket.Arn
  ProdOnly:
    Condition: IsProdWithExisting
    Value: prod
  TestOrProd:
    Condition: IsTestOrProd
    Value: !Sub "${AWS::Region}/${AWS::Partition}/${AWS::StackName}/${!Literal}/${Suffix}"
  SubList:
    Value: !Sub
      - "arn:${AWS::Partition}:s3:::${Bucket}/*"
      - Bucket: !Ref WorkBucket
  LayerArn:
    Value: !Ref CommonLayer
  FirstFunctionArn:
    Value: !GetAtt FirstFunction.Arn
  LedgerTableName:
    Value: !Ref LedgerTable
"""

# "${Suffix}" in the TestOrProd output is not a parameter: make it one so !Sub resolves it.
TEMPLATE = TEMPLATE.replace("  Concurrency:\n", "  Suffix:\n    Type: String\n    Default: sfx\n  Concurrency:\n", 1)

LAMBDA_RETRY = {
    "ErrorEquals": ["Lambda.ServiceException", "Lambda.Unknown", "Sandbox.Timedout", "Runtime.ExitError"],
    "IntervalSeconds": 2,
    "MaxAttempts": 2,
    "BackoffRate": 2,
}

ASL = {
    "Comment": "tiny flow",
    "QueryLanguage": "JSONPath",
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.scenario", "IsPresent": True},
                        {"Variable": "$.scenario", "StringEquals": "map"},
                    ],
                    "Next": "Fan out",
                },
                {
                    "And": [
                        {"Variable": "$.scenario", "IsPresent": True},
                        {"Variable": "$.scenario", "StringEquals": "wait"},
                    ],
                    "Next": "Long wait",
                },
                {
                    "And": [
                        {"Variable": "$.scenario", "IsPresent": True},
                        {"Variable": "$.scenario", "StringEquals": "strict"},
                    ],
                    "Next": "Strict choice",
                },
            ],
            "Default": "First",
        },
        "Strict choice": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.flag", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Done",
        },
        "First": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "${FirstFunctionArn}",
                "Payload": {"input.$": "$", "execution_name.$": "$$.Execution.Name"},
            },
            "ResultSelector": {"state.$": "$.Payload"},
            "OutputPath": "$.state",
            "Retry": [LAMBDA_RETRY],
            "Catch": [
                {
                    "ErrorEquals": ["BackupNotFound"],
                    "ResultPath": "$.error",
                    "Assign": {"failed_phase": "First (no backup)"},
                    "Next": "Describe failure",
                },
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Assign": {"failed_phase": "First"},
                    "Next": "Describe failure",
                },
            ],
            "Next": "Second",
        },
        "Second": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${SecondFunctionArn}", "Payload": {"state.$": "$"}},
            "ResultSelector": {"state.$": "$.Payload"},
            "OutputPath": "$.state",
            "Retry": [LAMBDA_RETRY],
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Assign": {"failed_phase": "Second"},
                    "Next": "Describe failure",
                }
            ],
            "Next": "Done",
        },
        "Long wait": {"Type": "Wait", "Seconds": 3600, "Next": "Flaky task"},
        "Flaky task": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "${FirstFunctionArn}",
                "Payload": {"input.$": "$", "execution_name.$": "$$.Execution.Name"},
            },
            "ResultSelector": {"state.$": "$.Payload"},
            "OutputPath": "$.state",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 600, "MaxAttempts": 3, "BackoffRate": 2}],
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Assign": {"failed_phase": "Flaky task"},
                    "Next": "Describe failure",
                }
            ],
            "Next": "Done",
        },
        "Fan out": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "${WorkBucket}", "Key.$": "$.manifest_key"},
            },
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "tag.$": "$.tag"},
            "MaxConcurrencyPath": "$.concurrency",
            "ToleratedFailurePercentage": 0,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Process item",
                "States": {
                    "Process item": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "${SecondFunctionArn}", "Payload.$": "$"},
                        "ResultSelector": {"value.$": "$.Payload.value", "index.$": "$.Payload.index"},
                        "Retry": [LAMBDA_RETRY],
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.mapped",
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.error",
                    "Assign": {"failed_phase": "Fan out"},
                    "Next": "Describe failure",
                }
            ],
            "Next": "Done",
        },
        "Describe failure": {
            "Type": "Pass",
            "Parameters": {"failed_phase.$": "$failed_phase", "error.$": "$.error.Error"},
            "ResultPath": "$.failure",
            "Next": "Alert failed",
        },
        "Done": {"Type": "Pass", "End": True},
        "Alert failed": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "${AlertTopicArn}",
                "Subject": "Tiny flow failed",
                "Message.$": "States.Format('Phase {} failed with {}', $failed_phase, $.error.Error)",
            },
            "ResultPath": None,
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}

LAYER_INIT = '''\
"""Tiny shared layer."""


class BackupNotFound(Exception):
    pass


class Flaky(Exception):
    pass


class ItemFailed(Exception):
    pass


def double(n):
    return 2 * n
'''

FIRST_APP = """\
import os

import boto3
from botocore.exceptions import ClientError

from tinylib import BackupNotFound, Flaky, double

S3 = boto3.client("s3")


def lambda_handler(event, context):
    inp = event["input"]
    mode = inp.get("mode", "ok")
    if mode == "missing":
        raise BackupNotFound(f"no backup for pool {inp['pool']}")
    if mode == "flaky":  # fails on the first attempt of each execution
        key = f"flaky/{event['execution_name']}"
        try:
            S3.head_object(Bucket=os.environ["WORK_BUCKET"], Key=key)
        except ClientError:
            S3.put_object(Bucket=os.environ["WORK_BUCKET"], Key=key, Body=b"1")
            raise Flaky("first attempt fails")
    return {
        "value": double(inp["value"]),
        "environment": os.environ["ENVIRONMENT"],
        "backup_bucket": os.environ["BACKUP_BUCKET"],
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "execution_name": event["execution_name"],
    }
"""

SECOND_APP = """\
import os

import boto3

from tinylib import ItemFailed, double


def lambda_handler(event, context):
    if "item" in event:  # one item of the distributed map
        if event["item"].get("fail"):
            raise ItemFailed(f"item {event['index']} failed")
        return {"value": double(event["item"]["n"]), "index": event["index"]}
    state = event["state"]
    boto3.resource("dynamodb").Table(os.environ["LEDGER_TABLE"]).put_item(
        Item={"run_id": state["execution_name"], "value": state["value"]}
    )
    return {
        **state,
        "result": state["value"] + 1,
        "greeting": os.environ["GREETING"],
        "concurrency": os.environ["CONCURRENCY"],
        "memory": context.memory_limit_in_mb,
        "remaining_ms_second": context.get_remaining_time_in_millis(),
    }
"""


def write_stack(root: Path, template: str = TEMPLATE, asl: dict = ASL, second_app: str = SECOND_APP) -> Path:
    files = {
        "template.yaml": template,
        "statemachine/flow.asl.json": json.dumps(asl, indent=2),
        "layers/common/tinylib/__init__.py": LAYER_INIT,
        "functions/first/app.py": FIRST_APP,
        "functions/second/app.py": second_app,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def stack_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stack(tmp_path_factory.mktemp("tiny_stack"))


@pytest.fixture
def stack(stack_root: Path):
    with RestoreStack(stack_root) as s:
        yield s


def run(stack: RestoreStack, payload: dict, **kw):
    return stack.run(payload, state_machine="FlowStateMachine", timeout=30, **kw)


# ----------------------------------------------------------------------------- deployment


def test_intrinsics_conditions_and_outputs_resolve(stack: RestoreStack) -> None:
    region = stack.region
    assert stack.account_id == ACCOUNT
    backup = f"tiny-backup-test-{ACCOUNT}"
    work = stack.resources["WorkBucket"]
    assert work == work.lower() and "workbucket" in work and len(work) <= 63
    assert stack.resources["BackupBucket"] == backup
    assert stack.resources["AlertTopic"] == f"arn:aws:sns:{region}:{ACCOUNT}:tiny-alerts-test"
    assert stack.resources["CommonLayer"] == (f"arn:aws:lambda:{region}:{ACCOUNT}:layer:tiny-common-test:1")
    sm_arn = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:tiny-flow-test"
    assert stack.state_machine_arn("FlowStateMachine") == sm_arn
    assert stack.outputs["StateMachineArn"] == sm_arn
    assert stack.outputs["StateMachineName"] == "tiny-flow-test"
    assert stack.outputs["AlertTopicName"] == "tiny-alerts-test"
    assert stack.outputs["BackupBucketName"] == backup
    assert stack.outputs["BackupBucketArn"] == f"arn:aws:s3:::{backup}"
    assert "ProdOnly" not in stack.outputs
    assert stack.outputs["TestOrProd"] == (f"{region}/aws/{stack.stack_name}/${{Literal}}/sfx")
    assert stack.outputs["SubList"] == f"arn:aws:s3:::{work}/*"
    first_name = stack.function_name("FirstFunction")
    assert stack.outputs["FirstFunctionArn"] == (f"arn:aws:lambda:{region}:{ACCOUNT}:function:{first_name}")

    # the resources exist in moto, with the template's settings
    buckets = {b["Name"] for b in stack.client("s3").list_buckets()["Buckets"]}
    assert {backup, work} <= buckets
    assert stack.client("s3").get_bucket_versioning(Bucket=backup)["Status"] == "Enabled"
    table = stack.client("dynamodb").describe_table(TableName=stack.outputs["LedgerTableName"])
    assert table["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    cfg = stack.client("lambda").get_function_configuration(FunctionName=stack.function_name("SecondFunction"))
    assert (cfg["Timeout"], cfg["MemorySize"], cfg["Runtime"]) == (30, 512, "python3.13")
    assert cfg["Environment"]["Variables"]["GREETING"] == "hello-test-b"
    assert cfg["Environment"]["Variables"]["CONCURRENCY"] == "3"
    definition = stack.client("stepfunctions").describe_state_machine(stateMachineArn=sm_arn)["definition"]
    assert "${" not in definition and stack.outputs["FirstFunctionArn"] in definition


def test_parameters_override_defaults_and_flip_conditions(stack_root: Path) -> None:
    params = {"Environment": "prod", "BackupBucketName": "existing-backups", "Concurrency": 7}
    with RestoreStack(stack_root, region="eu-west-1", parameters=params) as s:
        assert "BackupBucket" not in s.resources and "BackupBucketPolicy" not in s.resources
        assert s.outputs["BackupBucketName"] == "existing-backups"
        assert "BackupBucketArn" not in s.outputs
        assert s.outputs["ProdOnly"] == "prod"
        assert s.outputs["StateMachineArn"].startswith("arn:aws:states:eu-west-1:")
        out = s.invoke("FirstFunction", {"input": {"value": 1}, "execution_name": "x"})
        assert out["backup_bucket"] == "existing-backups" and out["environment"] == "prod"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"Concurrency": 99}, "MaxValue"),
        ({"Environment": "Bad Name"}, "does not match"),
        ({"Nope": "x"}, "unknown template parameters"),
    ],
)
def test_invalid_parameters_are_rejected(stack_root: Path, params: dict, message: str) -> None:
    with pytest.raises(EmulatorError, match=message):
        RestoreStack(stack_root, parameters=params)


def test_wiring_errors_are_reported(tmp_path: Path) -> None:
    bad_asl = json.loads(json.dumps(ASL))
    bad_asl["States"]["Second"]["Parameters"]["FunctionName"] = "${ThirdFunctionArn}"
    write_stack(tmp_path / "a", asl=bad_asl)
    with pytest.raises(EmulatorError, match="ThirdFunctionArn"), RestoreStack(tmp_path / "a"):
        pass

    conflicting = TEMPLATE.replace("GREETING: !Join", "ENVIRONMENT: other\n          GREETING: !Join")
    write_stack(tmp_path / "b", template=conflicting)
    with pytest.raises(EmulatorError, match="ENVIRONMENT"), RestoreStack(tmp_path / "b"):
        pass


# ----------------------------------------------------------------------------- executions


def test_execution_runs_both_handlers_in_process(stack: RestoreStack) -> None:
    result = run(stack, {"value": 20}, name="happy-run")

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    out = result.output
    assert out["value"] == 40 and out["result"] == 41  # the layer's double() + handler logic
    assert out["execution_name"] == "happy-run"
    # Globals + per-function environment variables, as the handlers see them
    assert out["environment"] == "test"
    assert out["backup_bucket"] == f"tiny-backup-test-{ACCOUNT}"
    assert out["greeting"] == "hello-test-b" and out["concurrency"] == "3"
    # the context object
    assert out["function_name"] == stack.function_name("FirstFunction")
    assert 110_000 < out["remaining_ms"] <= 120_000
    assert 20_000 < out["remaining_ms_second"] <= 30_000
    assert out["memory"] == "512"
    assert [lid for lid, _ in stack.invocations] == ["FirstFunction", "SecondFunction"]
    assert result.states_entered() == ["Route", "First", "Second", "Done"]
    # the handler's own boto3 call (from moto's worker thread) reached the same backend
    item = stack.client("dynamodb").get_item(
        TableName=stack.resources["LedgerTable"], Key={"run_id": {"S": "happy-run"}}
    )
    assert item["Item"]["value"] == {"N": "40"}
    assert stack.alerts("AlertTopic") == []


def test_handler_exception_is_caught_by_error_name_and_alerted(stack: RestoreStack) -> None:
    result = run(stack, {"mode": "missing", "pool": "eu-west-1_abc", "value": 1})

    assert result.status == "FAILED"
    assert result.error == "BackupNotFound"  # Fail state ErrorPath $.error.Error
    cause = json.loads(result.cause)  # CausePath $.error.Cause: the Lambda error payload
    assert cause["errorType"] == "BackupNotFound"
    assert cause["errorMessage"] == "no backup for pool eu-west-1_abc"
    assert cause["stackTrace"] and cause["requestId"]
    assert result.states_entered() == ["Route", "First", "Describe failure", "Alert failed", "Failed"]
    # "$failed_phase" (a variable set by the Catch's Assign) read in Parameters
    (described,) = [
        e for e in result.events("PassStateExited") if e["stateExitedEventDetails"]["name"] == "Describe failure"
    ]
    assert json.loads(described["stateExitedEventDetails"]["output"])["failure"] == {
        "failed_phase": "First (no backup)",
        "error": "BackupNotFound",
    }
    failed = result.events("TaskFailed")
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["BackupNotFound"]
    # the Catch's Assign reached the sns:publish Parameters
    assert stack.alerts() == [
        {
            "subject": "Tiny flow failed",
            "message": "Phase First (no backup) failed with BackupNotFound",
        }
    ]
    assert len(stack.alerts()) == 1  # cumulative, not re-delivered

    # A second failure is appended to the same list.
    stack.on_invoke(lambda lid, event: (_ for _ in ()).throw(RuntimeError("hook")))
    run(stack, {"value": 1})
    assert [a["message"] for a in stack.alerts()] == [
        "Phase First (no backup) failed with BackupNotFound",
        "Phase First failed with RuntimeError",
    ]


def test_wait_and_retry_backoff_are_instant_and_recorded(stack: RestoreStack) -> None:
    result = run(stack, {"scenario": "wait", "mode": "flaky", "value": 3})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["value"] == 6
    assert stack.waits == [3600]
    assert stack.retry_sleeps == [600]
    assert [lid for lid, _ in stack.invocations] == ["FirstFunction", "FirstFunction"]
    assert result.states_entered() == ["Route", "Long wait", "Flaky task", "Done"]
    assert [e["taskFailedEventDetails"]["error"] for e in result.events("TaskFailed")] == ["Flaky"]


def test_choice_on_a_missing_path_fails_like_aws(stack: RestoreStack) -> None:
    result = run(stack, {"scenario": "strict"})  # no "flag" in the input

    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "Invalid path '$.flag'" in result.cause
    assert run(stack, {"scenario": "strict", "flag": False}).status == "SUCCEEDED"


def _put_manifest(stack: RestoreStack, items: list) -> str:
    key = "manifests/items.json"
    stack.client("s3").put_object(Bucket=stack.resources["WorkBucket"], Key=key, Body=json.dumps(items).encode())
    return key


def test_distributed_map_reads_s3_and_runs_one_invocation_per_item(stack: RestoreStack) -> None:
    key = _put_manifest(stack, [{"n": n} for n in range(7)])

    result = run(stack, {"scenario": "map", "manifest_key": key, "concurrency": 3, "tag": "t"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [lid for lid, _ in stack.invocations] == ["SecondFunction"] * 7
    assert sorted(r["index"] for r in result.output["mapped"]) == list(range(7))
    assert sorted(r["value"] for r in result.output["mapped"]) == [2 * n for n in range(7)]
    types = [e["type"] for e in result.history]
    # The parent history shows the map run, not its items (they are child executions on AWS;
    # moto runs them inside the parent and records no child execution nor item event).
    assert types == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert result.states_entered() == ["Route", "Fan out", "Done"]
    (map_run,) = result.map_runs
    assert map_run["status"] == "SUCCEEDED" and map_run["maxConcurrency"] == 3
    assert map_run["itemCounts"]["total"] == 7 and map_run["itemCounts"]["succeeded"] == 7
    started = result.events("MapRunStarted")[0]["mapRunStartedEventDetails"]["mapRunArn"]
    assert started == map_run["mapRunArn"]


def test_distributed_map_item_failure_fails_the_map_like_aws(stack: RestoreStack) -> None:
    key = _put_manifest(stack, [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}])

    result = run(stack, {"scenario": "map", "manifest_key": key, "concurrency": 1, "tag": "t"})

    # ToleratedFailurePercentage 0: one failed item fails the Map (moto alone would succeed).
    assert result.status == "FAILED"
    assert result.error == "States.ExceedToleratedFailureThreshold"
    assert [e["type"] for e in result.history if e["type"].startswith("MapRun")] == ["MapRunStarted", "MapRunFailed"]
    assert result.states_entered() == ["Route", "Fan out", "Describe failure", "Alert failed", "Failed"]
    assert result.map_runs[0]["itemCounts"]["failed"] == 1
    assert stack.alerts()[-1]["message"] == ("Phase Fan out failed with States.ExceedToleratedFailureThreshold")


def test_on_invoke_hook_simulates_a_lambda_crash(stack: RestoreStack) -> None:
    seen: list[tuple[str, dict]] = []

    def crash_once(logical_id: str, event: dict) -> None:
        seen.append((logical_id, event))
        if logical_id == "FirstFunction" and len(seen) == 1:
            raise LambdaCrash()

    # A crash is retried by the Lambda Retrier (Runtime.ExitError), then the run goes on.
    stack.on_invoke(crash_once)
    result = run(stack, {"value": 2}, name="crash-once")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [e["taskFailedEventDetails"]["error"] for e in result.events("TaskFailed")] == ["Runtime.ExitError"]
    assert stack.retry_sleeps == [2]
    assert seen[0] == ("FirstFunction", {"input": {"value": 2}, "execution_name": "crash-once"})
    assert [lid for lid, _ in seen] == ["FirstFunction", "FirstFunction", "SecondFunction"]

    # A crash on every attempt exhausts the Retrier and is caught like any task failure.
    def crash_second(logical_id: str, event: dict) -> None:
        if logical_id == "SecondFunction":
            raise LambdaCrash("Runtime exited with error: signal: killed")

    stack.on_invoke(crash_second)
    result = run(stack, {"value": 2})
    assert result.status == "FAILED" and result.error == "Runtime.ExitError"
    assert json.loads(result.cause)["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert result.states_entered() == ["Route", "First", "Second", "Describe failure", "Alert failed", "Failed"]
    assert stack.alerts()[-1]["message"] == "Phase Second failed with Runtime.ExitError"
    stack.on_invoke(None)
    assert run(stack, {"value": 2}).status == "SUCCEEDED"


def test_invoke_calls_one_handler_directly(stack: RestoreStack) -> None:
    out = stack.invoke("FirstFunction", {"input": {"value": 5}, "execution_name": "direct"})
    assert out["value"] == 10 and out["execution_name"] == "direct"
    with pytest.raises(Exception) as info:
        stack.invoke("FirstFunction", {"input": {"mode": "missing", "pool": "p"}, "execution_name": "direct"})
    assert type(info.value).__name__ == "BackupNotFound"
    # boto3 lambda.invoke goes through the same dispatch
    resp = stack.client("lambda").invoke(
        FunctionName=stack.function_name("FirstFunction"),
        Payload=json.dumps({"input": {"value": 1}, "execution_name": "boto"}),
    )
    assert "FunctionError" not in resp and json.loads(resp["Payload"].read())["value"] == 2
    assert [lid for lid, _ in stack.invocations] == ["FirstFunction"] * 3
    with pytest.raises(EmulatorError):
        stack.invoke("NoSuchFunction", {})


def test_handler_that_cannot_be_imported_fails_like_the_lambda_runtime(tmp_path: Path) -> None:
    write_stack(tmp_path, second_app="import not_installed_anywhere\n")
    with RestoreStack(tmp_path) as s:
        result = run(s, {"value": 1})
    assert result.error == "Runtime.ImportModuleError"
    assert "not_installed_anywhere" in json.loads(result.cause)["errorMessage"]
    assert result.states_entered() == ["Route", "First", "Second", "Describe failure", "Alert failed", "Failed"]


def test_environment_is_restored_on_exit(stack_root: Path) -> None:
    import os
    import sys

    before = dict(os.environ)
    with RestoreStack(stack_root) as s:
        assert os.environ["ENVIRONMENT"] == "test"
        assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert os.environ["AWS_DEFAULT_REGION"] == s.region
        s.invoke("FirstFunction", {"input": {"value": 1}, "execution_name": "x"})
        assert "tinylib" in sys.modules
    assert dict(os.environ) == before
    assert "tinylib" not in sys.modules
    assert not any(str(stack_root) in p for p in sys.path)


# ----------------------------------------------------------------------------- IAM enforcement


def test_a_state_machine_without_invoke_permission_fails_its_task_like_aws(tmp_path: Path) -> None:
    """The interpreter's own calls are checked against the state machine role: no
    lambda:InvokeFunction on SecondFunction -> its task fails with Lambda's AccessDeniedException."""
    template = TEMPLATE.replace("        - LambdaInvokePolicy: { FunctionName: !Ref SecondFunction }\n", "", 1)
    assert template != TEMPLATE
    with RestoreStack(write_stack(tmp_path, template=template)) as s:
        result = run(s, {"value": 4, "pool": "p1"})

        assert result.status == "FAILED"
        assert "AccessDeniedException" in (result.error or "") + (result.cause or "")
        assert "lambda:InvokeFunction" in result.cause
        assert [(d.principal, d.action) for d in s.iam.denied()] == [("FlowStateMachine", "lambda:InvokeFunction")]
        assert [lid for lid, _ in s.invocations] == ["FirstFunction"]  # the denied one never ran


def test_a_handler_without_permission_gets_access_denied(tmp_path: Path) -> None:
    template = TEMPLATE.replace("        - DynamoDBCrudPolicy: { TableName: !Ref LedgerTable }\n", "", 1)
    assert template != TEMPLATE
    with RestoreStack(write_stack(tmp_path, template=template)) as s:
        result = run(s, {"value": 4, "pool": "p1"})

        assert result.status == "FAILED"
        assert "dynamodb:PutItem" in result.cause and "AccessDeniedException" in result.cause
        [denied] = s.iam.denied()
        assert (denied.principal, denied.action) == ("SecondFunction", "dynamodb:PutItem")
        assert denied.resource.endswith(f":table/{s.resources['LedgerTable']}")


def test_enforcement_can_be_turned_off(tmp_path: Path) -> None:
    template = TEMPLATE.replace("        - DynamoDBCrudPolicy: { TableName: !Ref LedgerTable }\n", "", 1)
    with RestoreStack(write_stack(tmp_path, template=template), enforce_iam=False) as s:
        assert run(s, {"value": 4, "pool": "p1"}).status == "SUCCEEDED"
        assert s.iam is None
