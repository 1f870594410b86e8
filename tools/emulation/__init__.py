"""Embedded AWS emulation of the restore stack: ``template.yaml`` deployed into moto.

Used by the workflow tests, the benchmarks and the offline DR drill. Nothing here re-implements
the product: the wiring is READ from ``template.yaml`` (functions, handlers, environment,
parameters, conditions, the layer, ``DefinitionSubstitutions``) and the state machine that runs is
the real ASL file, executed by moto's Step Functions interpreter. Every Lambda invocation made by
that interpreter (or by any boto3 ``lambda.invoke``) is dispatched in-process to the real handler.

    from tools.emulation import RestoreStack

    with RestoreStack() as stack:
        result = stack.run({"user_pool_id": "us-east-1_abc"})

One module per concern (the patches target moto 5.2.5's internals; ``pyproject.toml`` pins it):

* ``stack.py``: ``RestoreStack``, the lifecycle, the deployment of the template into moto, the
  public API; ``_extensions()`` is the one place where plug-ins are chosen;
* ``template.py``: the template loaded with cfn-lint's decoder, parameters, conditions, intrinsics,
  physical names;
* ``lambda_runtime.py``: in-process dispatch of the real handlers, the Lambda context, error
  payloads and timeouts;
* ``stepfunctions.py``: moto's interpreter corrected where it departs from AWS, instant waits,
  joinable executions, redrive, ``ExecutionResult``;
* ``extensions.py``: the hooks an extension gets (start, deployed, invocation, execution_ended,
  redriven, stop);
* ``iam.py``: IAM enforcement, an extension (also read by the IAM gates);
* ``eventbridge.py``: the template's EventBridge rules for ended executions, an extension;
* ``cognito/``: strict Cognito (``rules.py``: what Cognito refuses; ``features.py``: what moto
  lacks; ``messaging.py``: SMS role and SES checks), an extension;
* ``errors.py``: ``EmulatorError``, ``LambdaCrash``.
"""

from __future__ import annotations

from tools.emulation.errors import EmulatorError, LambdaCrash
from tools.emulation.extensions import Extension
from tools.emulation.lambda_runtime import LambdaContext
from tools.emulation.stack import REPO_ROOT, RestoreStack
from tools.emulation.stepfunctions import ExecutionResult
from tools.emulation.template import load_template

__all__ = [
    "REPO_ROOT",
    "EmulatorError",
    "ExecutionResult",
    "Extension",
    "LambdaContext",
    "LambdaCrash",
    "RestoreStack",
    "load_template",
]
