"""cognito_restore.security: UI CSS, threat protection and WAF of the new pool (docs/cognito-behaviours.md §7, §8)."""

from __future__ import annotations

import copy

import pytest

from cognito_restore.arn_map import ArnMapper
from cognito_restore.security import (
    NotRestorable,
    new_client_id,
    risk_configuration_request,
    ui_customization_request,
    web_acl_arn,
)

NEW_POOL = "us-west-2_NewPool99"
REGION = "us-west-2"
MAPPER = ArnMapper(REGION)
CLIENTS = {"old-web": "new-web", "old-mobile": "new-mobile"}


# --- client ids ---------------------------------------------------------------------------------


def test_known_client_is_remapped():
    assert new_client_id("old-web", CLIENTS) == "new-web"


@pytest.mark.parametrize("pool_level", [None, "", "ALL"])
def test_pool_level_settings_have_no_client(pool_level):
    assert new_client_id(pool_level, CLIENTS) is None
    assert new_client_id(pool_level, {}) is None


def test_unknown_client_is_not_restorable_and_named():
    with pytest.raises(NotRestorable) as info:
        new_client_id("old-deleted", CLIENTS)
    assert "old-deleted" in str(info.value)


# --- UI customization ---------------------------------------------------------------------------


def test_pool_level_ui_customization():
    ui = {
        "UserPoolId": "us-east-1_Old",
        "ClientId": "ALL",
        "CSS": ".banner-customizable{}",
        "CSSVersion": "1",
        "ImageUrl": "https://d1.cloudfront.net/logo.png",
        "CreationDate": "x",
        "LastModifiedDate": "y",
    }
    result = ui_customization_request(ui, NEW_POOL, CLIENTS)
    assert result.request == {"UserPoolId": NEW_POOL, "CSS": ".banner-customizable{}"}
    (note,) = result.notes
    assert "https://d1.cloudfront.net/logo.png" in note


def test_client_ui_customization_uses_the_new_client_id():
    result = ui_customization_request({"ClientId": "old-mobile", "CSS": ".x{}"}, NEW_POOL, CLIENTS)
    assert result.request["ClientId"] == "new-mobile"
    assert result.notes == ()


def test_ui_customization_of_an_unrestored_client_is_not_restorable():
    with pytest.raises(NotRestorable):
        ui_customization_request({"ClientId": "gone", "CSS": ".x{}"}, NEW_POOL, CLIENTS)


# --- risk configuration -------------------------------------------------------------------------


def takeover(source_region: str) -> dict:
    return {
        "NotifyConfiguration": {
            "From": "security@example.com",
            "SourceArn": f"arn:aws:ses:{source_region}:123456789012:identity/example.com",
            "BlockEmail": {"Subject": "Blocked", "TextBody": "t"},
        },
        "Actions": {
            "LowAction": {"Notify": True, "EventAction": "NO_ACTION"},
            "MediumAction": {"Notify": True, "EventAction": "MFA_IF_CONFIGURED"},
            "HighAction": {"Notify": True, "EventAction": "BLOCK"},
        },
    }


def risk(source_region="us-east-1", client=None) -> dict:
    return {
        "UserPoolId": "us-east-1_Old",
        "ClientId": client,
        "LastModifiedDate": "2026-01-01",
        "CompromisedCredentialsRiskConfiguration": {"EventFilter": ["SIGN_IN"], "Actions": {"EventAction": "BLOCK"}},
        "AccountTakeoverRiskConfiguration": takeover(source_region),
        "RiskExceptionConfiguration": {"BlockedIPRangeList": ["10.0.0.0/8"], "SkippedIPRangeList": []},
    }


def test_takeover_notifications_from_another_region_are_disabled_actions_kept():
    raw = risk("us-east-1")
    before = copy.deepcopy(raw)
    result = risk_configuration_request(raw, NEW_POOL, CLIENTS, MAPPER)
    account = result.request["AccountTakeoverRiskConfiguration"]
    assert "NotifyConfiguration" not in account
    assert {a["Notify"] for a in account["Actions"].values()} == {False}
    assert [a["EventAction"] for a in account["Actions"].values()] == ["NO_ACTION", "MFA_IF_CONFIGURED", "BLOCK"]
    (note,) = result.notes
    assert "us-east-1" in note
    assert raw == before  # the backup is not changed


