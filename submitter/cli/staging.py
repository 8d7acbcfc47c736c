"""`batchscore submit` of a config that names local files: put them where the deployment reads.

The config just scored with `batchscore score` names local paths; the deployed service reads S3
only. Models and inputs go to the deployment's data bucket under a content address (the same file
is uploaded once, whoever submits it), a local output becomes a prefix of the results bucket, and
the uploaded copy of the config names those; the user's file is left as it is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config import env
from config.uris import parse_uri
from submitter.cli.target import Target

STAGED = "staged"  # data bucket prefix of uploaded models and inputs
RESULTS = "results"  # results bucket prefix of outputs that were local paths
CHUNK = 8 * 1024 * 1024


@dataclass
class Staging:
    """What staging did to one config: the document to upload, and what to tell the user."""

    document: dict[str, Any]
    uploaded: list[str] = field(default_factory=list)  # "local -> s3://..." per file sent
    reused: list[str] = field(default_factory=list)  # already there (same content)
    output: tuple[str, str] | None = None  # (s3 prefix, local path) of a rewritten output

    @property
    def changed(self) -> bool:
        return bool(self.uploaded or self.reused or self.output)

    def fetch_command(self, target: Target) -> str | None:
        """The AWS CLI command that copies the output where the config said it would be."""
        if self.output is None:
            return None
        prefix, local = self.output
        endpoint = target.variables.get(env.AWS_ENDPOINT_URL)
        where = f" --endpoint-url {endpoint}" if endpoint else ""
        return f"aws s3 cp --recursive{where} {prefix} {local}"


def stage(raw: bytes, target: Target, name: str) -> Staging:
    """Upload the local files `raw` (a valid config) names; the rewritten document with them."""
    document: dict[str, Any] = json.loads(raw)
    staging = Staging(document)
    s3 = None
    for section in ("model", "input"):
        location = parse_uri(document[section]["uri"])
        if location.scheme != "local":
            continue
        s3 = s3 or target.client("s3")
        bucket = target.setting(env.DATA_BUCKET)
        document[section]["uri"] = _upload(s3, bucket, Path(location.path), section, staging)
    output = parse_uri(document["output"]["uri"])
    if output.scheme == "local":
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        prefix = f"s3://{target.setting(env.RESULTS_BUCKET)}/{RESULTS}/{name}/{stamp}/"
        document["output"]["uri"] = prefix
        staging.output = (prefix, output.path)
    return staging


def _upload(s3: Any, bucket: str, path: Path, section: str, staging: Staging) -> str:
    """Upload a file, or every file below a folder (a prefix), under its content address."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
        digests = {p.relative_to(path).as_posix(): _sha256(p) for p in files}
        address = _digest("\n".join(f"{name} {digest}" for name, digest in digests.items()))
        base = f"{STAGED}/{section}s/{address[:32]}/"
        for file in files:
            _put(s3, bucket, base + file.relative_to(path).as_posix(), file, staging)
        return f"s3://{bucket}/{base}"
    key = f"{STAGED}/{section}s/{_sha256(path)[:32]}/{path.name}"
    _put(s3, bucket, key, path, staging)
    return f"s3://{bucket}/{key}"


def _put(s3: Any, bucket: str, key: str, path: Path, staging: Staging) -> None:
    uri = f"s3://{bucket}/{key}"
    if _exists(s3, bucket, key):
        staging.reused.append(f"{path} = {uri}")
        return
    with path.open("rb") as body:
        s3.upload_fileobj(body, bucket, key)
    staging.uploaded.append(f"{path} -> {uri}")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
