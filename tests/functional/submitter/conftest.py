"""A minimal moto AWS for the submitter: a versioned jobs bucket, a data bucket, the job table and
a Batch setup (compute environment, queues `high`, `normal`, `low`, job definition).

moto's Batch runs submitted jobs in Docker unless told otherwise; `use_docker: False` makes it use
its "simple" backend, which marks jobs SUCCEEDED at once without running anything. The tests never
rely on those statuses: moto stands in for the Batch *API* only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto_batch import JOB_DEFINITION, QUEUES, REGION, create_batch
from submitter_helpers import DATA_BUCKET, JOBS_BUCKET, TABLE, Aws, FakeClock

from config.records import table_definition
from submitter.settings import Settings
from submitter.submission import Runtime


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", raising=False)


@pytest.fixture
def ddb(credentials: None) -> Iterator[Any]:
    """The job table alone (the state-change handler needs nothing else)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**table_definition(TABLE))
        yield client


@pytest.fixture
def aws(credentials: None) -> Iterator[Aws]:
    with mock_aws(config={"batch": {"use_docker": False}}):
        s3 = boto3.client("s3", region_name=REGION)
        ddb = boto3.client("dynamodb", region_name=REGION)
        batch = boto3.client("batch", region_name=REGION)
        for bucket in (JOBS_BUCKET, DATA_BUCKET):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=JOBS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        ddb.create_table(**table_definition(TABLE))
        queue_arns = create_batch(batch)
        sleeps: list[float] = []
        clock = FakeClock()
        runtime = Runtime(clock=clock, sleep=sleeps.append, wait_seconds=0.2, poll_seconds=0.01)
        settings = Settings(
            table=TABLE,
            job_definition=JOB_DEFINITION,
            queues={q: f"batchscore-{q}" for q in QUEUES},
            allowed_buckets=frozenset({DATA_BUCKET}),
        )
        yield Aws(s3, ddb, batch, settings, runtime, clock, sleeps, queue_arns)
