"""Consistency of template.yaml with the state machine definition and the function code.

Fast, no tools run: these read template.yaml (with a loader that understands the CloudFormation
short tags), statemachine/restore.asl.json and the handlers' source.

- for each state machine (the restore's and the backup producer's): every ${Name} in its ASL is
  one of its DefinitionSubstitutions, and every substitution is used by the ASL;
- every ${XFunctionArn} substitution is !GetAtt XFunction.Arn of a function in the template, and
  the state machine may invoke every function the ASL calls;
- every function's CodeUri holds the module and the handler function its Handler names;
- every function runs on python3.13 (Globals or its own Runtime), as does the layer.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINE = "RestoreStateMachine"
STATE_MACHINES = ["RestoreStateMachine", "BackupStateMachine"]  # the restore, the backup producer
machines = pytest.mark.parametrize("machine", STATE_MACHINES)
RUNTIME = "python3.13"

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@cache
def _load_template() -> dict | str:
    try:
        return cfn_yaml.load(str(TEMPLATE))
    except Exception as exc:  # noqa: BLE001 - a YAML error fails every test with one short line
        return f"{TEMPLATE.name} does not load: {type(exc).__name__}: {exc}"


def template() -> dict:
    loaded = _load_template()
    if isinstance(loaded, str):
        pytest.fail(loaded, pytrace=False)
    return loaded


def resources() -> dict:
    return template()["Resources"]


def functions() -> dict[str, dict]:
    return {name: res for name, res in resources().items() if res.get("Type") == "AWS::Serverless::Function"}


def function_names() -> list[str]:
    # Collected at import time for parametrization; an unreadable template becomes one failing case.
    loaded = _load_template()
    if isinstance(loaded, str):
        return ["<template.yaml does not load>"]
    return sorted(n for n, r in loaded["Resources"].items() if r.get("Type") == "AWS::Serverless::Function")


def state_machine(machine: str = STATE_MACHINE) -> dict:
    res = resources().get(machine)
    assert res is not None, f"{machine} is not a resource of template.yaml"
    assert res["Type"] == "AWS::Serverless::StateMachine", res["Type"]
    return res["Properties"]


def asl_path(machine: str = STATE_MACHINE) -> Path:
    uri = state_machine(machine).get("DefinitionUri")
    assert isinstance(uri, str), f"{machine}.DefinitionUri should be a local file path, got {uri!r}"
    return ROOT / uri


def asl_text(machine: str = STATE_MACHINE) -> str:
    return asl_path(machine).read_text(encoding="utf-8")


def substitutions(machine: str = STATE_MACHINE) -> dict:
    return dict(state_machine(machine).get("DefinitionSubstitutions") or {})


def getatt_target(value) -> tuple[str, str] | None:
    """('Resource', 'Attr') for !GetAtt Resource.Attr / [Resource, Attr], else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        return str(target[0]), str(target[1])
    return None


def ref_target(value) -> str | None:
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return str(value["Ref"])
    return None


def test_template_loads():
    t = template()
    assert "Resources" in t
    assert functions(), "template.yaml declares no AWS::Serverless::Function"


@machines
def test_asl_is_json_and_file_exists(machine: str):
    path = asl_path(machine)
    assert path.is_file(), f"DefinitionUri {path.relative_to(ROOT)} does not exist"
    json.loads(asl_text(machine))


@machines
def test_every_asl_placeholder_is_substituted(machine: str):
    used = set(PLACEHOLDER.findall(asl_text(machine)))
    missing = sorted(used - set(substitutions(machine)))
    assert not missing, f"${{...}} in {asl_path(machine).name} without a DefinitionSubstitutions entry: {missing}"


@machines
def test_every_substitution_is_used(machine: str):
    used = set(PLACEHOLDER.findall(asl_text(machine)))
    unused = sorted(set(substitutions(machine)) - used)
    assert not unused, f"DefinitionSubstitutions not used by {asl_path(machine).name}: {unused}"


