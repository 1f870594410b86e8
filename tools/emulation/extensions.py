"""Extensions: the pieces of emulation plugged into a ``RestoreStack``, one module per concern.

An extension is an object with the hooks below (subclass ``Extension`` and override what you need).
``RestoreStack._extensions()`` is the ONE place that decides which extensions a stack runs and in
which order; ``RestoreStack._install()`` calls the hooks. The order of a stack's life:

1. moto's mock starts, then the stack's own patches (Lambda dispatch, Step Functions corrections,
   the boto3 lock);
2. ``start(stack)`` of each extension, in order (install patches here; undo them in ``stop``);
3. the template is deployed; then ``deployed(stack)`` of each extension (deploy what the template
   holds for it, e.g. the rules it routes events through), before ``outputs`` are resolved;
4. while the stack runs: ``invocation(function_logical_id)`` is entered around each handler call
   (e.g. to know on whose behalf an AWS call is made); ``execution_ended(execution_arn)`` is called
   in the interpreter thread when an execution ends; ``redriven(failed_sm_arn, redriven_sm_arn)``
   before a redrive starts;
5. on exit, ``stop()`` of each extension, in reverse order, before moto's mock stops.

Today's extensions, in order: IAM enforcement (``iam.py``; ``enforce_iam=False`` leaves it out), the
template's EventBridge rules (``eventbridge.py``), strict Cognito (``cognito/``; ``strict_cognito=False``
leaves it out).
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.emulation.stack import RestoreStack


class Extension:
    """No-op hooks; see the module doc for when each is called."""

    def start(self, stack: RestoreStack) -> None:
        """Install (patch moto); moto's mock and the stack's own patches are up, nothing is deployed."""

    def deployed(self, stack: RestoreStack) -> None:
        """The template's resources exist in moto (``stack.resources`` is not filled yet)."""

    def invocation(self, function_logical_id: str) -> AbstractContextManager[Any]:
        """Entered around one handler call."""
        return contextlib.nullcontext()

    def execution_ended(self, execution_arn: str) -> None:
        """An execution has ended (called in its interpreter thread)."""

    def redriven(self, failed_state_machine_arn: str, redriven_state_machine_arn: str) -> None:
        """``RestoreStack.redrive`` created the state machine it is about to start."""

    def stop(self) -> None:
        """Undo ``start``."""
