"""cognito_restore.app_config: the app configuration snippets are in the formats the SDKs read."""

from __future__ import annotations

import json
import re

from cognito_restore.app_config import app_context, for_client
from cognito_restore.report import Report, reinvite_command, reinvite_csv, render_markdown

POOL, REGION, CLIENT = "us-west-2_NewPool99", "us-west-2", "newclientid123"
DOMAIN = "prod-prefix.auth.us-west-2.amazoncognito.com"

PARTS = {
    "user_pool_config": {
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "MfaConfiguration": "OPTIONAL",
        "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireNumbers": True, "RequireSymbols": False}},
        "SchemaAttributes": [
            {"Name": "email", "Required": True},
            {"Name": "name", "Required": False},
            {"Name": "custom:tenant", "Required": False},
        ],
    },
    "app_clients": [
        {
            "ClientName": "web",
            "CallbackURLs": ["https://app.example.com/callback"],
            "LogoutURLs": ["https://app.example.com/"],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "SupportedIdentityProviders": ["COGNITO", "Google", "CorpOIDC"],
        },
        {"ClientName": "backend"},
    ],
}


def _config(name: str, domain: str = DOMAIN) -> dict:
    return for_client(POOL, REGION, CLIENT, name, app_context(PARTS), domain)


def test_amplify_outputs_names_the_new_pool_and_client() -> None:
    # Its shape is type-checked against Amplify's published types by tests/gates/test_app_config_types.py.
    outputs = _config("web")["amplify_outputs.json"]
    assert outputs["version"] == "1.5"
    assert outputs["auth"]["user_pool_id"] == POOL and outputs["auth"]["user_pool_client_id"] == CLIENT


def test_amplify_outputs_oauth_for_a_hosted_ui_client() -> None:
    auth = _config("web")["amplify_outputs.json"]["auth"]
    assert auth["oauth"] == {
        "identity_providers": ["GOOGLE"],  # the enum lists social providers only
        "domain": DOMAIN,
        "scopes": ["openid", "email"],
        "redirect_sign_in_uri": ["https://app.example.com/callback"],
        "redirect_sign_out_uri": ["https://app.example.com/"],
        "response_type": "code",
    }
    assert auth["username_attributes"] == ["email"] and auth["standard_required_attributes"] == ["email"]
    assert auth["password_policy"]["min_length"] == 12 and auth["mfa_configuration"] == "OPTIONAL"
    assert "oauth" not in _config("backend")["amplify_outputs.json"]["auth"]


def test_aws_exports_gen1_with_its_oauth_block() -> None:
    text = _config("web")["aws-exports.js"]
    assert text.startswith("const awsmobile = {") and text.rstrip().endswith("export default awsmobile;")
    config = json.loads(re.search(r"= (\{.*\});", text, re.S).group(1))  # type: ignore[union-attr]
    assert config["aws_user_pools_id"] == POOL and config["aws_user_pools_web_client_id"] == CLIENT
    assert config["aws_cognito_region"] == REGION
    assert config["oauth"] == {
        "domain": DOMAIN,
        "scope": ["openid", "email"],
        "redirectSignIn": "https://app.example.com/callback",
        "redirectSignOut": "https://app.example.com/",
        "responseType": "code",
    }


def test_mobile_awsconfiguration_has_cognito_user_pool() -> None:
    document = _config("web")["awsconfiguration.json"]
    assert document["CognitoUserPool"]["Default"] == {"PoolId": POOL, "AppClientId": CLIENT, "Region": REGION}
    assert document["Auth"]["Default"]["OAuth"]["WebDomain"] == DOMAIN
    assert "Auth" not in _config("backend")["awsconfiguration.json"]


def test_dotenv_and_backend_issuer() -> None:
    config = _config("backend")
    lines = config[".env"].splitlines()
    assert all(re.fullmatch(r"[A-Z_]+=[^\s]*", line) for line in lines), lines
    assert f"COGNITO_USER_POOL_ID={POOL}" in lines and f"COGNITO_CLIENT_ID={CLIENT}" in lines
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
    assert config["backend"]["issuer"] == issuer
    assert config["backend"]["jwks_url"] == f"{issuer}/.well-known/jwks.json"


def test_no_secret_in_any_snippet() -> None:
    parts = json.loads(json.dumps(PARTS))
    parts["app_clients"][1]["ClientSecret"] = "TopSecretValue"
    assert "TopSecretValue" not in json.dumps(for_client(POOL, REGION, CLIENT, "backend", app_context(parts), DOMAIN))


def _restored_report() -> Report:
    report = Report(
        restore_id="r1",
        source_pool_id="us-east-1_AbCdEf123",
        backup={"bucket": "b", "key": "k", "timestamp": "2026-11-02T10:14:07"},
        dry_run=False,
        new_pool={"id": POOL, "region": REGION},
    )
    report.categories["users"].backup = 3
    report.add_chunk(
        {
            "restored": 3,
            "reinvite": ["ada", "bob,jr"],
            "notes": [{"item": "carol", "note": "attribute custom:gone is not in the pool schema"}],
        }
    )
    report.reinvite_csv = "s3://work-bucket/restores/r1/reinvite.csv"
    report.times = {"started": "2026-11-02T11:00:00+00:00", "ended": "x", "duration": "5 min", "backup_age": "51 min"}
    report.client_ids = [{"name": "web", "old_client_id": "old", "new_client_id": CLIENT}]
    report.app_context = app_context(PARTS)
    return report


def test_report_markdown_stands_alone() -> None:
    markdown = render_markdown(_restored_report().to_dict())
    assert "duration: 5 min" in markdown and "Backup age at the end of the restore: 51 min" in markdown
    assert "- `carol`: attribute custom:gone is not in the pool schema" in markdown
    assert '```csv\nusername\nada\n"bob,jr"\n```' in markdown
    assert reinvite_command(POOL, REGION) in markdown
    assert "--message-action RESEND" in markdown and f"--user-pool-id {POOL}" in markdown
    assert "## Not restored, by name\n\nnone" in markdown and "## Manual steps\n\nnone" in markdown
    assert "`amplify_outputs.json`:" in markdown and "`aws-exports.js`:" in markdown


def test_reinvite_csv_quotes_what_needs_quoting() -> None:
    assert reinvite_csv(["a", 'say "hi"', "x,y"]) == 'username\na\n"say ""hi"""\n"x,y"\n'
