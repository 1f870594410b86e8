"""cognito_restore.outcomes: what a phase did with each backed-up item."""

from __future__ import annotations

import json

from cognito_restore.outcomes import PhaseOutcome


def test_restore_skip_fail_and_counts():
    outcome = PhaseOutcome("groups")
    outcome.restore("admins")
    outcome.restore("group-061", "named only by memberships", "no precedence")
    outcome.skip("federated", "by design")
    outcome.fail("bad", "InvalidParameterException: x")
    assert outcome.restored == ["admins", "group-061"]
    assert outcome.notes == [
        {"item": "group-061", "note": "named only by memberships"},
        {"item": "group-061", "note": "no precedence"},
    ]
    assert outcome.skipped == [{"item": "federated", "reason": "by design"}]
    assert outcome.failed == [{"item": "bad", "reason": "InvalidParameterException: x"}]
    assert outcome.counts() == {"restored": 2, "skipped": 1, "failed": 1}


def test_round_trip_through_json():
    outcome = PhaseOutcome("app_clients")
    outcome.restore("web", "note")
    outcome.fail("backend", "why")
    outcome.manual_steps.append("do this")
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data["category"] == "app_clients"
    assert PhaseOutcome.from_dict(data) == outcome


def test_fresh_outcomes_do_not_share_lists():
    a, b = PhaseOutcome("a"), PhaseOutcome("b")
    a.restore("x")
    a.manual_steps.append("step")
    assert b.restored == [] and b.manual_steps == []
    assert b.counts() == {"restored": 0, "skipped": 0, "failed": 0}