def test_takeover_notifications_in_the_target_region_are_kept():
    result = risk_configuration_request(risk(REGION), NEW_POOL, CLIENTS, MAPPER)
    assert result.request["AccountTakeoverRiskConfiguration"] == takeover(REGION)
    assert result.notes == ()


def test_risk_request_drops_describe_only_fields_and_keeps_the_rest():
    result = risk_configuration_request(risk(REGION), NEW_POOL, CLIENTS, MAPPER)
    assert result.request["UserPoolId"] == NEW_POOL
    assert "ClientId" not in result.request and "LastModifiedDate" not in result.request
    assert (
        result.request["CompromisedCredentialsRiskConfiguration"] == risk()["CompromisedCredentialsRiskConfiguration"]
    )
    assert result.request["RiskExceptionConfiguration"]["BlockedIPRangeList"] == ["10.0.0.0/8"]


def test_client_risk_configuration_uses_the_new_client_id():
    result = risk_configuration_request(risk(REGION, client="old-web"), NEW_POOL, CLIENTS, MAPPER)
    assert result.request["ClientId"] == "new-web"
    result = risk_configuration_request(risk(REGION, client="ALL"), NEW_POOL, CLIENTS, MAPPER)
    assert "ClientId" not in result.request


def test_risk_configuration_of_an_unrestored_client_is_not_restorable():
    with pytest.raises(NotRestorable):
        risk_configuration_request(risk(REGION, client="gone"), NEW_POOL, CLIENTS, MAPPER)


def test_risk_configuration_without_takeover():
    raw = risk(REGION)
    del raw["AccountTakeoverRiskConfiguration"]
    result = risk_configuration_request(raw, NEW_POOL, CLIENTS, MAPPER)
    assert "AccountTakeoverRiskConfiguration" not in result.request


# --- WAF ----------------------------------------------------------------------------------------


def test_web_acl_in_the_target_region_is_used():
    arn = f"arn:aws:wafv2:{REGION}:123456789012:regional/webacl/cognito/abcd"
    assert web_acl_arn({"WebACLArn": arn, "WebACLName": "cognito"}, MAPPER) == arn


def test_web_acl_in_another_region_is_not_restorable():
    arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/cognito/abcd"
    with pytest.raises(NotRestorable) as info:
        web_acl_arn({"WebACLArn": arn}, MAPPER)
    assert arn in str(info.value)


@pytest.mark.parametrize("waf", [{}, {"WebACLArn": ""}, {"WebACLArn": None, "WebACLName": "x"}])
def test_missing_web_acl_arn_is_not_restorable(waf):
    with pytest.raises(NotRestorable):
        web_acl_arn(waf, MAPPER)


def test_cloudfront_scope_web_acl_is_not_restorable():
    # CloudFront-scope ACLs live in us-east-1 under "global"; never usable for a regional pool elsewhere
    with pytest.raises(NotRestorable):
        web_acl_arn({"WebACLArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/cf/1"}, MAPPER)


def test_mapped_web_acl_from_the_source_region_is_used():
    old = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/cognito/1"
    new = "arn:aws:wafv2:us-west-2:123456789012:regional/webacl/cognito-dr/2"
    assert web_acl_arn({"WebACLArn": old}, ArnMapper(REGION, {old: new})) == new


def test_mapped_ses_identity_keeps_takeover_notifications():
    raw = risk("us-east-1")
    source = raw["AccountTakeoverRiskConfiguration"]["NotifyConfiguration"]["SourceArn"]
    mapped = ArnMapper(REGION, {"us-east-1": REGION})
    result = risk_configuration_request(raw, NEW_POOL, CLIENTS, mapped)
    assert result.request["AccountTakeoverRiskConfiguration"]["NotifyConfiguration"]["SourceArn"] == source.replace(
        "us-east-1", REGION
    )
    assert result.notes == ()
