"""cognito_restore.report: every backed-up item is restored, skipped or failed, by name, with the reason."""

from __future__ import annotations

import json

from cognito_restore.dry_run import build_plan
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.report import CATEGORIES, NOT_RESTORABLE, CategoryReport, Report, render_markdown

EMAIL = "ada.lovelace@example.com"
PHONE = "+15550001111"


def new_report(**kwargs) -> Report:
    defaults = dict(
        restore_id="r-20261102",
        source_pool_id="us-east-1_AbCdEf123",
        backup={
            "bucket": "cognito-backup-dr-prod-123456789012",
            "key": "cognito-backup/2026/11/02/us-east-1_AbCdEf123-101407.json",
            "timestamp": "2026-11-02T10:14:07",
        },
        dry_run=False,
    )
    defaults.update(kwargs)
    return Report(**defaults)


def filled_report() -> Report:
    report = new_report(new_pool={"id": "us-west-2_NewPool99", "region": "us-west-2"})
    for name in CATEGORIES:
        report.categories[name].backup = 0
    report.categories["users"].backup = 5
    report.categories["memberships"].backup = 3
    report.categories["groups"].backup = 2
    report.categories["app_clients"].backup = 2
    report.add_problem({"category": "users", "item": EMAIL, "outcome": "failed", "reason": f"no email for {EMAIL}"})
    report.add_problem(
        {
            "category": "users",
            "item": "Google_123",
            "outcome": "skipped",
            "reason": "federated user: recreated by Cognito at the next sign-in",
        }
    )
    report.add_chunk(
        {
            "restored": 2,
            "failed": [{"item": PHONE, "reason": "InvalidParameterException: bad"}],
            "notes": [{"item": "grace", "note": "UNCONFIRMED restored as FORCE_CHANGE_PASSWORD"}],
            "throttled": 4,
            "calls": {"AdminCreateUser": 3, "AdminSetUserPassword": 2},
        }
    )
    report.add_chunk(
        {
            "restored": 0,
            "failed": [],
            "memberships_restored": 3,
            "memberships_failed": [],
            "throttled": 1,
            "calls": {"AdminAddUserToGroup": 3},
        }
    )
    groups = PhaseOutcome("groups")
    groups.restore("admins")
    groups.restore("group-061", "named only by memberships")
    report.add_phase("groups", groups.to_dict())
    clients = PhaseOutcome("app_clients")
    clients.restore("web")
    clients.fail("backend", "InvalidParameterException: Invalid write attributes")
    clients.manual_steps.append("Rotate the backend secret")
    report.add_phase("app_clients", clients.to_dict())
    report.client_ids = [
        {"name": "web", "old_client_id": "old-web", "new_client_id": "new-web"},
        {"name": "backend", "old_client_id": "old-backend", "new_client_id": None},
    ]
    report.domain = {"url": "https://prod-prefix.auth.us-west-2.amazoncognito.com", "status": "ACTIVE"}
    report.manual_steps.append("Tell users to sign in with forgot-password (passwords cannot be restored)")
    report.verification = {
        "users": {"expected": 2, "found": 2, "ok": True},
        "groups": {"expected": 2, "found": 1, "ok": False},
    }
    return report


# --- CategoryReport -----------------------------------------------------------------------------


def test_counts_of_a_category():
    c = CategoryReport(
        backup=5, restored=2, skipped=[{"item": "a", "reason": "r"}], failed=[{"item": "b", "reason": "r"}]
    )
    assert c.counts() == {"backup": 5, "restored": 2, "skipped": 1, "failed": 1}


def test_balance_turns_unaccounted_items_into_failures():
    c = CategoryReport(backup=5, restored=2, skipped=[{"item": "a", "reason": "r"}])
    c.balance()
    assert c.counts() == {"backup": 5, "restored": 2, "skipped": 1, "failed": 2}
    assert all(f["reason"] for f in c.failed)
    assert c.restored + len(c.skipped) + len(c.failed) == c.backup


def test_balance_is_idempotent_and_leaves_balanced_categories_alone():
    c = CategoryReport(backup=3, restored=3)
    c.balance()
    assert c.failed == []
    c = CategoryReport(backup=4, restored=1)
    c.balance()
    c.balance()
    assert len(c.failed) == 3


def test_every_category_balances_after_a_full_report():
    report = filled_report()
    for category in report.categories.values():
        category.balance()
    for name, counts in report.counts().items():
        assert counts["restored"] + counts["skipped"] + counts["failed"] >= counts["backup"], name
    users = report.counts()["users"]
    assert users == {"backup": 5, "restored": 2, "skipped": 1, "failed": 2}


