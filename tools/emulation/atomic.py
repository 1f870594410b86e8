"""DynamoDB requests served one at a time, as each DynamoDB request is atomic on AWS.

The emulator runs handlers in threads (the Distributed Map's items). moto's TransactWriteItems
deep-copies every table before applying the transaction (its rollback copy), and another thread's
write meanwhile breaks that copy: ``RuntimeError: dictionary changed size during iteration`` (seen
in a 2,000-user drill, chunks taking their lease in one transaction while others checkpoint).
On AWS every request is atomic and isolated; here each DynamoDB request holds this lock.
(Cognito requests get the same treatment in the strict-Cognito layer.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

CALL_LOCK = threading.RLock()


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    def call_action(self: Any) -> Any:
        with CALL_LOCK:
            return original(self)

    return call_action


def dynamodb_patch() -> Any:
    """The patch (not started) serialising moto's DynamoDB request handler."""
    from moto.dynamodb.responses import DynamoHandler

    return mock.patch.object(DynamoHandler, "call_action", _locked(DynamoHandler.call_action))
