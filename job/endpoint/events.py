"""The Lambda function URL's event (payload format 2.0) in, its response out; and the one
request handler that both the Lambda and `batchscore serve` call.

Function URL events carry lower-case header names, the method in `requestContext.http.method`,
and a binary body (Parquet) base64-encoded with `isBase64Encoded: true` (AWS Lambda Developer
Guide, "Invoking Lambda function URLs"; tests/events/function-url-*.json are its examples).
A response is `statusCode`, `headers`, `body` and `isBase64Encoded`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config import env
from config.endpoint import parse_endpoint_config
from job.endpoint.errors import BadRequestError, HttpError, MethodNotAllowedError, UnavailableError
from job.endpoint.service import Endpoint, describe

log = logging.getLogger("job.endpoint")
JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class App:
    """The endpoint, or why it has none (the reason is logged, never answered)."""

    endpoint: Endpoint | None
    failure: str | None = None

    def __call__(self, event: Mapping[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        predict = None
        try:
            status, body, predict = self._answer(event)
        except HttpError as exc:
            status, body = exc.status, _error(str(exc))
        except Exception:  # a bug, not the request: logged whole, answered without detail
            log.exception("endpoint error")
            status, body = 500, _error("internal error (see the endpoint's log)")
        total = (time.perf_counter() - started) * 1000
        log.info("request", extra={"status": status, "ms": round(total, 2)})
        headers = dict(JSON_HEADERS)
        if predict is not None:  # the model's own time beside the request's (W3C Server-Timing)
            headers["server-timing"] = f"predict;dur={predict * 1000:.3f}, handler;dur={total:.3f}"
        return {
            "statusCode": status,
            "headers": headers,
            "body": body.decode(),
            "isBase64Encoded": False,
        }

    def _answer(self, event: Mapping[str, Any]) -> tuple[int, bytes, float | None]:
        if self.endpoint is None:
            log.error("model unavailable", extra={"reason": self.failure})
            raise UnavailableError("the model is unavailable (see the endpoint's log)")
        method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
        if method == "GET":
            return 200, json.dumps(describe(self.endpoint)).encode(), None
        if method != "POST":
            raise MethodNotAllowedError(
                f"{method or 'no method'}: POST rows to score, GET to describe"
            )
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        answer = self.endpoint.score(request_body(event), headers.get("content-type"))
        return 200, answer.body, answer.predict_seconds


def request_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(body).encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError(f"the body is marked base64 but is not: {exc}") from None


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


def build_app(config_text: str | None, source: str = env.ENDPOINT_CONFIG) -> App:
    """The endpoint for a config's JSON text; an App without one, and the reason logged, when the
    config or the model is wrong (a 500 for every request rather than a crashing init, which
    the function URL would answer with an opaque 502 and Lambda retry on every request)."""
    try:
        if not config_text:
            raise ValueError(f"{source} is not set: it holds the endpoint config's JSON")
        config = parse_endpoint_config(config_text, source)
        endpoint = Endpoint.load(config)
    except Exception as exc:
        log.exception("model unavailable", extra={"reason": str(exc)})
        return App(None, f"{type(exc).__name__}: {exc}")
    log.info(
        "model loaded",
        extra={"endpoint": config.name, "model": config.model.uri, "sha256": endpoint.model.sha256},
    )
    return App(endpoint)
