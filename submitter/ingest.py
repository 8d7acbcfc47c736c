"""S3 `ObjectCreated` notifications -> validated configs -> job records and Batch jobs.

Each record of an event is handled on its own: a bad config becomes a REJECTED record and does
not block the others; a transient error is collected and raised after the rest are done, so
Lambda retries the invocation and idempotency (job id = conditional put) absorbs the repeats.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from config import records
from config.batch_limits import resource_problems
from config.deployment import location_problems
from config.exceptions import ROOT_PATH, ConfigError, Problem
from config.models import JobConfig
from config.parsing import MAX_CONFIG_BYTES, parse_config
from config.records import DuplicateJobError
from config.status import JobStatus
from submitter.exceptions import RetryableError
from submitter.settings import Settings
from submitter.submission import Action, Outcome, Runtime, create_and_submit, new_job_record, resume

logger = logging.getLogger(__name__)

_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
DIGEST_CHARS = 16
MAX_ID = 64


class IngestIncompleteError(RetryableError):
    """Some records of the event failed transiently; the others are done."""

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        self.failures = failures
        listed = "; ".join(f"{where}: {exc!r}" for where, exc in failures)
        super().__init__(f"{len(failures)} record(s) failed: {listed}")


@dataclass(frozen=True)
class Upload:
    """One uploaded config object and what identifies this upload among uploads of its key."""

    bucket: str
    key: str
    identity: str  # "version:<id>" | "sequencer:<hex>" | "etag:<etag>@<last-modified>"
    version_id: str | None
    size: int
    raw: bytes  # at most MAX_CONFIG_BYTES + 1 bytes

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def derived_job_id(self) -> str:
        """The same upload gives the same id; a new upload of the same file a new one."""
        digest = hashlib.sha256(f"{self.bucket}/{self.key}\n{self.identity}".encode()).hexdigest()
        stem = self.key.rsplit("/", 1)[-1].removesuffix(".json")
        slug = _SLUG_UNSAFE.sub("_", stem).strip("_-") or "job"
        return f"{slug[: MAX_ID - DIGEST_CHARS - 1]}-{digest[:DIGEST_CHARS]}"


def handle_event(
    event: dict[str, Any],
    *,
    s3: Any,
    ddb: Any,
    batch: Any,
    settings: Settings,
    runtime: Runtime | None = None,
) -> list[Outcome]:
    runtime = runtime or Runtime()
    if event.get("Event") == "s3:TestEvent":  # sent once when the notification is configured
        return []
    outcomes: list[Outcome] = []
    failures: list[tuple[str, BaseException]] = []
    for index, record in enumerate(event.get("Records") or []):
        where = _describe(record, index)
        try:
            outcome = ingest_record(
                record, s3=s3, ddb=ddb, batch=batch, settings=settings, runtime=runtime
            )
        except Exception as exc:
            logger.exception("record %s failed", where)
            failures.append((where, exc))
            continue
        logger.info(
            "upload %s: %s",
            where,
            outcome.action,
            extra={"job_id": outcome.job_id, "batch_job_id": outcome.batch_job_id},
        )
        outcomes.append(outcome)
    if failures:
        raise IngestIncompleteError(failures)
    return outcomes


def ingest_record(
    record: dict[str, Any],
    *,
    s3: Any,
    ddb: Any,
    batch: Any,
    settings: Settings,
    runtime: Runtime,
) -> Outcome:
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return Outcome("", Action.IGNORED, reason=f"event {record.get('eventName')!r}")
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    if key.startswith(settings.rejected_prefix):  # our own copies, if the trigger sees them
        return Outcome("", Action.IGNORED, reason="a kept rejected config")
    upload = read_upload(s3, bucket, key, record["s3"]["object"])
    if upload is None:
        return Outcome("", Action.IGNORED, reason=f"s3://{bucket}/{key} no longer exists")

    try:
        config = parse_upload(upload, settings)
    except ConfigError as exc:
        return reject(s3, ddb, settings, upload, exc.problems, runtime=runtime)

    job_id = config.job_id or upload.derived_job_id()
    job_record, stored = new_job_record(
        config, job_id, settings, upload=upload.uri, upload_id=upload.identity
    )
    try:
        return create_and_submit(ddb, batch, settings, job_record, stored, runtime)
    except DuplicateJobError:
        existing = records.get_record(ddb, settings.table, job_id)
        if existing and (existing.get("upload"), existing.get("upload_id")) != (
            upload.uri,
            upload.identity,
        ):
            problem = Problem(
                "job_id", f"{job_id!r} is already used by the job from {existing.get('upload')}"
            )
            return reject(s3, ddb, settings, upload, [problem], runtime=runtime, config=config)
        return resume(ddb, batch, settings, job_id, runtime, record=existing)


def read_upload(s3: Any, bucket: str, key: str, event_object: dict[str, Any]) -> Upload | None:
    """Read at most 64 KiB + 1 byte of the object (the version the event names, when it does)."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes=0-{MAX_CONFIG_BYTES}"}
    version_id = event_object.get("versionId") or None
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        response = s3.get_object(**kwargs)
        raw = response["Body"].read(MAX_CONFIG_BYTES + 1)
        size = _total_size(response.get("ContentRange"), len(raw))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("NoSuchKey", "NoSuchVersion", "404"):
            return None
        if code != "InvalidRange":  # an empty object cannot serve a byte range
            raise
        response = s3.get_object(**{k: v for k, v in kwargs.items() if k != "Range"})
        raw, size = response["Body"].read(MAX_CONFIG_BYTES + 1), 0
    return Upload(
        bucket=bucket,
        key=key,
        identity=_identity(event_object, response),
        version_id=version_id or _real_version(response),
        size=size,
        raw=raw,
    )


