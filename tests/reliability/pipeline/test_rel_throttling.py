"""Batch throttling bursts (429 TooManyRequestsException) -> every job submitted eventually,
none twice.

The local Batch is wrapped so that SubmitJob and ListJobs are refused with a 429 during bursts:
a long one at the start (longer than the submitter's whole backoff, so invocations fail and are
redelivered) and short ones after. Uploads arrive from 8 threads, 20% twice, in any order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.events import s3_put_event
from support.job_configs import job_config
from support.pipeline import BatchProxy, ChaoticDelivery

from config.status import JobStatus
from submitter.submission import Runtime

UPLOADS = 120
FIRST_BURST = 1.0  # seconds of refusals at the start
BURST, PERIOD = 0.15, 0.5  # then refusals during the first BURST s of every PERIOD s
TIME_SCALE = 50  # the submitter's backoff sleeps, shortened (0.1-5 s -> 2-100 ms)


class ThrottlingBatch(BatchProxy):
    def __init__(self, batch: Any) -> None:
        super().__init__(batch)
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.throttled: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()

    def _gate(self, operation: str) -> None:
        elapsed = time.monotonic() - self.started
        bursting = elapsed < FIRST_BURST or (elapsed - FIRST_BURST) % PERIOD < BURST
        with self.lock:
            (self.throttled if bursting else self.accepted)[operation] += 1
        if bursting:
            raise ClientError(
                {
                    "Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"},
                    "ResponseMetadata": {"HTTPStatusCode": 429},
                },
                operation,
            )

    def submit_job(self, **request: Any) -> dict[str, Any]:
        self._gate("SubmitJob")
        return self._batch.submit_job(**request)

    def list_jobs(self, **request: Any) -> dict[str, Any]:
        self._gate("ListJobs")
        return self._batch.list_jobs(**request)


@pytest.mark.slow
def test_throttling_bursts_submit_every_job_once(make_pipeline) -> None:
    runtime = Runtime(sleep=lambda seconds: time.sleep(seconds / TIME_SCALE))
    pipeline = make_pipeline(max_vcpus=8, runtime=runtime, wrap_batch=ThrottlingBatch)
    throttler: ThrottlingBatch = pipeline.batch
    uploads = ChaoticDelivery(pipeline.ingest, seed=3, retry_delay=0.1)

    keys = [f"jobs/burst-{i:03d}.json" for i in range(UPLOADS)]
    for key in keys:
        version = pipeline.upload(key, job_config(key[5:-5]))
        uploads.put(s3_put_event(key, version))
    uploads.drain(timeout=240)
    uploads.close()

    # Bursts happened, and some invocations gave up (ThrottledError) and were redelivered
    assert throttler.throttled["SubmitJob"] > 0
    assert uploads.stats.failures > 0
    assert any("ThrottledError" in error for error in uploads.stats.errors)
    # THEN every upload has one Batch job, none twice, each attached to its record
    jobs = pipeline.batch_jobs()
    assert len(jobs) == UPLOADS
    assert max(Counter(job["jobName"] for job in jobs).values()) == 1
    all_records = pipeline.records()
    assert len(all_records) == UPLOADS
    assert {r["batch_job_id"] for r in all_records} == {job["jobId"] for job in jobs}
    assert {r["status"] for r in all_records} <= {JobStatus.SUBMITTED, JobStatus.RUNNING}
    # ... and each job runs once
    pipeline.local_batch.wait([job["jobId"] for job in jobs], timeout=120)
    assert sorted(job_id for job_id, _ in pipeline.runs()) == sorted(
        r["job_id"] for r in all_records
    )
    print(
        f"throttled {dict(throttler.throttled)}, accepted {dict(throttler.accepted)}, "
        f"{uploads.stats.failures} failed invocations redelivered"
    )