@machines
def test_function_arn_substitutions_name_existing_functions(machine: str):
    problems = []
    for key, value in substitutions(machine).items():
        target = getatt_target(value)
        ref = ref_target(value)
        named = target[0] if target else ref
        if named is not None and named not in resources():
            problems.append(f"{key}: refers to {named}, which is not a resource")
        m = re.fullmatch(r"(\w+Function)Arn", key)
        if m:
            function = m.group(1)
            if function not in functions():
                problems.append(f"{key}: there is no AWS::Serverless::Function named {function}")
            elif target != (function, "Arn"):
                problems.append(f"{key}: should be !GetAtt {function}.Arn, is {value!r}")
    assert not problems, "\n".join(problems)


@machines
def test_every_function_placeholder_in_asl_is_a_function(machine: str):
    # "${XFunctionArn}" literals in the ASL (FunctionName / Resource values).
    names = re.findall(r'"\$\{(\w+)FunctionArn\}"', asl_text(machine))
    assert names, "the ASL invokes no ${...FunctionArn}"
    unknown = sorted({n + "Function" for n in names} - set(functions()))
    assert not unknown, f"the ASL invokes functions the template does not declare: {unknown}"


@machines
def test_state_machine_may_invoke_every_function_it_calls(machine: str):
    called = {n + "Function" for n in re.findall(r'"\$\{(\w+)FunctionArn\}"', asl_text(machine))}
    allowed = set()
    for policy in state_machine(machine).get("Policies") or []:
        if isinstance(policy, dict) and "LambdaInvokePolicy" in policy:
            name = policy["LambdaInvokePolicy"].get("FunctionName")
            allowed.add(ref_target(name) or str(name))
    missing = sorted(called - allowed)
    assert not missing, f"{machine} has no LambdaInvokePolicy for: {missing}"


def _effective(function: dict, prop: str):
    props = function.get("Properties") or {}
    if prop in props:
        return props[prop]
    return ((template().get("Globals") or {}).get("Function") or {}).get(prop)


@pytest.mark.parametrize("name", function_names())
def test_function_runtime_is_python313(name):
    runtime = _effective(functions()[name], "Runtime")
    assert runtime == RUNTIME, f"{name} runs on {runtime!r} (Globals.Function.Runtime or its own), not {RUNTIME}"


@pytest.mark.parametrize("name", function_names())
def test_function_code_has_handler(name):
    code_uri = _effective(functions()[name], "CodeUri")
    handler = _effective(functions()[name], "Handler")
    assert isinstance(code_uri, str), f"{name}.CodeUri should be a local directory, got {code_uri!r}"
    assert isinstance(handler, str) and "." in handler, f"{name}.Handler should be module.function, got {handler!r}"
    code_dir = ROOT / code_uri
    assert code_dir.is_dir(), f"{name}.CodeUri {code_uri} is not a directory"

    module, func = handler.rsplit(".", 1)
    source = code_dir / (module.replace(".", "/") + ".py")
    assert source.is_file(), f"{name}: {source.relative_to(ROOT)} (from Handler {handler}) does not exist"
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            defined.update(a.asname or a.name for a in node.names)
    assert func in defined, f"{name}: {source.relative_to(ROOT)} defines no top-level {func!r} (Handler {handler})"


def test_layers_are_python313():
    layers = {n: r for n, r in resources().items() if r.get("Type") == "AWS::Serverless::LayerVersion"}
    problems = []
    for name, layer in layers.items():
        props = layer["Properties"]
        content = props.get("ContentUri")
        if not (isinstance(content, str) and (ROOT / content).is_dir()):
            problems.append(f"{name}.ContentUri {content!r} is not a directory")
        if RUNTIME not in (props.get("CompatibleRuntimes") or []):
            problems.append(f"{name}.CompatibleRuntimes lacks {RUNTIME}")
        build_method = (layer.get("Metadata") or {}).get("BuildMethod")
        if build_method != RUNTIME:
            problems.append(f"{name}.Metadata.BuildMethod is {build_method!r}, not {RUNTIME}")
    assert not problems, "\n".join(problems)