def _identity(event_object: dict[str, Any], response: dict[str, Any]) -> str:
    """The upload's identity, best first: the event's version id (versioned bucket), its
    sequencer (unversioned bucket on AWS), then what GetObject says (moto's notifications carry
    neither): the current version id, else ETag + Last-Modified."""
    if event_object.get("versionId"):
        return f"version:{event_object['versionId']}"
    if event_object.get("sequencer"):
        return f"sequencer:{event_object['sequencer']}"
    version = _real_version(response)
    if version:
        return f"version:{version}"
    modified = response.get("LastModified")
    stamp = modified.isoformat() if modified else ""
    return f"etag:{response.get('ETag', '').strip(chr(34))}@{stamp}"


def _real_version(response: dict[str, Any]) -> str | None:
    version = response.get("VersionId")
    return version if version and version != "null" else None


def _total_size(content_range: str | None, read: int) -> int:
    # "bytes 0-65536/123456"
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return read


def parse_upload(upload: Upload, settings: Settings) -> JobConfig:
    """The contract's rules, then the deployment's; raise ConfigError naming the fields."""
    if upload.size > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                Problem(
                    ROOT_PATH,
                    f"is {upload.size} bytes; a job config is at most {MAX_CONFIG_BYTES}",
                )
            ]
        )
    try:
        config = parse_config(upload.raw, queues=settings.priorities)
    except ConfigError:
        raise
    except Exception as exc:
        # A document that breaks the parser itself would fail every retry until the event lands
        # in the dead-letter queue, with no record and the config not kept: a rejection instead.
        logger.exception("upload %s broke the config parser", upload.uri)
        problem = Problem(ROOT_PATH, f"cannot be parsed ({type(exc).__name__})")
        raise ConfigError([problem]) from exc
    problems = deployment_problems(config, settings)
    if problems:
        raise ConfigError(problems)
    return config


# Batch: with propagateTags, a job whose own tags and its job definition's exceed 50 in all FAILS
# (the ECS task's limit); `aws:` tags do not count, and configs may not use them.
BATCH_MAX_TAGS = 50


def tag_problems(config: JobConfig, settings: Settings) -> list[Problem]:
    """The config's tags plus the ones the deployment's job definition propagates fit in 50."""
    room = max(BATCH_MAX_TAGS - settings.definition_tag_count, 0)
    if len(config.tags) <= room:
        return []
    return [
        Problem(
            "tags",
            f"has {len(config.tags)} tags, at most {room} here: the job definition adds "
            f"{settings.definition_tag_count} to every job and Batch fails a job with more than "
            f"{BATCH_MAX_TAGS} in all",
        )
    ]


def deployment_problems(config: JobConfig, settings: Settings) -> list[Problem]:
    """The deployed service reads S3 only, only the buckets it is allowed to, writes outputs only
    where its job role may write, asks Batch only for resources its platform offers, and leaves
    room in the tags for the job definition's."""
    problems = tag_problems(config, settings)
    problems += location_problems(
        config, allowed_buckets=settings.allowed_buckets, write_buckets=settings.write_buckets
    )
    if settings.platform is not None and config.resources is not None:
        resources = config.resources
        problems += resource_problems(resources.vcpus, resources.memory_mib, settings.platform)
    return problems


def reject(
    s3: Any,
    ddb: Any,
    settings: Settings,
    upload: Upload,
    problems: list[Problem],
    *,
    runtime: Runtime,
    config: JobConfig | None = None,
) -> Outcome:
    """Keep the config (a copy under the rejected prefix, the reason beside it) and write the
    REJECTED record. No Batch call."""
    job_id = upload.derived_job_id()
    reason = "; ".join(str(p) for p in problems)
    folder = f"{settings.rejected_prefix}{job_id}/"
    copy_key = folder + upload.key.rsplit("/", 1)[-1]
    source = {"Bucket": upload.bucket, "Key": upload.key}
    if upload.version_id:
        source["VersionId"] = upload.version_id
    s3.copy_object(Bucket=upload.bucket, Key=copy_key, CopySource=source)
    s3.put_object(
        Bucket=upload.bucket,
        Key=folder + "reason.json",
        ContentType="application/json",
        Body=json.dumps(
            {
                "job_id": job_id,
                "upload": upload.uri,
                "upload_id": upload.identity,
                "problems": [{"path": p.path, "message": p.message} for p in problems],
            },
            indent=2,
        ).encode(),
    )
    record = {
        "job_id": job_id,
        "name": config.name if config else job_id.rsplit("-", 1)[0],
        "status": JobStatus.REJECTED.value,
        "status_reason": reason[:2000],
        "upload": upload.uri,
        "upload_id": upload.identity,
        "rejected_uri": f"s3://{upload.bucket}/{copy_key}",
        "problems": [{"path": p.path, "message": p.message} for p in problems[:20]],
    }
    try:
        records.create_record(
            ddb, settings.table, record, now=runtime.clock(), ttl_days=settings.ttl_days
        )
    except DuplicateJobError:
        return Outcome(job_id, Action.DUPLICATE, reason=reason)
    return Outcome(job_id, Action.REJECTED, reason=reason)


def _describe(record: dict[str, Any], index: int) -> str:
    try:
        return (
            f"s3://{record['s3']['bucket']['name']}/{unquote_plus(record['s3']['object']['key'])}"
        )
    except (KeyError, TypeError):
        return f"Records[{index}]"
