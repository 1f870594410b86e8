"""Every Cognito request the layer builds is valid for the INSTALLED botocore's model.

botocore validates parameters on the client before sending them: a member its model does not know
is a ParamValidationError, so a Lambda bundling an older botocore fails on a member the code sends.
This gate builds the requests from the rich sample backup (tools/sample_pool.py, as the round-trip
test does), runs them through the layer's request builders and the users' chunk code, and validates
each one with botocore's own ParamValidator against the installed model. The members that set the
botocore floor in pyproject.toml are also checked by name, with the first release that has each.
Offline: moto serves the source pool.
"""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from moto import mock_aws
from packaging.requirements import Requirement
from packaging.version import Version

from cognito_restore.arn_map import ArnMapper
from cognito_restore.chunks import ChunkOutcome, restore_user
from cognito_restore.plan import prepare_backup
from cognito_restore.pool_config import create_user_pool_request, map_lambda_config, update_user_pool_request
from cognito_restore.resources import (
    app_client_request,
    group_request,
    identity_provider_request,
    resource_server_request,
)
from cognito_restore.security import risk_configuration_request, ui_customization_request
from cognito_restore.sign_up import SIGN_UP_CLIENT_NAME, close_sign_up_request, open_sign_up, writable_attributes
from cognito_restore.users import UserPlan
from tools.emulation.cognito import strict_cognito
from tools.sample_pool import (
    OIDC_PROVIDER_NAME,
    SamplePoolSpec,
    add_federated_users,
    add_sms_mfa_options,
    build_source_pool,
    export_backup,
)

pytestmark = pytest.mark.gates

ROOT = Path(__file__).resolve().parents[2]
SOURCE_REGION, DR_REGION = "us-east-1", "eu-west-1"
NEW_POOL = f"{DR_REGION}_NewPool01"

# Request members the code sends that older botocore models lack, with the first botocore release
# whose cognito-idp model has them (found in botocore's released models). pyproject.toml's floor
# must be at least the newest of these.
MEMBER_SINCE = {
    ("CreateUserPoolClient", "ClientSecret"): "1.42.59",
    ("CreateUserPool", "KeyConfiguration"): "1.43.19",
    ("CreateUserPool", "IssuerConfiguration"): "1.43.19",
    ("UpdateUserPool", "KeyConfiguration"): "1.43.19",
    ("UpdateUserPool", "IssuerConfiguration"): "1.43.19",
    ("CreateUserPool", "AcrConfiguration"): "1.43.108",
    ("UpdateUserPool", "AcrConfiguration"): "1.43.108",
}

# What real Cognito's DescribeUserPool returns and moto 5.2.5 does not: added to the backup so the
# builders pass them through and the validator sees them.
REAL_ONLY_CONFIG = {
    "KeyConfiguration": {"KeyType": "AWS_OWNED_KEY"},
    "IssuerConfiguration": {"Type": "ORIGINAL"},
    "AcrConfiguration": {"level1": {"AcrValue": "urn:example:acr:1"}},
}


def cognito_model() -> Any:
    return botocore.session.get_session().get_service_model("cognito-idp")


