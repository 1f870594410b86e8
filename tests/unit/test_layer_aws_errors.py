"""The AWS error helpers: every module reads error codes through them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from cognito_restore.aws_errors import (
    describe_error,
    error_code,
    is_throttled_response,
    is_throttling,
    raise_if_throttled,
    states_error,
)
from cognito_restore.errors import CognitoThrottled


def _error(response: dict[str, object]) -> ClientError:
    return ClientError(response, "AdminCreateUser")


def test_code_and_message() -> None:
    error = _error({"Error": {"Code": "UsernameExistsException", "Message": "User account already exists"}})
    assert error_code(error) == "UsernameExistsException"
    assert describe_error(error) == "UsernameExistsException: User account already exists"


@pytest.mark.parametrize("response", [{}, {"Error": {}}, {"Error": {"Code": 7}}])
def test_a_response_without_a_usable_error_is_unknown(response: dict[str, object]) -> None:
    error = _error(response)
    assert error_code(error) == "Unknown"
    assert not is_throttling(error)


def test_other_exceptions_have_no_code() -> None:
    assert error_code(ValueError("x")) == "Unknown"
    assert not is_throttling(ValueError("x"))


def test_throttling() -> None:
    throttled = _error({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}})
    assert is_throttling(throttled)
    with pytest.raises(CognitoThrottled, match="TooManyRequestsException"):
        raise_if_throttled(throttled)
    raise_if_throttled(_error({"Error": {"Code": "UserNotFoundException"}}))  # not throttling: returns
    assert is_throttled_response({"Error": {"Code": "SlowDown"}})
    assert not is_throttled_response(None) and not is_throttled_response({"Error": {"Code": "AccessDenied"}})


def test_states_error() -> None:
    assert states_error({"Error": "BackupInvalid", "Cause": "truncated"}) == ("BackupInvalid", "truncated")
    assert states_error({}) == ("Unknown", "")
