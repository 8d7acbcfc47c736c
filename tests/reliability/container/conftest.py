"""Fixtures for the container's reliability tests: a fault-injecting moto server, the job's data
in it, and `python -m job` run as a real subprocess (as Batch runs it)."""

from __future__ import annotations

import logging
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from faulty_moto import Faults, FaultyMotoServer

from config import env, records

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "job"))

import jobdata
from rel_container_cloud import BUCKET, TABLE, Cloud, process_env


@pytest.fixture(scope="session")
def faulty_moto() -> Iterator[FaultyMotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = FaultyMotoServer(Faults())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cloud(
    faulty_moto: FaultyMotoServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cloud]:
    host, port = faulty_moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    faulty_moto.faults.clear()
    environment = process_env(endpoint)
    for name in (env.BATCH_JOB_ATTEMPT, env.BATCH_ARRAY_INDEX):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        if name.startswith(("AWS_", "BATCHSCORE_")):
            monkeypatch.setenv(name, value)
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    ddb = boto3.client("dynamodb")
    ddb.create_table(**records.table_definition(TABLE))
    yield Cloud(endpoint, faulty_moto.faults, s3, ddb, tmp_path, capsys, environment)
    faulty_moto.faults.clear()


@pytest.fixture
def job_input(cloud: Cloud) -> dict[str, Any]:
    """A skops model and a 3000-row input in S3 (two Parquet files), and a config for them."""
    estimator = jobdata.fit()
    jobdata.save_model(estimator, cloud.local / "model.skops")
    for path in jobdata.write_files(jobdata.table(3000), cloud.local / "in", ".parquet", 2):
        cloud.put(f"input/{path.name}", path)
    model = cloud.put("models/model.skops", cloud.local / "model.skops")
    return jobdata.config(
        model, f"s3://{BUCKET}/input/", f"s3://{BUCKET}/output/", **{"input.format": "parquet"}
    )
