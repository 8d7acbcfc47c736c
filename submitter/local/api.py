"""The local Batch served over AWS Batch's own REST-JSON protocol.

A boto3 `batch` client pointed at `BatchApi.url` (`endpoint_url=`, or the variable
`AWS_ENDPOINT_URL_BATCH` that boto3 reads by itself) reaches the `LocalBatch` of the process running
the local stack, so the CLI and the submitter use the same boto3 calls locally as in AWS. Routes
come from botocore's model of the Batch API (`POST /v1/submitjob` -> `submit_job`), errors are
Batch's (`400` with `x-amzn-ErrorType: ClientException`), and only the operations `LocalBatch` has
are served.

Every request must carry the stack's token (`access`: the access key id of the SigV4 signature
boto3 makes, or `X-Batchscore-Token`), come from no other origin and be JSON; a command or
environment override the product never sends is refused (403, 415 or 400 `ClientException`).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError

from submitter.local import access

logger = logging.getLogger(__name__)


def batch_routes(batch: object) -> dict[str, str]:
    """{request path: method name} for the Batch operations `batch` implements."""
    model = botocore.session.get_session().get_service_model("batch")
    routes = {}
    for operation in model.operation_names:
        method = xform_name(operation)
        if callable(getattr(batch, method, None)):
            routes[model.operation_model(operation).http["requestUri"]] = method
    return routes


class BatchApi:
    """An HTTP server on `host` (a free port unless given) in a thread; `close()` stops it.
    Only requests carrying `token` (see `access`) reach `batch`."""

    def __init__(
        self, batch: object, *, token: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if not token:
            raise ValueError("the local Batch API needs a token")
        routes = batch_routes(batch)

        class Handler(_Handler):
            pass

        Handler.batch, Handler.routes, Handler.token = batch, routes, token
        self._server = ThreadingHTTPServer((host, port), Handler)
        Handler.origins = access.own_origins(self.url)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long close() waits at most
            name="local-batch-api",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host  # (bytes: AF_UNIX, not here)
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> BatchApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    batch: Any
    routes: dict[str, str]
    token: str
    origins: set[str]

    def do_POST(self) -> None:
        if not access.origin_allowed(self.headers.get("Origin"), self.origins):
            self._error(403, "AccessDeniedException", access.CROSS_ORIGIN)
            return
        path, _, query = self.path.partition("?")
        presented = access.presented_token(dict(self.headers.items()), query)
        if not access.token_matches(presented, self.token):
            self._error(403, "AccessDeniedException", access.REFUSED)
            return
        if not access.is_json(self.headers.get("Content-Type")):
            self._error(415, "ClientException", "the local Batch takes application/json only")
            return
        method = self.routes.get(path.rstrip("/"))
        if method is None:
            self._error(404, "UnknownOperationException", f"no operation at {self.path}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            arguments = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(arguments, dict):
                raise ValueError("the request body must be a JSON object")
            if problem := access.request_problem(method, arguments):
                self._error(400, "ClientException", problem)
                return
            result = dict(getattr(self.batch, method)(**arguments))
        except ClientError as exc:
            error = exc.response["Error"]
            self._error(400, error["Code"], error["Message"])
            return
        except (TypeError, ValueError, KeyError) as exc:  # a request the operation cannot take
            self._error(400, "ClientException", f"{method}: {exc}")
            return
        except Exception:
            logger.exception("local Batch API: %s failed", method)
            self._error(500, "ServerException", f"{method} failed; see the local stack's log")
            return
        result.pop("ResponseMetadata", None)
        self._send(200, result)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"__type": code, "message": message}, {"x-amzn-ErrorType": code})

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("local Batch API: " + format, *args)
