"""AWS failures for tests: errors as botocore raises them, answers a `before-call` hook returns
instead of asking the emulator, and the crash of a Lambda killed mid-call."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class Crash(BaseException):
    """Not an Exception: no `except Exception` of the code under test sees it, as when Lambda
    kills an invocation at its timeout (nothing is cleaned up, a lease stays held)."""


def client_error(code: str, status: int = 400, operation: str = "SubmitJob") -> ClientError:
    """The ClientError botocore raises for an AWS error `code` answered with HTTP `status`."""
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def error_response(status: int, code: str, message: str) -> tuple[_Http, Any]:
    """A (http, parsed) pair: a botocore `before-call` handler returning it short-circuits the
    request, so the client raises ClientError(code) without botocore's own retries."""
    return _Http(status), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def ok_response(parsed: dict[str, Any]) -> tuple[_Http, dict[str, Any]]:
    """A (http, parsed) pair of a success: returned by a `before-call` handler, the client
    returns `parsed` without asking moto (e.g. a listing that lags behind)."""
    return _Http(200), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}
