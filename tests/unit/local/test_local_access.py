"""The local stack's access rules, pure: where a request's token is, which origins and commands
pass (`submitter.local.access`)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from submitter.local import access

TOKEN = access.new_token()
SIGV4 = (
    f"AWS4-HMAC-SHA256 Credential={TOKEN}/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


def test_a_token_looks_like_an_access_key_id_and_is_fresh_each_time() -> None:
    assert TOKEN.startswith("BSLOCAL")
    assert TOKEN.isalnum()
    assert TOKEN.isupper()
    assert len(TOKEN) >= 32
    assert access.new_token() != TOKEN


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Authorization": SIGV4}, ""),
        ({"authorization": f"AWS {TOKEN}:c2lnbmF0dXJl"}, ""),  # SigV2
        ({}, f"X-Amz-Credential={TOKEN}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=1"),
        ({}, f"AWSAccessKeyId={TOKEN}&Signature=x&Expires=1"),  # S3's presigned URL
        ({"X-Batchscore-Token": TOKEN}, ""),
    ],
)
def test_the_token_is_found_where_clients_put_the_access_key_id(
    headers: dict[str, str], query: str
) -> None:
    assert access.token_matches(access.presented_token(headers, query), TOKEN)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": SIGV4.replace(TOKEN, "testing")},
        {"Authorization": "Bearer " + TOKEN[:-1]},
        {"X-Batchscore-Token": TOKEN.lower()},
    ],
)
def test_anything_else_is_no_token(headers: dict[str, str]) -> None:
    assert not access.token_matches(access.presented_token(headers), TOKEN)


def test_only_the_servers_own_origin_or_none_passes() -> None:
    own = access.own_origins("http://127.0.0.1:4566")
    assert own == {"http://127.0.0.1:4566", "http://localhost:4566"}
    assert access.origin_allowed(None, own)
    assert access.origin_allowed("http://127.0.0.1:4566", own)
    for origin in ("https://evil.example", "null", "http://127.0.0.1:4567", ""):
        assert not access.origin_allowed(origin, own)


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_the_batch_api_takes_json_only(content_type: str | None, ok: bool) -> None:
    assert access.is_json(content_type) is ok


@pytest.mark.parametrize(
    "command",
    [
        None,
        ["python", "-m", "job", "run", "--job-id", "a-1"],
        ["python", "-m", "job", "run", "--job-id", "a-1", "--part-rows", "100"],
        ["python", "-m", "job", "score", "/tmp/config.json"],
    ],
)
def test_the_jobs_own_argv_passes(command: list[str] | None) -> None:
    assert access.command_problem(command) is None


@pytest.mark.parametrize(
    "command",
    [
        ["sh", "-c", "id"],
        ["python", "-c", "print(1)"],
        ["python3", "-m", "job", "run"],
        ["python", "-m", "job"],
        ["python", "-m", "job", "shell"],
        ["python", "-m", "jobx", "run"],
        "python -m job run",
        ["python", "-m", "job", "run", 1],
    ],
)
def test_any_other_command_is_refused(command: Any) -> None:
    assert access.command_problem(command)


def test_environment_overrides_are_batchscore_names_only() -> None:
    assert access.environment_problem(None) is None
    assert access.environment_problem([{"name": "BATCHSCORE_TABLE", "value": "t"}]) is None
    for name in ("PYTHONWARNINGS", "LD_PRELOAD", "PATH", "batchscore_table", None):
        assert access.environment_problem([{"name": name, "value": "x"}])


def test_request_problem_looks_at_submit_and_register_only() -> None:
    bad = {"command": ["sh", "-c", "id"]}
    assert access.request_problem("submit_job", {"containerOverrides": bad})
    assert access.request_problem("register_job_definition", {"containerProperties": bad})
    assert access.request_problem("submit_job", {"containerOverrides": "x"})
    assert access.request_problem("submit_job", {"jobName": "j"}) is None
    assert access.request_problem("describe_jobs", {"jobs": ["x"]}) is None


def call(app: access.GuardedApp, **environ: Any) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.update(status=status, headers=dict(headers))

    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()}
    body = b"".join(app({**base, **environ}, start_response))
    return seen["status"], seen["headers"], body


def moto_like(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    origin = environ.get("HTTP_ORIGIN", "*")
    start_response("200 OK", [("Access-Control-Allow-Origin", origin), ("X-Seen", "1")])
    return [b"ok"]


def test_the_moto_guard_refuses_without_the_token_or_from_another_origin() -> None:
    app = access.GuardedApp(moto_like, TOKEN)
    app.origins = {"http://127.0.0.1:1"}
    status, _, body = call(app)
    assert status.startswith("403")
    assert b"InvalidAccessKeyId" in body
    status, headers, body = call(app, HTTP_X_AMZ_TARGET="DynamoDB_20120810.ListTables")
    assert status.startswith("403")
    assert b"UnrecognizedClientException" in body
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    status, headers, _ = call(app, HTTP_AUTHORIZATION=SIGV4, HTTP_ORIGIN="https://evil.example")
    assert status.startswith("403")
    assert "Access-Control-Allow-Origin" not in headers


def test_the_moto_guard_passes_the_token_and_strips_cors_headers() -> None:
    app = access.GuardedApp(moto_like, TOKEN)
    app.origins = {"http://127.0.0.1:1"}
    status, headers, body = call(app, HTTP_AUTHORIZATION=SIGV4, HTTP_ORIGIN="http://127.0.0.1:1")
    assert (status, body, headers) == ("200 OK", b"ok", {"X-Seen": "1"})