# --- Report accumulation ------------------------------------------------------------------------


def test_report_has_every_category():
    assert set(new_report().categories) == set(CATEGORIES)
    assert {
        "users",
        "memberships",
        "groups",
        "app_clients",
        "identity_providers",
        "resource_servers",
        "domain",
        "pool_configuration",
        "ui_customization",
        "threat_protection",
        "waf",
    } <= set(CATEGORIES)


def test_add_problem_routes_by_outcome():
    report = new_report()
    report.add_problem({"category": "memberships", "item": "g: ghost", "outcome": "failed", "reason": "absent"})
    report.add_problem({"category": "memberships", "item": "g: Google_1", "outcome": "skipped", "reason": "federated"})
    c = report.categories["memberships"]
    assert c.failed == [{"item": "g: ghost", "reason": "absent"}]
    assert c.skipped == [{"item": "g: Google_1", "reason": "federated"}]


def test_add_chunk_and_phase_accumulate():
    report = filled_report()
    assert report.categories["users"].restored == 2
    assert report.categories["memberships"].restored == 3
    assert report.categories["groups"].restored == 2
    assert report.categories["app_clients"].restored == 1
    assert report.throttled_calls == 5
    assert report.api_calls == {"AdminCreateUser": 3, "AdminSetUserPassword": 2, "AdminAddUserToGroup": 3}
    assert {"item": "group-061", "note": "named only by memberships"} in report.categories["groups"].notes


def test_manual_steps_are_not_duplicated():
    report = new_report()
    outcome = PhaseOutcome("waf")
    outcome.manual_steps += ["Associate a web ACL", "Associate a web ACL"]
    report.add_phase("waf", outcome.to_dict())
    report.add_phase("waf", outcome.to_dict())
    assert report.manual_steps == ["Associate a web ACL"]


# --- summary ------------------------------------------------------------------------------------


def test_summary_has_counts_and_no_personal_data():
    report = filled_report()
    summary = report.summary()
    text = json.dumps(summary)
    assert EMAIL not in text and PHONE not in text and "Google_123" not in text and "backend" not in text
    assert "ada" not in text
    assert summary["users"] == "2/5 restored, 1 skipped, 2 failed"
    assert summary["verification"] == "MISMATCH in groups"


def test_summary_verification_ok():
    report = new_report()
    report.verification = {"users": {"ok": True}}
    assert report.summary()["verification"] == "OK"
    assert set(report.summary()) == {"verification"}  # empty categories are left out


# --- to_dict ------------------------------------------------------------------------------------


def test_to_dict_is_json_and_complete():
    document = json.loads(json.dumps(filled_report().to_dict()))
    assert document["restore_id"] == "r-20261102"
    assert document["not_restorable"] == list(NOT_RESTORABLE)
    users = document["categories"]["users"]
    assert users["failed_items"][0] == {"item": EMAIL, "reason": f"no email for {EMAIL}"}
    assert {"backup", "restored", "skipped", "failed", "skipped_items", "failed_items", "notes"} <= set(users)
    assert document["counts"]["users"] == {"backup": 5, "restored": 2, "skipped": 1, "failed": 2}


def test_not_restorable_names_passwords_mfa_and_ids():
    items = " ".join(e["item"] for e in NOT_RESTORABLE)
    assert "passwords" in items and "TOTP" in items and "sub" in items and "client ids" in items


# --- app configuration --------------------------------------------------------------------------


def test_app_configuration_per_restored_client():
    configs = filled_report().app_configuration()
    assert set(configs) == {"web"}  # the failed client has no new id
    web = configs["web"]
    assert web[".env"].splitlines()[:4] == [
        "COGNITO_USER_POOL_ID=us-west-2_NewPool99",
        "COGNITO_CLIENT_ID=new-web",
        "COGNITO_REGION=us-west-2",
        "COGNITO_DOMAIN=prod-prefix.auth.us-west-2.amazoncognito.com",
    ]
    assert web["amplify_outputs.json"]["auth"]["user_pool_client_id"] == "new-web"
    assert '"aws_user_pools_web_client_id": "new-web"' in web["aws-exports.js"]
    pool = web["awsconfiguration.json"]["CognitoUserPool"]["Default"]
    assert pool == {"PoolId": "us-west-2_NewPool99", "AppClientId": "new-web", "Region": "us-west-2"}


def test_app_configuration_has_no_secrets():
    report = filled_report()
    report.client_ids[0]["client_secret"] = "TopSecretValue"
    assert "TopSecretValue" not in json.dumps(report.app_configuration())


