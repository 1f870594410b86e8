"""The Lambda runtime: every invocation dispatched in-process to the real handler.

``LambdaRuntime`` reads the functions of the template (``CodeUri`` + ``Handler``, ``Globals``
merged, ``Timeout``, ``MemorySize``, ``Environment``) and replaces moto's
``LambdaFunction._invoke_lambda`` (which needs a container) by ``dispatch``: the handler is called
in-process with a Lambda-like context (``LambdaContext``), and an exception becomes the Lambda error
payload ``{"errorMessage", "errorType", "requestId", "stackTrace"}``, so ``lambda:invoke`` tasks see
``Error`` = the exception class name and ``Cause`` = that JSON, like on AWS. A handler that runs
longer than its ``Timeout`` has its result replaced by the ``Sandbox.Timedout`` error AWS would give
(mind breakpoints); ``LambdaCrash`` gives a runtime error type such as ``Runtime.ExitError``.

Handlers are loaded lazily (first invocation) from ``CodeUri`` + ``Handler`` under a unique
module name per function, and cached for the life of the stack; the layer ``ContentUri``
directories are on ``sys.path`` (SAM's python build puts ``ContentUri`` at the layer root,
i.e. ``/opt/python``). Modules first imported during the stack from the layer or function
directories are dropped from ``sys.modules`` on exit (``purge_modules``), so each stack reads its
own environment at import time. Known limits: a function's sibling modules (``CodeUri/x.py``) are
importable only while its ``app`` module is being loaded, and share ``sys.modules`` with
other functions' siblings of the same name; per-invocation Lambda variables
(``AWS_LAMBDA_FUNCTION_NAME``...) are not set because invocations run concurrently in one
process - use the context object.

Environment: the union of every function's variables (``Globals`` merged with its own) is what the
process gets (``environment``; a variable defined twice with different values is an error: one
process cannot hold both), plus ``POWERTOOLS_TRACE_DISABLED=true`` (no X-Ray daemon offline;
the Tracer would otherwise try to emit segments) and a ``POWERTOOLS_METRICS_NAMESPACE``
default (Metrics refuses to flush without a namespace).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from tools.emulation.errors import EmulatorError, LambdaCrash
from tools.emulation.template import LAYER_TYPES, SAM_FUNCTION, Template, merge_globals, scalar_str

LOG = logging.getLogger(__name__)

DEFAULT_METRICS_NAMESPACE = "CognitoDrRestoreEmulator"
_LAMBDA_DEFAULT_TIMEOUT = 3
_LAMBDA_DEFAULT_MEMORY = 128


class LambdaContext:
    """The attributes of the Python runtime's context object (``awslambdaric``)."""

    def __init__(self, fn: Function, region: str):
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
class Function:
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


