"""A burst of 2,000 uploads in 20 seconds through the real ingest code, Batch throttling SubmitJob
at 50 TPS (tests/support/burst.py: moto's S3 and DynamoDB, simulated time and Batch).

The deployed path (S3 -> SQS -> Lambda, at most 10 at once) must make exactly one job per upload
and lose none. The path it replaced (S3 invoking the Lambda directly) is played beside it: it
gets through this burst only by Lambda's retries, and a burst three times larger sends uploads
to its dead-letter queue, which is why the queue is there.
Figures: printed (`-s`), and in docs/scale.md ("Bursts").
"""

from __future__ import annotations

import json

import pytest
from support.burst import (
    Burst,
    BurstFigures,
    SimClock,
    ThrottlingBatch,
    advance_on_each_request,
    run_async_path,
    run_queue_path,
    seeded,
)
from support.events import s3_put_event
from support.job_configs import job_config
from support.names import TABLE
from support.submitter_aws import SubmitterAws

UPLOADS = 2_000
SPREAD_SECONDS = 20.0  # 100 uploads a second: twice what SubmitJob accepts
AWS_LATENCY = 0.01  # simulated seconds per S3 or DynamoDB request


def upload_burst(aws: SubmitterAws, clock: SimClock, uploads: int) -> Burst:
    events, times = [], []
    for index in range(uploads):
        key = f"jobs/burst/{index:05d}.json"
        version = aws.upload(key, job_config(f"burst-{index}"))
        events.append(s3_put_event(key, version))
        times.append(index * SPREAD_SECONDS / uploads)
    advance_on_each_request(aws.s3, clock, AWS_LATENCY)
    advance_on_each_request(aws.ddb, clock, AWS_LATENCY)
    return Burst(aws.s3, aws.ddb, aws.settings, events, times)


def job_records(aws: SubmitterAws) -> list[dict]:
    found = []
    for page in aws.ddb.get_paginator("scan").paginate(TableName=TABLE):
        found += page["Items"]
    return found


def report(figures: BurstFigures, path: str) -> None:
    print("\n" + figures.line(path))
    print(json.dumps({"path": path, **vars(figures)}))


@pytest.mark.slow
def test_a_burst_through_the_queue_becomes_one_job_per_upload(aws: SubmitterAws) -> None:
    # GIVEN 2,000 configs uploaded within 20 s, and Batch accepting 50 SubmitJob a second
    clock = SimClock()
    burst = upload_burst(aws, clock, UPLOADS)
    batch = ThrottlingBatch(clock, tps=50)

    # WHEN the upload queue feeds them to the ingest code, at most 10 invocations at once
    with seeded(15):
        figures = run_queue_path(burst, clock, batch, concurrency=10, batch_size=10)
    report(figures, "S3 -> SQS -> Lambda (max concurrency 10)")

    # THEN every upload is one job, none twice, none in the dead letters
    assert figures.dead_letters == 0
    assert figures.duplicated == 0
    assert figures.jobs == UPLOADS
    items = job_records(aws)
    assert len(items) == UPLOADS
    assert all("batch_job_id" in item for item in items)
    assert {item["status"]["S"] for item in items} == {"SUBMITTED"}
    # and Batch's limit held: no simulated second carried more than 50 accepted calls
    assert max(batch.calls.values()) <= 50
    # the whole burst is submitted at about the rate Batch allows (not minutes of retries)
    assert figures.seconds < UPLOADS / 50 * 2


@pytest.mark.slow
def test_the_direct_s3_trigger_survives_the_same_burst_only_by_retrying(aws: SubmitterAws) -> None:
    # GIVEN the same burst, WHEN S3 invokes the Lambda once per upload (asynchronous invocation)
    clock = SimClock()
    burst = upload_burst(aws, clock, UPLOADS)
    batch = ThrottlingBatch(clock, tps=50)
    with seeded(15):
        figures = run_async_path(burst, clock, batch)
    report(figures, "S3 -> Lambda (asynchronous)")

    # THEN nothing is duplicated and every upload is a job or a dead letter; the figures (in
    # docs/scale.md) show the cost: Lambda retries and many more throttled Batch calls
    assert figures.duplicated == 0
    assert figures.jobs + figures.dead_letters == UPLOADS
    assert figures.redeliveries > 0


# A larger burst, scaled down to stay quick: Batch's rate and the uploads both divided by 5
# keep their ratio (6,000 uploads in 20 s against 50 TPS), while the backoff's and Lambda's retry
# delays stay in seconds as documented.
SCALE = 5
LARGE_UPLOADS = 6_000 // SCALE


@pytest.mark.slow
@pytest.mark.parametrize("path", ["async", "queue"])
def test_a_larger_burst_loses_uploads_only_on_the_direct_s3_trigger(
    aws: SubmitterAws, path: str
) -> None:
    # GIVEN 6,000 uploads in 20 s against 50 TPS (scaled: 1,200 against 10 TPS)
    clock = SimClock()
    burst = upload_burst(aws, clock, LARGE_UPLOADS)
    batch = ThrottlingBatch(clock, tps=50 // SCALE)

    # WHEN S3 invokes the Lambda once per upload (asynchronous invocation, two retries), or the
    # upload queue feeds it (at most 2 invocations at once: 10 scaled down)
    with seeded(15):
        if path == "async":
            figures = run_async_path(burst, clock, batch)
        else:
            figures = run_queue_path(burst, clock, batch, concurrency=2, batch_size=10)
    report(figures, f"{path} path, 6,000 uploads in 20 s scaled down by {SCALE}")

    # THEN nothing is duplicated either way, and nothing is lost but on the direct trigger: there,
    # throttling outlasts the handler's backoff and Lambda's two retries for some uploads, which
    # end in the dead-letter queue instead of as jobs
    assert figures.duplicated == 0
    assert figures.jobs + figures.dead_letters == LARGE_UPLOADS
    if path == "async":
        assert figures.dead_letters > 0
    else:
        assert figures.dead_letters == 0
