"""No personal data or secret of the backup may reach logs, alerts or the Step Functions history."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from tests.workflow.conftest import make_backup, put_raw_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec, backup_key


def _sensitive_values(backup: dict[str, Any]) -> set[str]:
    values: set[str] = set()
    for user in backup["users"]:
        for attribute in user["Attributes"]:
            if attribute["Name"] in ("email", "phone_number", "name"):
                values.add(attribute["Value"])
    for client in backup["app_clients"]:
        if client.get("ClientSecret"):
            values.add(client["ClientSecret"])
    for provider in backup["identity_providers"]:
        secret = (provider.get("ProviderDetails") or {}).get("client_secret")
        if secret:
            values.add(secret)
    return {v for v in values if len(v) >= 6}


def _visible_text(
    stack: RestoreStack, result: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> str:
    out, err = capfd.readouterr()
    _assert_metrics_and_log_keys_name_no_data(out + "\n" + err, caplog, stack)
    return "\n".join(
        [
            json.dumps(result.history, default=str),
            json.dumps(result.map_runs, default=str),
            json.dumps(stack.alerts()),
            out,
            err,
            caplog.text,
        ]
    )


IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SERVICE = "cognito-dr-restore"  # POWERTOOLS_SERVICE_NAME in the template's Globals: the functions' logger
PHASES = {path.parent.name for path in Path("functions").glob("*/app.py")}


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _assert_metrics_and_log_keys_name_no_data(
    output: str, caplog: pytest.LogCaptureFixture, stack: RestoreStack
) -> None:
    """Metrics (embedded metric format, printed) and structured log lines (formatted as the
    functions' Powertools logger does): metric dimensions are the phase and the service only, and
    every key of a log line or metric document, at any depth, is an identifier (a user's e-mail,
    phone or username never is)."""
    metrics = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            metrics.append(record)
    assert len(metrics) == len(stack.invocations), "one metric document per invocation (its phase's metrics)"
    for record in metrics:
        for directive in record["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "CognitoDrRestore"
            assert all(set(dimensions) <= {"phase", "service"} for dimensions in directive["Dimensions"])
        assert record["phase"] in PHASES, record["phase"]
    service = logging.getLogger(SERVICE)
    # The functions' formatter; an earlier test in the same process may have replaced the handlers.
    formatter = next((handler.formatter for handler in service.handlers if handler.formatter), None) or (
        LambdaPowertoolsFormatter()
    )
    logs = [json.loads(formatter.format(record)) for record in caplog.records if record.name == SERVICE]
    assert logs, "no log line of the functions seen"
    odd = sorted({key for record in metrics + logs for key in _keys(record) if not IDENTIFIER.match(key)})
    assert not odd, f"log or metric keys that are not identifiers: {odd[:5]}"


def _start_capture(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """Scan only what the restore emits (not the fixture's setup), at the functions' log level."""
    capfd.readouterr()
    caplog.clear()
    caplog.set_level(logging.INFO)
    # The functions' Logger keeps the level it was created with (a drill earlier in this process: WARNING).
    caplog.set_level(logging.INFO, logger=SERVICE)


def _assert_no_leak(text: str, sensitive: set[str]) -> None:
    leaked = sorted(v for v in sensitive if v in text)
    assert not leaked, f"{len(leaked)} sensitive values visible, e.g. {leaked[:3]}"


def test_a_restore_leaks_nothing(
    stack: RestoreStack, source_cognito: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=40, groups=3, username_mode="email"))
    sensitive = _sensitive_values(source.backup)
    assert len(sensitive) > 40  # e-mails, phones, names, the client secret, the OIDC secret
    _start_capture(capfd, caplog)

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    _assert_no_leak(_visible_text(stack, result, capfd, caplog), sensitive)


def test_a_failing_restore_leaks_nothing(
    stack: RestoreStack, source_cognito: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A backup that breaks in the middle of a user: the parser's error must not quote it."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    sensitive = _sensitive_values(source.backup)
    body = json.dumps(source.backup)
    email = next(v for v in sensitive if "@" in v)
    broken = body[: body.index(email) + len(email)] + '\u0000"}]'  # cut right after an e-mail, then garbage
    put_raw_backup(stack, backup_key(source.pool_id, datetime(2030, 1, 1)), broken.encode())
    _start_capture(capfd, caplog)

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "FAILED" and result.error == "BackupInvalid"
    _assert_no_leak(_visible_text(stack, result, capfd, caplog), sensitive)