class LambdaRuntime:
    """The functions of one template and their in-process invocation (see module doc).

    ``invocations`` lists (function logical id, seconds) in call order; ``hook`` is the stack's
    ``on_invoke`` hook; ``wrappers`` are context managers entered around each handler call (from
    the stack's extensions, see ``tools/emulation/extensions.py``), given the function's logical id.
    """

    def __init__(self, template_path: Path, region: str):
        self.template_path = template_path
        self.region = region
        self.functions: dict[str, Function] = {}  # logical id -> function
        self.functions_by_name: dict[str, str] = {}  # physical name -> logical id
        self.layer_dirs: list[Path] = []
        self.invocations: list[tuple[str, float]] = []
        self.hook: Callable[[str, dict], None] | None = None
        self.wrappers: list[Callable[[str], AbstractContextManager[Any]]] = []
        self._modules: dict[str, Callable[[Any, Any], Any]] = {}
        self._module_names: list[str] = []
        self._module_lock = threading.RLock()

    def clear(self) -> None:
        """Forget the deployment (a stack may be entered again)."""
        self.functions.clear()
        self.functions_by_name.clear()
        self.layer_dirs.clear()

    def patch(self) -> Any:
        """The patch of moto's ``LambdaFunction._invoke_lambda`` that dispatches to ``dispatch``."""
        from moto.awslambda.models import LambdaFunction

        runtime = self

        def invoke_lambda(fn_self: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime.dispatch(fn_self.function_name, event if event is not None else {})

        return mock.patch.object(LambdaFunction, "_invoke_lambda", invoke_lambda)

    def invoke(self, logical_id: str, event: dict) -> Any:
        """One handler called directly (event and result JSON round-tripped); exceptions propagate."""
        fn = self.function(logical_id)
        return json.loads(_to_json(self.call_handler(fn, event)))

    def build(self, cfn: Template) -> None:
        """Read the functions and the layer directories of the template's deployment."""
        globals_fn = (cfn.doc.get("Globals") or {}).get("Function") or {}
        for lid, res in cfn.active_resources():
            if res["Type"] in LAYER_TYPES:
                content = cfn.resolve((res.get("Properties") or {}).get("ContentUri"))
                if isinstance(content, str):
                    self.layer_dirs.append((self.template_path.parent / content).resolve())
            if res["Type"] not in SAM_FUNCTION:
                continue
            props = merge_globals(globals_fn, res.get("Properties") or {})
            if props.get("PackageType", "Zip") != "Zip" or "InlineCode" in props:
                raise EmulatorError(f"{lid}: only Zip functions with a local CodeUri are supported")
            code_uri = cfn.resolve(props.get("CodeUri"))
            if not isinstance(code_uri, str):
                raise EmulatorError(f"{lid}: only a local CodeUri directory is supported")
            env_vars = cfn.resolve(((props.get("Environment") or {}).get("Variables")) or {})
            name = cfn.name(lid)
            self.functions[lid] = Function(
                logical_id=lid,
                name=name,
                arn=cfn.getatt(lid, "Arn"),
                code_dir=(self.template_path.parent / code_uri).resolve(),
                handler=cfn.resolve(props.get("Handler")),
                runtime=cfn.resolve(props.get("Runtime", "python3.13")),
                timeout=int(cfn.resolve(props.get("Timeout", _LAMBDA_DEFAULT_TIMEOUT))),
                memory=int(cfn.resolve(props.get("MemorySize", _LAMBDA_DEFAULT_MEMORY))),
                environment={k: scalar_str(v) for k, v in env_vars.items()},
                layers=[scalar_str(x) for x in cfn.resolve(props.get("Layers") or [])],
                architectures=cfn.resolve(props.get("Architectures") or []),
            )
            self.functions_by_name[name] = lid

    def environment(self) -> dict[str, str]:
        """The union of the functions' environments (conflicts are an error) + defaults."""
        union: dict[str, str] = {}
        owner: dict[str, str] = {}
        for lid, fn in self.functions.items():
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

    def purge_modules(self, before: set[str]) -> None:
        """Drop the modules first imported from the layer or function directories since ``before``."""
        roots = [str(d) for d in self.layer_dirs]
        roots += [str(f.code_dir) for f in self.functions.values()]
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

    def function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise EmulatorError(f"{logical_id} is not an AWS::Serverless::Function of {self.template_path}") from None

    def handler(self, fn: Function) -> Callable[[Any, Any], Any]:
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
                remove_path(str(fn.code_dir))
            handler = getattr(module, func_name, None)
            if not callable(handler):
                raise _RuntimeError(
                    "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_path}'"
                )
            self._modules[fn.logical_id] = handler
            return handler

    def call_handler(self, fn: Function, event: Any, context: LambdaContext | None = None) -> Any:
        """Run hook + handler (inside the wrappers); exceptions propagate. Records the invocation."""
        event = json.loads(_to_json(event))
        context = context or LambdaContext(fn, self.region)
        started = time.perf_counter()
        try:
            if self.hook is not None:
                self.hook(fn.logical_id, copy.deepcopy(event))
            handler = self.handler(fn)
            with contextlib.ExitStack() as around:  # the extensions' wrappers (e.g. who is calling)
                for wrapper in self.wrappers:
                    around.enter_context(wrapper(fn.logical_id))
                return handler(event, context)
        finally:
            self.invocations.append((fn.logical_id, time.perf_counter() - started))

    def dispatch(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        """moto's ``LambdaFunction._invoke_lambda`` replacement: (payload, errored, logs)."""
        logical_id = self.functions_by_name.get(function_name)
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
        fn = self.functions[logical_id]
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        context = LambdaContext(fn, self.region)
        request_id = context.aws_request_id
        started = time.perf_counter()
        try:
            payload = _to_json(self.call_handler(fn, event, context))
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


def remove_path(entry: str) -> None:
    with contextlib.suppress(ValueError):
        sys.path.remove(entry)


_DUMMY_ZIP: bytes | None = None


def dummy_zip() -> bytes:
    global _DUMMY_ZIP
    if _DUMMY_ZIP is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        _DUMMY_ZIP = buf.getvalue()
    return _DUMMY_ZIP
