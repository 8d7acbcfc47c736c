"""Every request a moto server answers, noted at the network edge with the access key that signed
it, and turned back into the API call it was (`support.iam_policy.Call`).

The server side sees what botocore hooks cannot: the job's S3 traffic goes through pyarrow's C++
client. Only what the IAM checks need is decoded: S3's REST API (path-style, as boto3 and pyarrow
address an IP endpoint) and the JSON protocols named by `X-Amz-Target` (DynamoDB, Logs).
"""

from __future__ import annotations

import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from support.iam_policy import Call
from support.moto_middleware import App, Environ, StartResponse

_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")
_TARGET_SERVICES = {"DynamoDB": "dynamodb", "Logs": "logs"}


@dataclass(frozen=True)
class Request:
    access_key: str
    service: str  # the signing name: s3, dynamodb, logs, batch...
    method: str
    path: str  # URL-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Recorder:
    """The requests the server answered, in order (the moto-api's own excluded)."""

    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def middleware(self, app: App) -> App:
        def record(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            if not environ.get("PATH_INFO", "").startswith("/moto-api"):
                request = _request(environ)
                if request is not None:
                    with self.lock:
                        self.requests.append(request)
            return app(environ, start_response)

        return record

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)

    def calls(self, access_key: str, since: int = 0) -> list[Call]:
        """The calls signed with `access_key` after `mark()` returned `since`."""
        with self.lock:
            requests = self.requests[since:]
        return [call(r) for r in requests if r.access_key == access_key]


def _request(environ: Environ) -> Request | None:
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is None:
        return None  # unsigned: not a call made with anyone's credentials
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    return Request(
        access_key=found.group(1),
        service=found.group(2),
        method=environ["REQUEST_METHOD"],
        path=unquote(environ.get("PATH_INFO", "")),
        query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
        headers=headers,
        body=_body(environ) if _decoded_body(environ) else b"",
    )


def _decoded_body(environ: Environ) -> bool:
    """Only JSON calls and S3's DeleteObjects are decoded from their body: object uploads are
    left alone (streamed, often chunked)."""
    query = environ.get("QUERY_STRING", "")
    return bool(environ.get("HTTP_X_AMZ_TARGET")) or (
        environ["REQUEST_METHOD"] == "POST" and "delete" in parse_qs(query, keep_blank_values=True)
    )


def _body(environ: Environ) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    body: bytes = (
        environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
    )
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    return body


def call(request: Request) -> Call:
    target = request.headers.get("x-amz-target", "")
    if target:
        prefix, operation = target.split(".", 1)
        service = _TARGET_SERVICES.get(prefix.split("_", 1)[0], request.service)
        return service, operation, json.loads(request.body or b"{}")
    if request.service == "s3":
        return "s3", *_s3_operation(request)
    raise AssertionError(
        f"cannot decode a {request.service} request: {request.method} {request.path}"
    )


def _s3_operation(request: Request) -> tuple[str, dict[str, Any]]:
    bucket, _, key = request.path.lstrip("/").partition("/")
    params: dict[str, Any] = {"Bucket": bucket}
    query, method = request.query, request.method
    if "versionId" in query:
        params["VersionId"] = query["versionId"][0]
    if not key:
        return _s3_bucket_operation(request, params), params
    params["Key"] = key
    if method == "PUT" and "x-amz-copy-source" in request.headers:
        source = unquote(request.headers["x-amz-copy-source"]).lstrip("/")
        source_path, _, version = source.partition("?versionId=")
        source_bucket, _, source_key = source_path.partition("/")
        params["CopySource"] = {"Bucket": source_bucket, "Key": source_key}
        if version:
            params["CopySource"]["VersionId"] = version
        return "CopyObject", params
    operation = {
        ("GET", True): "ListParts",
        ("GET", False): "GetObject",
        ("HEAD", False): "HeadObject",
        ("PUT", True): "UploadPart",
        ("PUT", False): "PutObject",
        ("POST", True): "CompleteMultipartUpload",
        ("DELETE", True): "AbortMultipartUpload",
        ("DELETE", False): "DeleteObject",
    }
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload", params
    return operation[(method, "uploadId" in query)], params


def _s3_bucket_operation(request: Request, params: dict[str, Any]) -> str:
    query, method = request.query, request.method
    if method == "POST" and "delete" in query:
        tree = ET.fromstring(request.body)
        keys = [e.text or "" for e in tree.iter() if e.tag.rsplit("}", 1)[-1] == "Key"]
        params["Delete"] = {"Objects": [{"Key": k} for k in keys]}
        return "DeleteObjects"
    if method == "HEAD":
        return "HeadBucket"
    if method == "PUT" and not query:
        return "CreateBucket"
    if method == "GET":
        for marker, operation in (
            ("versions", "ListObjectVersions"),
            ("uploads", "ListMultipartUploads"),
            ("location", "GetBucketLocation"),
        ):
            if marker in query:
                return operation
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    raise AssertionError(f"cannot decode an S3 bucket request: {method} {request.path} {query}")
