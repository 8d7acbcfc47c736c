"""Fixtures of the pipeline reliability tests: moto (in-process) for S3 and DynamoDB, the local
Batch running a trivial container, and the submitter's real work functions between them
(`support.pipeline`). `cold_start` and `aws_credentials` are in tests/conftest.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.names import DATA_BUCKET, JOB_DEFINITION, JOBS_BUCKET, REGION, TABLE
from support.pipeline import RUN_ONCE_COMMAND, Pipeline, SerialClient, pipeline_settings

from config.records import table_definition
from config.retry import retry_strategy
from submitter.local.executor import LocalBatch
from submitter.local.jobs import JobDefinition
from submitter.submission import Runtime


@pytest.fixture
def make_pipeline(aws_credentials: None, tmp_path: Path) -> Iterator[Callable[..., Pipeline]]:
    """`make_pipeline(max_vcpus=..., runtime=..., wrap_batch=...)`: one per test."""
    made: list[LocalBatch] = []
    with mock_aws():
        moto_lock = threading.Lock()  # one moto request at a time, whatever the service
        s3 = SerialClient(boto3.client("s3", region_name=REGION), moto_lock)
        ddb = SerialClient(boto3.client("dynamodb", region_name=REGION), moto_lock)
        for bucket in (JOBS_BUCKET, DATA_BUCKET):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=JOBS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        ddb.create_table(**table_definition(TABLE))

        def make(
            *,
            max_vcpus: float = 4,
            runtime: Runtime | None = None,
            wrap_batch: Callable[[LocalBatch], Any] | None = None,
            **setting_overrides: Any,
        ) -> Pipeline:
            runs_file = tmp_path / "runs.txt"
            events: list[dict[str, Any]] = []
            local_batch = LocalBatch(
                job_definitions=[
                    JobDefinition(JOB_DEFINITION, RUN_ONCE_COMMAND, retry_strategy=retry_strategy())
                ],
                max_vcpus=max_vcpus,
                env={"RUNS_FILE": str(runs_file)},
                log_dir=tmp_path / "logs",
                on_event=events.append,
                min_timeout_seconds=0,
            )
            made.append(local_batch)
            return Pipeline(
                s3=s3,
                ddb=ddb,
                batch=wrap_batch(local_batch) if wrap_batch else local_batch,
                local_batch=local_batch,
                settings=pipeline_settings(**setting_overrides),
                runtime=runtime or Runtime(),
                runs_file=runs_file,
                batch_events=events,
            )

        try:
            yield make
        finally:
            for local_batch in made:
                local_batch.close()
