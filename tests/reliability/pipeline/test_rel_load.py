"""Load: 1,000 uploads, S3 and Batch events duplicated (20%) and reordered, delivered by 8
threads -> exactly 1,000 Batch jobs, each run once, each record terminal and correct.

The pipeline is the submitter's real ingest and state-change functions over moto (S3,
DynamoDB) and the local Batch, whose processes are a trivial container (one line per run in a
file; see support.pipeline.RUN_ONCE). Its events go to the state-change handler, which moves
the records to RUNNING and SUCCEEDED (what the real container also does itself).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter

import pytest
from support.events import s3_put_event
from support.job_configs import job_config
from support.names import JOBS_BUCKET, QUEUES
from support.pipeline import ChaoticDelivery, ranks_never_decrease, status_trace

from config.status import JobStatus
from submitter.batch import job_name

UPLOADS = int(os.environ.get("BATCHSCORE_REL_LOAD_UPLOADS", "1000"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_uploads_with_duplicated_reordered_events_make_one_job_each_run_once(
    make_pipeline, record_property
) -> None:
    pipeline = make_pipeline(max_vcpus=8)
    # Batch events: to the real state-change handler, 8 threads, 20% twice, in any order
    state = ChaoticDelivery(pipeline.state, seed=11)
    pipeline.local_batch.on_event = state.put
    # S3 events: to the real ingest, 8 threads, 20% twice, in any order, while uploads go on
    uploads = ChaoticDelivery(pipeline.ingest, seed=5)
    started = time.monotonic()

    # GIVEN 1,000 uploads of distinct configs over the three priorities
    expected = {}
    for i in range(UPLOADS):
        name = f"load-{i:04d}"
        key = f"jobs/{name}.json"
        document = job_config(name, priority=QUEUES[i % 3])
        version = pipeline.upload(key, document)
        expected[f"s3://{JOBS_BUCKET}/{key}"] = document
        uploads.put(s3_put_event(key, version))

    # WHEN every delivery is done and every Batch job has finished
    uploads.drain(timeout=300)
    ingested = time.monotonic()
    jobs = pipeline.batch_jobs()
    pipeline.local_batch.wait([job["jobId"] for job in jobs], timeout=300)
    state.drain(timeout=120)
    finished = time.monotonic()
    uploads.close()
    state.close()

    # THEN exactly one Batch job per upload (no name twice), each SUCCEEDED after one attempt
    jobs = pipeline.batch_jobs()
    names = Counter(job["jobName"] for job in jobs)
    assert len(jobs) == UPLOADS
    assert [name for name, count in names.items() if count > 1] == []
    assert {job["status"] for job in jobs} == {"SUCCEEDED"}
    assert {len(job["attempts"]) for job in jobs} == {1}

    # ... each run exactly once (the container's own account)
    runs = pipeline.runs()
    assert len(runs) == UPLOADS
    assert Counter(job_id for job_id, _ in runs).most_common(1)[0][1] == 1
    assert {attempt for _, attempt in runs} == {1}

    # ... and one record per upload: terminal, attached to its job, correct
    by_name = {job["jobName"]: job for job in jobs}
    all_records = pipeline.records()
    assert len(all_records) == UPLOADS
    assert {r["upload"] for r in all_records} == set(expected)
    assert {job_id for job_id, _ in runs} == {r["job_id"] for r in all_records}
    for record in all_records:
        document = expected[record["upload"]]
        batch_job = by_name[job_name(record["job_id"])]
        config = json.loads(record["config"])
        assert record["status"] == JobStatus.SUCCEEDED
        assert record["batch_job_id"] == batch_job["jobId"]
        assert record["name"] == document["name"]
        assert record["queue"] == document["priority"] == batch_job["jobQueue"].rsplit("/")[-1]
        assert config["input"]["uri"] == document["input"]["uri"]
        assert config["job_id"] == record["job_id"]
        assert record["attempts"] == 1
        assert "lease_token" not in record
        trace = status_trace(record["history"])
        assert trace[0] == JobStatus.SUBMITTED
        assert trace[-1] == JobStatus.SUCCEEDED
        assert ranks_never_decrease(trace)

    # The figures, for docs/performance-reliability.md
    figures = {
        "uploads": UPLOADS,
        "s3_deliveries": uploads.stats.delivered,
        "s3_duplicates": uploads.stats.duplicates,
        "ingest_failures_redelivered": uploads.stats.failures,
        "batch_events": state.stats.delivered,
        "batch_event_duplicates": state.stats.duplicates,
        "state_failures_redelivered": state.stats.failures,
        "records_that_saw_succeeded_before_running": sum(
            JobStatus.RUNNING not in status_trace(r["history"]) for r in all_records
        ),
        "ingest_seconds": round(ingested - started, 1),
        "total_seconds": round(finished - started, 1),
    }
    record_property("figures", figures)
    print(json.dumps(figures))
    assert uploads.stats.duplicates >= UPLOADS // 10
    assert state.stats.duplicates >= UPLOADS // 10
