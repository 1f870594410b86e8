"""The report's Amplify Gen 2 `amplify_outputs.json` type-checks against the types Amplify publishes.

`@aws-amplify/client-config` ships `AWSAmplifyBackendOutputs`, generated from the JSON schema of
`amplify_outputs.json` (version 1.5 here): `make node` fetches the package's own files (npm pack,
integrity checked) and TypeScript (pinned in .ci/package-lock.json). An object literal assigned to that
type must have every required key with the right type and no key the schema does not define
(TypeScript's excess-property check), which is what the Amplify libraries read.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cognito_restore.app_config import app_context, for_client
from tests.gates.test_gates import ROOT, require_tool
from tests.unit.test_app_config import CLIENT, DOMAIN, PARTS, POOL, REGION  # the same sample pool

TSC = ROOT / ".ci" / "node_modules" / "typescript" / "bin" / "tsc"
TYPES = ROOT / ".ci" / "amplify-client-config" / "package" / "lib" / "client-config-schema" / "client_config_v1.5"


def _typecheck(tmp_path: Path, value: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    require_tool(TSC, "node")
    require_tool(TYPES.with_suffix(".d.ts"), "node")
    source = tmp_path / "outputs.ts"
    source.write_text(
        f'import type {{ AWSAmplifyBackendOutputs }} from "{TYPES}";\n'
        f"export const outputs: AWSAmplifyBackendOutputs = {json.dumps(value, indent=2)};\n"
    )
    return subprocess.run(
        ["node", str(TSC), "--noEmit", "--strict", "--target", "es2022", "--module", "es2022", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.gates
@pytest.mark.parametrize("client,domain", [("web", DOMAIN), ("backend", DOMAIN), ("web", "")])
def test_amplify_outputs_type_checks_against_the_published_types(tmp_path: Path, client: str, domain: str) -> None:
    outputs = for_client(POOL, REGION, CLIENT, client, app_context(PARTS), domain)["amplify_outputs.json"]

    proc = _typecheck(tmp_path, outputs)

    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.gates
def test_the_published_types_refuse_gen1_keys(tmp_path: Path) -> None:
    """The check can fail: the Gen 1 keys the report used to give are not amplify_outputs."""
    proc = _typecheck(tmp_path, {"version": "1.5", "aws_user_pools_id": POOL, "aws_user_pools_web_client_id": CLIENT})

    assert proc.returncode != 0
    assert "aws_user_pools_id" in proc.stdout
