"""The dry run's plans of the phases after the users (cognito_restore/sync_settings.py), without AWS."""

from __future__ import annotations

from typing import Any

from cognito_restore.arn_map import ArnMapper
from cognito_restore.errors import NotRestorable
from cognito_restore.resources import Request
from cognito_restore.sync_settings import CUSTOM_DOMAIN_REASON, plan_domain, plan_settings, plan_triggers

SOURCE_FN = "arn:aws:lambda:us-east-1:111122223333:function:pre-token"
DR_FN = "arn:aws:lambda:us-west-2:111122223333:function:pre-token"


def test_the_domain_is_created_when_the_target_has_none_and_a_target_domain_is_kept() -> None:
    config = {"Domain": "shop-auth", "CustomDomain": "auth.example.com"}

    none = plan_domain(config, {}).to_dict()
    other = plan_domain(config, {"Domain": "shop-auth-dr"}).to_dict()

    assert none["create"] == ["shop-auth"] and none["unchanged"] == 0
    assert none["cannot_sync"] == [{"item": "auth.example.com", "note": CUSTOM_DOMAIN_REASON}]
    assert other["create"] == [] and other["unchanged"] == 1
    assert other["cannot_sync"][1]["item"] == "shop-auth-dr" and "shop-auth" in other["cannot_sync"][1]["note"]
    assert plan_domain({}, {"Domain": "x"}).to_dict()["unchanged"] == 0  # no backed-up domain: nothing to plan


def test_triggers_are_compared_after_mapping_and_the_target_only_ones_are_absent() -> None:
    mapper = ArnMapper("us-west-2", {SOURCE_FN: DR_FN})
    config = {
        "LambdaConfig": {
            "PreTokenGeneration": SOURCE_FN,
            "PostConfirmation": SOURCE_FN,
            "PreSignUp": "arn:aws:lambda:us-east-1:111122223333:function:unmapped",
            "DefineAuthChallenge": "",  # empty entries are not triggers
        }
    }
    target = {"LambdaConfig": {"PreTokenGeneration": DR_FN, "PostConfirmation": "arn:other", "CustomMessage": DR_FN}}

    plan = plan_triggers(config, target, mapper).to_dict()

    assert plan["unchanged"] == 1  # PreTokenGeneration maps to what the target has
    assert plan["update"] == [{"item": "Lambda trigger PostConfirmation", "settings": ["PostConfirmation"]}]
    assert plan["create"] == []
    assert plan["absent_from_backup"] == ["Lambda trigger CustomMessage"]
    assert [n["item"] for n in plan["cannot_sync"]] == ["Lambda trigger PreSignUp"]
    assert plan_triggers({"LambdaConfig": {"PreTokenGeneration": SOURCE_FN}}, {}, mapper).to_dict()["create"] == [
        "Lambda trigger PreTokenGeneration"
    ]


def test_a_setting_of_a_client_the_sync_creates_is_created_with_it_and_an_unrestorable_one_is_named() -> None:
    asked: list[dict[str, Any]] = []

    def build(value: dict[str, Any]) -> Request:
        if value.get("ClientId") == "gone":
            raise NotRestorable("app client gone was not restored")
        return Request(
            {"UserPoolId": "us-west-2_T", **({"ClientId": value["ClientId"]} if value.get("ClientId") else {})}
        )

    def differences(request: Any) -> tuple[str, ...]:
        asked.append(dict(request))
        return ("CSS",) if request.get("ClientId") == "web-new" else ()

    values = [{"CSS": "a"}, {"ClientId": "web-new", "CSS": "b"}, {"ClientId": "kiosk-old"}, {"ClientId": "gone"}, None]
    plan = plan_settings(
        "ui_customization", values, lambda v: f"UI ({v.get('ClientId') or 'ALL'})", build, differences, {"kiosk-old"}
    ).to_dict()

    assert plan["unchanged"] == 1
    assert plan["update"] == [{"item": "UI (web-new)", "settings": ["CSS"]}]
    assert plan["create"] == ["UI (kiosk-old)"]
    assert plan["cannot_sync"] == [{"item": "UI (gone)", "note": "app client gone was not restored"}]
    assert [r.get("ClientId") for r in asked] == [None, "web-new"]  # the created client's setting is not read
