"""Who may use the local stack: processes of its owner, never a web page or another local user.

Both servers listen on 127.0.0.1, which every local process and, through the browser, every web
page can reach. Each stack therefore has a random token, and every request must carry it:

- **The token is the access key id.** The stack's environment (`LocalStack.env`, the state file
  that only its owner can read) gives it as `AWS_ACCESS_KEY_ID`, so every client that signs its
  requests, boto3, the AWS CLI, pyarrow's C++ S3 client, sends it in the SigV4 `Authorization`
  header (`Credential=<key id>/...`) or a presigned URL (`X-Amz-Credential`, `AWSAccessKeyId`),
  with no special case in product code. The servers check the key id, not the signature: the key
  id is the secret here (nothing outside the state file and the stack's processes knows it), and
  verifying SigV4 would mean re-implementing it for two servers. `X-Batchscore-Token` carries
  it for unsigned calls (the stack's own `/moto-api/reset`).
- **Cross-origin requests are refused** (any `Origin` header but the server's own), before the
  token is looked at, and no `Access-Control-*` header ever leaves the moto server (moto answers
  every origin with flask-cors by default): a page cannot read an answer even if it could send.
- **The local Batch takes JSON only** (`Content-Type: application/json`, what botocore sends), so
  a browser's "simple" cross-origin POST (text/plain, forms) never reaches an operation.
- **It runs the job's own command only.** Batch runs what `containerOverrides.command` (or a
  registered job definition's command) says; over HTTP the local Batch accepts only the argv
  shape the product's job definition has (`python -m job run|score ...`), and environment
  overrides named `BATCHSCORE_*` only (others can change what the interpreter loads:
  `PYTHONPATH`, `PYTHONWARNINGS`, `LD_PRELOAD`...). The product itself sends neither. In-process
  callers (tests, the demo) hold the `LocalBatch` object and are not restricted.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

TOKEN_HEADER = "X-Batchscore-Token"  # noqa: S105 (a header's name)
TOKEN_PREFIX = "BSLOCAL"  # noqa: S105 (the tokens' prefix, not a token)
JSON_TYPES = ("application/json", "application/x-amz-json-1.1")  # botocore: the former
JOB_COMMAND = ("python", "-m", "job")
JOB_ACTIONS = ("run", "score")
ALLOWED_ENVIRONMENT = re.compile(r"^BATCHSCORE_[A-Z0-9_]+$")
REFUSED = (
    "the local stack refuses requests without its token: use the credentials of its state file "
    "(`batchscore local up` prints them as export lines)"
)
CROSS_ORIGIN = "the local stack refuses cross-origin requests"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_SIGV2 = re.compile(r"^AWS ([^:\s]+):")


def new_token() -> str:
    """A fresh stack token, shaped like an access key id: upper-case letters and digits."""
    return TOKEN_PREFIX + secrets.token_hex(16).upper()


def presented_token(headers: Mapping[str, str], query: str = "") -> str | None:
    """The token a request carries: its SigV4 (or SigV2) access key id, a presigned URL's
    (`X-Amz-Credential`, `AWSAccessKeyId`), or `X-Batchscore-Token`. `headers` are matched
    case-insensitively."""
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization", "")
    for pattern in (_CREDENTIAL, _SIGV2):
        match = pattern.search(authorization)
        if match:
            return match.group(1)
    parameters = parse_qs(query)
    credential = parameters.get("X-Amz-Credential")  # a SigV4 presigned URL
    if credential:
        return credential[0].split("/", 1)[0]
    key_id = parameters.get("AWSAccessKeyId")  # S3's SigV2 presigned URL (boto3's default)
    if key_id:
        return key_id[0]
    return lowered.get(TOKEN_HEADER.lower())


def token_matches(presented: str | None, token: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())


def own_origins(url: str) -> set[str]:
    """The origins a page served by the server at `url` itself would send (none is served: a
    request from one is still same-origin, so it is not refused for its origin)."""
    host_port = url.split("://", 1)[1].rstrip("/")
    port = host_port.rsplit(":", 1)[1]
    return {url.rstrip("/"), f"http://localhost:{port}"}


def origin_allowed(origin: str | None, allowed: set[str]) -> bool:
    """No Origin header (not a browser's cross-origin call), or one of the server's own."""
    return origin is None or origin in allowed


def is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() in JSON_TYPES


# -- what the local Batch runs, over HTTP ----------------------------------------------------------


def command_problem(command: object) -> str | None:
    """Why `command` is not the job's own argv (`python -m job run|score ...`); None if it is."""
    if command is None:
        return None
    if not isinstance(command, list) or not all(isinstance(arg, str) for arg in command):
        return "command must be a list of strings"
    if tuple(command[:3]) != JOB_COMMAND or len(command) < 4 or command[3] not in JOB_ACTIONS:
        shape = f"{' '.join(JOB_COMMAND)} {'|'.join(JOB_ACTIONS)} ..."
        return (
            f"the local Batch runs only the job's own command over HTTP ({shape}), "
            f"not {json.dumps(command)[:200]}"
        )
    return None


def environment_problem(environment: object) -> str | None:
    """Why an environment override is refused over HTTP (names outside BATCHSCORE_*)."""
    if environment is None:
        return None
    if not isinstance(environment, list):
        return "environment must be a list of {name, value}"
    for entry in environment:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not ALLOWED_ENVIRONMENT.match(name):
            return (
                "the local Batch takes environment overrides named BATCHSCORE_* only over HTTP, "
                f"not {json.dumps(name)[:100]}"
            )
    return None


def request_problem(operation: str, arguments: Mapping[str, Any]) -> str | None:
    """Why the local Batch refuses this request over HTTP (a command or environment the product
    never sends); None when it may run. `operation` is the executor's method name."""
    if operation == "submit_job":
        properties = arguments.get("containerOverrides")
    elif operation == "register_job_definition":
        properties = arguments.get("containerProperties")
    else:
        return None
    if properties is None:
        return None
    if not isinstance(properties, dict):
        return "container overrides or properties must be an object"
    return command_problem(properties.get("command")) or environment_problem(
        properties.get("environment")
    )


# -- the moto server ------------------------------------------------------------------------------


def _error(environ: Environ, status: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """A refusal shaped as the caller's protocol expects it: JSON for X-Amz-Target APIs
    (DynamoDB, Logs), XML otherwise (S3)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        code = "UnrecognizedClientException"
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.0"
    else:
        code = "InvalidAccessKeyId" if status.startswith("403") else "AccessDenied"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        content_type = "application/xml"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    return status, headers, body


class GuardedApp:
    """WSGI middleware before moto: refuses cross-origin requests and requests without the
    token, and drops every `Access-Control-*` header moto would send. `origins` is set once the
    server knows its port."""

    def __init__(self, app: WsgiApp, token: str) -> None:
        self.app = app
        self.token = token
        self.origins: set[str] = set()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        refusal = None
        if not origin_allowed(environ.get("HTTP_ORIGIN"), self.origins):
            refusal = _error(environ, "403 Forbidden", CROSS_ORIGIN)
        else:
            headers = {
                key[5:].replace("_", "-"): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            presented = presented_token(headers, environ.get("QUERY_STRING", ""))
            if not token_matches(presented, self.token):
                refusal = _error(environ, "403 Forbidden", REFUSED)
        if refusal is not None:
            status, response_headers, body = refusal
            start_response(status, response_headers)
            return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

        def no_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, exc_info)

        return self.app(environ, no_cors)