class _Sink:
    """plan.ChunkSink in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}

    def key(self, name: str) -> str:
        return f"restores/r-1/{name}"

    def chunk_key(self, name: str) -> str:
        return f"chunks/r-1/{name}"

    def put_json(self, key: str, value: Any) -> str:
        self.objects[key] = json.loads(json.dumps(value))
        return key


SIGN_UP_CLIENT = "signupclient0000000000000"  # the temporary SignUp client (cognito_restore/sign_up.py)


class _ValidatingCognito:
    """Stands in for the cognito-idp client of a chunk task: validates each call, answers like Cognito."""

    def __init__(self, validate: Callable[[str, dict[str, Any]], None]) -> None:
        self._validate = validate
        self._operations = {botocore.xform_name(op): op for op in cognito_model().operation_names}

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        operation = self._operations[method]

        def call(**params: Any) -> dict[str, Any]:
            self._validate(operation, params)
            if operation == "AdminCreateUser":
                attributes = [*params.get("UserAttributes", []), {"Name": "sub", "Value": "0000-new-sub"}]
                return {
                    "User": {
                        "Username": params["Username"],
                        "Attributes": attributes,
                        "UserStatus": "FORCE_CHANGE_PASSWORD",
                        "Enabled": True,
                    }
                }
            if operation == "SignUp":
                return {"UserSub": "0000-new-sub", "UserConfirmed": False}
            return {}

        return call


@pytest.fixture(scope="module")
def backup() -> dict[str, Any]:
    with mock_aws(), strict_cognito():
        cognito = boto3.client("cognito-idp", region_name=SOURCE_REGION)
        pool = build_source_pool(cognito, SamplePoolSpec(users=40, groups=4, rich=True))
        document = export_backup(cognito, pool.pool_id)
    add_federated_users(document, OIDC_PROVIDER_NAME, 3, group="editors")
    assert add_sms_mfa_options(document) > 0
    for key, value in REAL_ONLY_CONFIG.items():
        document["user_pool_config"].setdefault(key, value)
    return document


@pytest.fixture(scope="module")
def requests(backup: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(operation, params) of every Cognito write the restore would send for the backup."""
    sent: list[tuple[str, dict[str, Any]]] = []
    config = backup["user_pool_config"]
    # Map the Region-bound ARNs (SES identity, triggers, web ACL) so the members stay in the requests.
    mapper = ArnMapper(DR_REGION, {SOURCE_REGION: DR_REGION})
    for preserve_old_sub in (False, True):
        pool = create_user_pool_request(
            config,
            restore_id="r-1",
            source_pool_id=backup["user_pool_id"],
            target_region=DR_REGION,
            mapper=mapper,
            preserve_old_sub=preserve_old_sub,
        )
        sent.append(("CreateUserPool", pool.request))
    triggers = map_lambda_config({k: v for k, v in (config.get("LambdaConfig") or {}).items() if v}, mapper)
    assert triggers.lambda_config, "the rich sample pool has Lambda triggers"
    current = {**pool.request, "Id": NEW_POOL}  # DescribeUserPool of the new pool holds what was created
    sent.append(("UpdateUserPool", update_user_pool_request(current, triggers.lambda_config)))
    # The sign-up window of UNCONFIRMED users: opened at creation, closed before the triggers.
    sent.append(("CreateUserPool", open_sign_up(pool.request)))
    opened = {**open_sign_up(pool.request), "Id": NEW_POOL}
    sent.append(("UpdateUserPool", close_sign_up_request(opened, pool.request)))
    sent.append(
        (
            "CreateUserPoolClient",
            {
                "UserPoolId": NEW_POOL,
                "ClientName": SIGN_UP_CLIENT_NAME,
                "GenerateSecret": False,
                "WriteAttributes": writable_attributes(config.get("SchemaAttributes") or []),
                "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            },
        )
    )
    for server in backup["resource_servers"]:
        sent.append(("CreateResourceServer", resource_server_request(server, NEW_POOL).request))
    providers = {p["ProviderName"] for p in backup["identity_providers"]}
    for provider in backup["identity_providers"]:
        sent.append(("CreateIdentityProvider", identity_provider_request(provider, NEW_POOL).request))
    client_ids: dict[str, str] = {}
    for n, client in enumerate(backup["app_clients"]):
        for keep_secret in (True, False):
            built = app_client_request(
                client, NEW_POOL, available_providers=providers, keep_secret=keep_secret, mapper=mapper
            )
            sent.append(("CreateUserPoolClient", built.request))
        client_ids[client["ClientId"]] = f"newclient{n:017d}"
    for group in backup["groups"]:
        sent.append(("CreateGroup", group_request(group, NEW_POOL).request))
    if backup.get("ui_customization"):
        sent.append(
            ("SetUICustomization", ui_customization_request(backup["ui_customization"], NEW_POOL, client_ids).request)
        )
    if backup.get("risk_configuration"):
        risk = risk_configuration_request(backup["risk_configuration"], NEW_POOL, client_ids, mapper)
        sent.append(("SetRiskConfiguration", risk.request))

    # Users: planned as the prepare phase plans them, then through the chunk code itself.
    sink = _Sink()
    prepared = prepare_backup(
        io.BytesIO(json.dumps(backup).encode()),
        expected_pool_id=backup["user_pool_id"],
        sink=sink,
        user_chunk_size=1000,
        old_sub_attribute="custom:dr_old_sub",
    )
    outcome = ChunkOutcome(index=0, cognito=_ValidatingCognito(lambda op, params: sent.append((op, params))))
    for entry in sink.objects[prepared.users_manifest_key]:
        for item in sink.objects[entry["key"]]:
            restore_user(
                NEW_POOL, UserPlan.from_item(item), prepared.password_policy, outcome, sign_up_client_id=SIGN_UP_CLIENT
            )
    assert outcome.restored == prepared.planned["users"] > 0, outcome.failed
    return sent


def test_every_request_is_valid_for_the_installed_botocore(requests: list[tuple[str, dict[str, Any]]]) -> None:
    model = cognito_model()
    invalid = []
    for operation, params in requests:
        try:
            validate_parameters(params, model.operation_model(operation).input_shape)
        except ParamValidationError as error:
            invalid.append(f"{operation}: {error}")
    assert not invalid, f"botocore {botocore.__version__} refuses:\n" + "\n".join(invalid)


def test_the_requests_cover_every_phase_that_writes(requests: list[tuple[str, dict[str, Any]]]) -> None:
    sent = {operation for operation, _ in requests}
    expected = {
        "CreateUserPool",
        "UpdateUserPool",
        "CreateResourceServer",
        "CreateIdentityProvider",
        "CreateUserPoolClient",
        "CreateGroup",
        "SetUICustomization",
        "SetRiskConfiguration",
        "AdminCreateUser",
        "SignUp",
        "AdminSetUserPassword",
        "AdminDisableUser",
        "AdminSetUserMFAPreference",
        "AdminLinkProviderForUser",
        "AdminAddUserToGroup",
    }
    assert expected <= sent, f"not built: {sorted(expected - sent)}"
    members = {(operation, member) for operation, params in requests for member in params}
    assert set(MEMBER_SINCE) <= members, f"the sample backup does not exercise {sorted(set(MEMBER_SINCE) - members)}"


@pytest.mark.parametrize(("operation", "member"), sorted(MEMBER_SINCE))
def test_installed_botocore_has_the_member(operation: str, member: str) -> None:
    shape = cognito_model().operation_model(operation).input_shape
    assert member in shape.members, (
        f"botocore {botocore.__version__} has no {operation}.{member} (first in {MEMBER_SINCE[operation, member]})"
    )


def test_the_declared_floor_has_every_member() -> None:
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    needed = max(Version(v) for v in MEMBER_SINCE.values())
    floors = {}
    for entry in groups["runtime"]:
        requirement = Requirement(entry)
        if requirement.name in ("boto3", "botocore"):
            floors[requirement.name] = min(
                (Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")), default=None
            )
    # boto3 1.x.y requires botocore >= 1.x.y: both floors must be there and high enough.
    assert floors.keys() == {"boto3", "botocore"}, "declare boto3 and botocore floors in the runtime group"
    for name, floor in floors.items():
        assert floor is not None and floor >= needed, f"{name} floor {floor} is below {needed}"
    assert Version(botocore.__version__) >= needed
