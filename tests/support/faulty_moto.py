"""A moto server that fails chosen requests at the network edge, for fault-injection tests.

The job's real clients (boto3 for DynamoDB, pyarrow's C++ S3 client) talk HTTP to it exactly as to
AWS; a WSGI middleware in front of moto answers the first N requests matching a rule with the error
AWS would send (S3 `503 SlowDown` / `500 InternalError` XML, DynamoDB's JSON
`ProvisionedThroughputExceededException`), so the clients' own retry logic and the job's error
translation both run for real.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from support.moto_middleware import Environ, MiddlewareMotoServer, StartResponse


@dataclass(frozen=True)
class Request:
    service: str  # "s3" or "dynamodb"
    method: str
    path: str
    operation: str  # DynamoDB: the X-Amz-Target action (UpdateItem...); S3: ""
    body: bytes  # DynamoDB only (small JSON); empty for S3


@dataclass(frozen=True)
class Reply:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def s3_error(code: str, status: int) -> Reply:
    text = {503: "Service Unavailable", 500: "Internal Server Error"}[status]
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>injected {code}</Message><RequestId>FAULT</RequestId></Error>"
    ).encode()
    return Reply(f"{status} {text}", (("Content-Type", "application/xml"),), body)


SLOW_DOWN = s3_error("SlowDown", 503)
INTERNAL_ERROR = s3_error("InternalError", 500)
THROUGHPUT_EXCEEDED = Reply(
    "400 Bad Request",
    (("Content-Type", "application/x-amz-json-1.0"),),
    json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "injected: the level of configured provisioned throughput was exceeded",
        }
    ).encode(),
)


@dataclass
class Fault:
    """Answer the first `times` requests that `matches` with `reply`."""

    matches: Callable[[Request], bool]
    reply: Reply
    times: int
    injected: int = 0


@dataclass
class Faults:
    rules: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, matches: Callable[[Request], bool], reply: Reply, times: int) -> Fault:
        fault = Fault(matches, reply, times)
        with self.lock:
            self.rules.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def pick(self, request: Request) -> Reply | None:
        with self.lock:
            for fault in self.rules:
                if fault.injected < fault.times and fault.matches(request):
                    fault.injected += 1
                    return fault.reply
        return None


def _request(environ: Environ) -> Request:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if not target.startswith("DynamoDB_"):
        return Request("s3", method, path, "", b"")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    return Request("dynamodb", method, path, target.split(".", 1)[1], body)


def faulty_app(app: Callable[..., Iterable[bytes]], faults: Faults) -> Callable[..., Any]:
    def middleware(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            reply = faults.pick(_request(environ))
            if reply is not None:
                length = str(len(reply.body))
                start_response(reply.status, [*reply.headers, ("Content-Length", length)])
                return [b"" if environ["REQUEST_METHOD"] == "HEAD" else reply.body]
        return app(environ, start_response)

    return middleware


class FaultyMotoServer(MiddlewareMotoServer):
    """A moto server with `faults` consulted before moto sees a request."""

    def __init__(self, faults: Faults) -> None:
        super().__init__(lambda app: faulty_app(app, faults))
        self.faults = faults
