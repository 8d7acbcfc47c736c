"""A minimal moto AWS for the submitter: a versioned jobs bucket, a data bucket, the job table and
a Batch setup (compute environment, queues `high`, `normal`, `low`, job definition).

moto's Batch runs submitted jobs in Docker unless told otherwise; `use_docker: False` makes it use
its "simple" backend, which marks jobs SUCCEEDED at once without running anything. The tests never
rely on those statuses: moto stands in for the Batch *API* only. (The job table alone is the
`ddb` fixture of tests/conftest.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from support.clock import FakeClock
from support.names import DATA_BUCKET, JOBS_BUCKET, REGION, TABLE
from support.submitter_aws import SubmitterAws, settings

from config.records import table_definition
from submitter.local.moto_batch import create_batch
from submitter.submission import Runtime


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[SubmitterAws]:
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
        yield SubmitterAws(s3, ddb, batch, settings(), runtime, clock, sleeps, queue_arns)
