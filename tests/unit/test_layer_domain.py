"""cognito_restore.domain: hosted UI domain prefix candidates and URL (docs/cognito-behaviours.md §7)."""

from __future__ import annotations

import re

import pytest

from cognito_restore.domain import MAX_PREFIX, derived_prefixes, hosted_ui_url

VALID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def test_original_first_then_derived():
    prefixes = derived_prefixes("sample-pool-7", "r-20261102-abc123")
    assert prefixes[0] == "sample-pool-7"
    assert prefixes[1] == "sample-pool-7-dr"
    assert prefixes[2].startswith("sample-pool-7-dr-") and prefixes[2].endswith("abc123")
    assert len(prefixes) == len(set(prefixes)) == 3


@pytest.mark.parametrize(
    "prefix,restore_id",
    [
        ("sample-pool-7", "r-1"),
        ("Upper_Case.Pool", "Restore_ID!!"),
        ("a" * 40, "x" * 40),
        ("ends-with-", "r-"),
        ("x", "___"),
    ],
)
def test_every_candidate_is_a_valid_prefix(prefix, restore_id):
    for candidate in derived_prefixes(prefix, restore_id):
        assert VALID.match(candidate), candidate
        assert len(candidate) <= MAX_PREFIX


def test_restore_id_without_usable_characters_still_gives_a_third_candidate():
    prefixes = derived_prefixes("pool", "___")
    assert len(prefixes) == 3 and prefixes[2] == "pool-dr-restore"


@pytest.mark.parametrize("length", [60, 61, 63])
def test_long_prefix_still_gets_distinct_fallbacks(length):
    prefixes = derived_prefixes("a" * length, "r-123456")
    assert len(prefixes) == 3
    assert all(VALID.match(p) and len(p) <= MAX_PREFIX for p in prefixes)


def test_hosted_ui_url_includes_the_region():
    assert hosted_ui_url("sample-pool-7", "us-west-2") == "https://sample-pool-7.auth.us-west-2.amazoncognito.com"


def test_moderately_long_prefix_gets_distinct_fallbacks():
    prefixes = derived_prefixes("a" * 50, "r-123456")
    assert len(prefixes) == 3 and all(len(p) <= MAX_PREFIX for p in prefixes)
