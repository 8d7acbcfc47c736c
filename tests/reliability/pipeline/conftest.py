"""Fixtures of the pipeline reliability tests: moto (in-process) for S3 and DynamoDB, the local
Batch running a trivial container, and the submitter's real work functions between them."""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rel_pipeline_helpers import (
    DATA_BUCKET,
    JOB_DEFINITION,
    JOBS_BUCKET,
    REGION,
    RUN_ONCE_COMMAND,
    Pipeline,
    SerialClient,
    settings,
)

from config.records import table_definition
from config.retry import retry_strategy
from submitter.local.executor import LocalBatch
from submitter.local.jobs import JobDefinition
from submitter.submission import Runtime


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own fake keys (mock_aws sets them); only the region and endpoints are ours."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BATCH", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_pipeline(credentials: None, tmp_path: Path) -> Iterator[Callable[..., Pipeline]]:
    """`make_pipeline(max_vcpus=..., runtime=..., wrap_batch=...)`: one per test."""
    made: list[LocalBatch] = []
    with mock_aws():
        moto_lock = threading.Lock()  # one moto request at a time, whatever the service
        s3 = SerialClient(boto3.client("s3", region_name=REGION), moto_lock)
        ddb = SerialClient(boto3.client("dynamodb", region_name=REGION), moto_lock)
        for bucket in (JOBS_BUCKET, DATA_BUCKET):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=JOBS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        ddb.create_table(**table_definition(settings().table))

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
                settings=settings(**setting_overrides),
                runtime=runtime or Runtime(),
                runs_file=runs_file,
                batch_events=events,
            )

        try:
            yield make
        finally:
            for local_batch in made:
                local_batch.close()


@pytest.fixture
def cold_start(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import a Lambda entry point anew (its clients made under this test's moto), with
    powertools' loggers as on a cold start; the earlier module and loggers come back after."""

    def load(name: str) -> ModuleType:
        for logger_name in ("batchscore-ingest", "batchscore-state", "submitter"):
            std = logging.getLogger(logger_name)
            monkeypatch.setattr(std, "handlers", [])
            for attribute in ("init", "powertools_handler"):  # powertools' "configured" marks
                monkeypatch.delattr(std, attribute, raising=False)
        monkeypatch.delitem(sys.modules, name, raising=False)
        return importlib.import_module(name)

    return load