def test_app_configuration_empty_for_dry_run():
    report = new_report(dry_run=True)
    report.client_ids = [{"name": "web", "old_client_id": "a", "new_client_id": "b"}]
    assert report.app_configuration() == {}


def test_app_configuration_without_domain():
    report = filled_report()
    report.domain = None
    assert "COGNITO_DOMAIN=\n" in report.app_configuration()["web"][".env"]


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_names_every_failed_and_skipped_item_and_the_manual_steps():
    document = filled_report().to_dict()
    markdown = render_markdown(document)
    for category in document["categories"].values():
        for item in category["failed_items"] + category["skipped_items"]:
            assert item["item"] in markdown and item["reason"] in markdown
    for step in document["manual_steps"]:
        assert f"- [ ] {step}" in markdown
    assert "backend" in markdown and "Invalid write attributes" in markdown
    assert "Google_123" in markdown and EMAIL in markdown and PHONE in markdown


def test_markdown_has_counts_verification_ids_and_app_configuration():
    markdown = render_markdown(filled_report().to_dict())
    assert "| users | 5 | 2 | 1 | 2 |" in markdown
    assert "groups: expected 2, found 1: MISMATCH" in markdown
    assert "users: expected 2, found 2: OK" in markdown
    assert "| web | `old-web` | `new-web` |" in markdown
    assert "### App configuration: web" in markdown
    assert "COGNITO_CLIENT_ID=new-web" in markdown
    assert "us-west-2_NewPool99" in markdown
    assert (
        "s3://cognito-backup-dr-prod-123456789012/cognito-backup/2026/11/02/us-east-1_AbCdEf123-101407.json" in markdown
    )
    for entry in NOT_RESTORABLE:
        assert entry["item"] in markdown


def test_markdown_for_a_dry_run_is_a_plan_with_none_in_empty_sections():
    report = new_report(dry_run=True)
    report.plan = build_plan(
        {"users": 2},
        {"users": 1, "memberships": 0},
        {"users": [{"item": "bob", "reason": "listed twice in the backup"}]},
        [],
        [],
        None,
    )
    markdown = render_markdown(report.to_dict())
    assert markdown.startswith("# Cognito DR restore plan (dry run)")
    assert "| users | 2 | 1 | 1 |" in markdown
    assert "- users: `bob`: listed twice in the backup" in markdown
    assert "## Manual steps a restore will need\n\nnone" in markdown
    assert "failed" not in markdown.lower() and "verification" not in markdown.lower()
    assert "App client ids" not in markdown
    assert report.counts()["users"] == {"backup": 2, "would_create": 1, "would_skip": 1}


def test_markdown_lists_balanced_unaccounted_items():
    report = new_report()
    report.categories["groups"].backup = 2
    report.categories["groups"].balance()
    markdown = render_markdown(report.to_dict())
    assert markdown.count("groups failed: `(unaccounted)`") == 2


def test_links_and_mfa_preferences_not_restored_are_counted_not_notes():
    """A restored user without one of its links or its MFA preference leaves an item not restored: it is
    in the counts that add up (and so in the outcome), not only a note."""
    from cognito_restore.verification import decide

    report = new_report()
    report.categories["identity_links"].backup = 3
    report.categories["mfa_preferences"].backup = 2
    report.categories["memberships"].backup = 1
    report.add_chunk(
        {
            "restored": 2,
            "links_restored": 1,
            "unlinked": [{"item": "alice: CorpOIDC", "reason": "not linked to CorpOIDC: InvalidParameterException: x"}],
            "mfa_restored": 1,
            "mfa_failed": [{"item": "bob", "reason": "SMS MFA preference not restored: InvalidParameterException: y"}],
            "dependents_skipped": [
                {"category": "identity_links", "item": "carol: CorpOIDC", "reason": "user not restored (z)"},
                {"category": "memberships", "item": "admins: carol", "reason": "user not restored (z)"},
            ],
        }
    )
    for name in ("identity_links", "mfa_preferences", "memberships"):
        c = report.categories[name]
        assert c.restored + len(c.skipped) + len(c.failed) == c.backup, name
    assert report.categories["identity_links"].failed[0]["item"] == "alice: CorpOIDC"
    assert report.categories["mfa_preferences"].failed[0]["item"] == "bob"
    unrestorable = sum(len(c.failed) + len(c.skipped) for c in report.categories.values())
    assert decide({}, 0, 0, 0, unrestorable, "listed").status == "complete_with_unrestorable"
