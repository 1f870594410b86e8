"""Step Functions in moto 5.2.5's interpreter, as the stack runs it: corrected where it departs
from AWS, instant, and joinable.

``StepFunctions`` holds the patches of moto's interpreter (``patches()``; ``with StepFunctions():``
installs them on their own, for a test on a plain ``mock_aws``) and what they record:

* Wait states and Retry back-off return immediately; the requested seconds are recorded in
  ``waits`` / ``retry_sleeps``;
* moto's execution worker keeps a handle on its thread so ``wait()`` can join it (no polling);
  the ``execution_ended`` callbacks run in that thread when the interpreter returns;
* the moto 5.2.5 departures from AWS that the real ASL would hit are corrected (each at its
  function, below; each has a test against plain moto in ``tests/unit/test_moto_departures.py``):
  Distributed Map ``ToleratedFailureCount/Percentage`` are enforced (moto ignores them: a failed
  item passed silently; AWS fails the Map with ``States.ExceedToleratedFailureThreshold``);
  ``$variable`` references in JSONPath states (``"failed_phase.$": "$failed_phase"``) are resolved
  (moto sends them to a JSONata engine it does not ship -> States.Runtime); a Fail state whose
  ``ErrorPath`` gives a ``States.*`` name fails with it (moto: ValueError -> States.Runtime); a
  Choice rule on a missing path fails with States.Runtime (moto silently takes the Default); an
  integer ``ToleratedFailurePercentage`` is written as a float for moto's parser, which rejects
  ``0`` (``moto_compatible_definition``, applied when the stack creates a state machine); a Retry or
  Catch on ``States.ALL`` does not match ``States.Runtime`` / ``States.DataLimitExceeded`` (moto
  matches every error);
* ``redrive`` plays RedriveExecution, which moto lacks, and the context object gets
  ``Execution.RedriveCount``, which moto lacks too (and, in a redriven execution, the original
  ``Execution.Input``).

Known limits: Distributed Map items run as threads inside the parent execution: no child
executions exist, and the parent history shows ``MapStateEntered, MapStateStarted, MapRunStarted,
MapRunSucceeded|MapRunFailed, MapStateSucceeded, MapStateExited`` but no item event
(``ExecutionResult.map_runs`` has the item counts from ``describe_map_run``); the 256 KiB payload
limit is not enforced; a redriven execution has a new ARN.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
import types
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tools.emulation.errors import EmulatorError

LOG = logging.getLogger(__name__)


@dataclass
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


class StepFunctions:
    """The interpreter's patches and what they record (see module doc)."""

    def __init__(self) -> None:
        self.waits: list[float] = []  # seconds requested by Wait states
        self.retry_sleeps: list[float] = []  # back-off seconds requested by Retriers, after jitter
        self.redrive_counts: dict[str, int] = {}  # execution name -> Execution.RedriveCount
        self.redrive_inputs: dict[str, Any] = {}  # execution name -> the original Execution.Input
        self.threads: list[tuple[str, threading.Thread]] = []  # (execution ARN, interpreter thread)
        # Called with the execution ARN, in the interpreter thread, once the execution has ended.
        self.execution_ended: list[Callable[[str], None]] = []
        # Called with (failed state machine ARN, redriven state machine ARN) before a redrive starts.
        self.redriven: list[Callable[[str, str], None]] = []
        self._started: list[Any] = []

    def __enter__(self) -> StepFunctions:
        for p in self.patches():
            p.start()
            self._started.append(p)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._started:
            self._started.pop().stop()
        prune_dead_threads()

    def patches(self) -> list[Any]:
        """The patches of moto's interpreter (not started)."""
        from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
            StringVariableSample,
        )
        from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (  # noqa: E501
            ComparisonVariable,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as dic,
        )
        from moto.stepfunctions.parser.asl.component.state.fail import state_fail
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
            wait_function,
        )
        from moto.stepfunctions.parser.backend import execution_worker

        sfn = self

        def wait_interval(wf_self: Any, env: Any, wait_seconds: Any) -> None:
            sfn.waits.append(wait_seconds)

        def sleep(seconds: float) -> None:
            sfn.retry_sleeps.append(seconds)

        def worker_start(worker: Any) -> None:
            arn = worker._evaluation_details.execution_details.arn
            machine = worker._evaluation_details.state_machine_details.arn

            def target() -> None:
                try:
                    worker._execution_logic()
                except BaseException as exc:
                    worker._emulator_exception = exc
                    raise
                for callback in sfn.execution_ended:
                    callback(arn)

            name = worker._evaluation_details.execution_details.name
            thread = threading.Thread(target=target, daemon=True, name=f"sfn-{name}")
            _THREAD_MACHINE[thread] = machine
            worker._emulator_thread = thread
            sfn.threads.append((arn, thread))
            execution_worker.TMP_THREADS.append(thread)
            thread.start()

        original_map_run = dic.DistributedIterationComponent._map_run

        def map_run(comp: Any, env: Any, eval_input: Any) -> None:
            original_map_run(comp, env, eval_input)
            _enforce_tolerated_failures(env, eval_input.map_run_record)

        original_environment = execution_worker.ExecutionWorker._get_evaluation_environment

        def evaluation_environment(worker: Any) -> Any:
            # moto's context object lacks Execution.RedriveCount; redriven executions carry theirs.
            env = original_environment(worker)
            name = worker._evaluation_details.execution_details.name
            env.states.context_object.context_object_data["Execution"]["RedriveCount"] = sfn.redrive_counts.get(  # type: ignore[typeddict-unknown-key]
                name, 0
            )
            if name in sfn.redrive_inputs:  # the started input is the failed state's, not the execution's
                env.states.context_object.context_object_data["Execution"]["Input"] = copy.deepcopy(
                    sfn.redrive_inputs[name]
                )
            return env

        original_variable_sample = StringVariableSample._eval_body

        def variable_sample(sample: Any, env: Any) -> None:
            if not _sample_jsonpath_variable(sample, env):
                original_variable_sample(sample, env)

        return [
            mock.patch.object(StringVariableSample, "_eval_body", variable_sample),
            mock.patch.object(ComparisonVariable, "_eval_body", _choice_comparison),
            mock.patch.object(ErrorEqualsDecl, "_eval_body", states_all_matcher(ErrorEqualsDecl._eval_body)),
            mock.patch.object(state_fail, "CustomErrorName", _fail_state_error_name),
            mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait_interval),
            mock.patch.object(retrier_decl, "time", types.SimpleNamespace(sleep=sleep)),
            mock.patch.object(execution_worker.ExecutionWorker, "start", worker_start),
            mock.patch.object(threading.Thread, "start", _inheriting_start),
            mock.patch.object(execution_worker.ExecutionWorker, "_get_evaluation_environment", evaluation_environment),
            mock.patch.object(dic.DistributedIterationComponent, "_map_run", map_run),
        ]

    def redrive(self, sfn: Any, execution_arn: str) -> str:
        """Step Functions' RedriveExecution, which moto lacks: continue a failed execution from its
        unsuccessful state, with that state's input, Execution.RedriveCount one higher and
        Execution.Input the original execution's input (a redrive "uses the same input").

        AWS continues under the same execution ARN; here it is a new execution of the same
        definition starting at that state (named ``<name>-redrive-<n>``). Returns its ARN.
        """
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] == "SUCCEEDED" or described["status"] == "RUNNING":
            raise EmulatorError(f"Execution is {described['status']} and cannot be redriven.")
        history = self.wait(sfn, execution_arn).history
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
        count = self.redrive_counts.get(described["name"], 0) + 1
        redrive_name = f"{name}-redrive-{count}"
        self.redrive_counts[redrive_name] = count
        self.redrive_inputs[redrive_name] = self.redrive_inputs.get(
            described["name"], json.loads(described.get("input") or "{}")
        )
        redriven = sfn.create_state_machine(
            name=f"{machine['name']}-redrive-{count}-{uuid.uuid4().hex[:6]}",
            definition=json.dumps(definition),
            roleArn=machine["roleArn"],
            type=machine.get("type", "STANDARD"),
        )
        for callback in self.redriven:
            callback(described["stateMachineArn"], redriven["stateMachineArn"])
        return sfn.start_execution(
            stateMachineArn=redriven["stateMachineArn"], name=redrive_name, input=failed.get("input") or "{}"
        )["executionArn"]

    def wait(self, sfn: Any, execution_arn: str, timeout: float = 600) -> ExecutionResult:
        """Block until the execution is no longer RUNNING.

        Joins the thread of moto's execution worker (kept by the patched
        ``ExecutionWorker.start``), so there is no polling; falls back to polling
        ``describe_execution`` with a short ``Event.wait`` for an execution started by a worker
        that has no thread handle (e.g. started before the patch)."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        account, region = execution_arn.split(":")[4], execution_arn.split(":")[3]
        backend = stepfunctions_parser_backends[account][region]
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

    def stop_running_executions(self, client: Callable[[], Any]) -> None:
        """On exit: abort what is still running (a test that did not wait) and give its thread
        a moment, so it does not outlive the patches and the mock."""
        for arn, thread in self.threads:
            if not thread.is_alive():
                continue
            try:
                client().stop_execution(executionArn=arn, error="Emulator.Exit", cause="RestoreStack exited")
            except Exception:  # noqa: BLE001 - best effort
                LOG.warning("could not stop %s", arn, exc_info=True)
            thread.join(5)


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


# Errors a Retrier or Catcher on States.ALL does not match on AWS (only one naming them does).
UNCATCHABLE = ("States.Runtime", "States.DataLimitExceeded")


def states_all_matcher(original: Any) -> Any:
    """``ErrorEqualsDecl._eval_body`` that, like AWS, does not let States.ALL match States.Runtime or
    States.DataLimitExceeded (only a Retrier/Catcher naming them explicitly does)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl

    def eval_body(decl: Any, env: Any) -> None:
        error_name = env.stack[-1]
        name = getattr(error_name, "error_name", None)
        names = {getattr(n, "error_name", None) for n in decl.error_names}
        if name in UNCATCHABLE and ErrorEqualsDecl._STATE_ALL_ERROR in decl.error_names and name not in names:
            env.stack.pop()
            env.stack.append(False)
            return
        original(decl, env)

    return eval_body


def moto_compatible_definition(definition: str) -> str:
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


# Which state machine each interpreter thread runs (iam.py tells the stack's state machines apart by
# it: moto's interpreter signs every call with one fixed key). Threads the interpreter starts (Map
# iterations, branches, the program worker) inherit their starter's state machine.
_THREAD_MACHINE: weakref.WeakKeyDictionary[threading.Thread, str] = weakref.WeakKeyDictionary()
_ORIGINAL_THREAD_START = threading.Thread.start


def _inheriting_start(thread: threading.Thread) -> None:
    machine = _THREAD_MACHINE.get(threading.current_thread())
    if machine is not None and thread not in _THREAD_MACHINE:
        _THREAD_MACHINE[thread] = machine
    _ORIGINAL_THREAD_START(thread)


def running_state_machine() -> str | None:
    """The ARN of the state machine whose execution runs in this thread, if any."""
    return _THREAD_MACHINE.get(threading.current_thread())


def prune_dead_threads() -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    TMP_THREADS[:] = [t for t in TMP_THREADS if t.is_alive()]
