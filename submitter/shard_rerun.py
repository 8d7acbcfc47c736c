"""`batchscore rerun JOB --failed-shards`: score again only the shards of an array job that have
no shard marker, then commit the whole job once (the succeeded shards kept).

The record of the rerun: a **new job** linked to the original (`rerun_of`, as a plain rerun),
with `shards_of` (the job whose output it completes: the original, or the original's own
`shards_of` for a rerun of a rerun) and `rerun_shards` (the original indices it scores). Records
are forward-only, and a FAILED record that turned SUCCEEDED would break every reader that takes a
terminal record as final (costs, metrics, `wait`); a new record keeps the first run's failure as
it happened and gives the rerun its own status, cost and history. Its config is the original's
text unchanged, so the container's digest check and the markers' config digest agree with the
shards that succeeded.

Batch numbers an array's children 0..k-1; child i scores original shard `rerun_shards[i]`
(`job.shard_rerun`). k = 1 is a single Batch job (arrays have 2 children or more), which commits
itself; k >= 2 is an array whose parent's SUCCEEDED submits the commit job
(`submitter.array_commit`), as for any array.

Which shards: those without a marker of the output's job under `<output>/_shards/` (one LIST
per 1,000 markers, one GET per marker found). The original must be over and not committed.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from config import records
from config.digest import text_sha256
from config.records import LEASE_TOKEN, LEASE_UNTIL
from config.status import JobStatus
from config.uris import parse_uri
from submitter import batch as batch_api
from submitter.exceptions import JobStateError
from submitter.job_actions import finished_record, rerun_id
from submitter.settings import Settings
from submitter.submission import Action, Outcome, Runtime, attach, release, stored_config

logger = logging.getLogger(__name__)

SHARDS_OF = "shards_of"  # the names job.shard_rerun reads
RERUN_SHARDS = "rerun_shards"
SHARDS_DIR = "_shards/"
MANIFEST = "_manifest.json"
GET_THREADS = 16


def committed_shards(s3: Any, output_uri: str, job_id: str) -> set[int]:
    """The shard indices with a marker written by job `job_id` under the output."""
    location = parse_uri(output_uri)
    bucket, prefix = location.bucket, location.key.rstrip("/") + "/" + SHARDS_DIR
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]

    def marker(key: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return document

    with ThreadPoolExecutor(GET_THREADS) as pool:
        markers = list(pool.map(marker, keys))
    return {int(m["shard"]) for m in markers if m.get("job_id") == job_id}


def is_committed(s3: Any, output_uri: str) -> bool:
    location = parse_uri(output_uri)
    key = location.key.rstrip("/") + "/" + MANIFEST
    listed = s3.list_objects_v2(Bucket=location.bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def rerun_failed_shards(
    ddb: Any,
    batch: Any,
    s3: Any,
    settings: Settings,
    job_id: str,
    *,
    runtime: Runtime | None = None,
) -> Outcome:
    """Submit a new job scoring the shards of `job_id` without a marker; its Outcome."""
    runtime = runtime or Runtime()
    original = finished_record(ddb, settings, job_id)
    status = JobStatus(original["status"])
    config = stored_config(original, settings)
    if config.shards < 2:
        raise JobStateError(
            f"job {job_id!r} is not an array job: rerun it whole (no --failed-shards)"
        )
    if parse_uri(config.output.uri).scheme != "s3":
        raise JobStateError(f"job {job_id!r}: --failed-shards needs an s3:// output.uri")
    output_job = str(original.get(SHARDS_OF) or job_id)
    if status == JobStatus.SUCCEEDED or is_committed(s3, config.output.uri):
        raise JobStateError(f"job {job_id!r} committed its output: there is no shard to rerun")
    done = committed_shards(s3, config.output.uri, output_job)
    missing = [shard for shard in range(config.shards) if shard not in done]
    if not missing:
        raise JobStateError(
            f"every shard of job {output_job!r} has its marker: rerun it whole to commit it"
        )
    new_id = rerun_id(job_id, runtime.new_token())
    token = runtime.new_token()
    record = {
        "job_id": new_id,
        "name": config.name,
        "status": JobStatus.SUBMITTED.value,
        "priority": config.priority,
        "queue": settings.queue_for_priority(config.priority),
        "config": original["config"],  # unchanged: the same digest as the shards kept
        "shards": config.shards,
        "rerun_of": job_id,
        SHARDS_OF: output_job,
        RERUN_SHARDS: missing,
        LEASE_TOKEN: token,
        LEASE_UNTIL: int(runtime.clock().timestamp()) + settings.lease_seconds,
        **({"upload": original["upload"]} if original.get("upload") else {}),
    }
    records.create_record(
        ddb, settings.table, record, now=runtime.clock(), ttl_days=settings.ttl_days
    )
    request = batch_api.submit_request(
        config, job_id=new_id, queue=record["queue"], job_definition=settings.job_definition
    )
    request["parameters"]["config_sha256"] = text_sha256(original["config"])
    if len(missing) > 1:
        request["arrayProperties"] = {"size": len(missing)}
    else:
        request.pop("arrayProperties", None)
    try:
        batch_job_id = batch_api.submit(batch, request, sleep=runtime.sleep)
        attach(ddb, batch, settings, new_id, batch_job_id, runtime)
    except Exception:
        release(ddb, settings, new_id, token)
        raise
    logger.info(
        "rerunning failed shards",
        extra={"job_id": new_id, "rerun_of": job_id, "shards": missing},
    )
    return Outcome(new_id, Action.SUBMITTED, batch_job_id=batch_job_id)
