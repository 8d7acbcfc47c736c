"""Fixtures for the container's reliability tests: a fault-injecting moto server, the job's data
in it, and `python -m job` run as a real subprocess (as Batch runs it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import jobdata
from support.container_cloud import Cloud
from support.faulty_moto import Faults, FaultyMotoServer
from support.moto_server import open_account
from support.names import DATA_BUCKET


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
    environment, s3, ddb = open_account(endpoint, monkeypatch)
    yield Cloud(
        endpoint, s3, ddb, tmp_path, faults=faulty_moto.faults, capsys=capsys, env=environment
    )
    faulty_moto.faults.clear()


@pytest.fixture
def job_input(cloud: Cloud) -> dict[str, Any]:
    """A skops model and a 3000-row input in S3 (two Parquet files), and a config for them."""
    _, _, model = cloud.put_model_and_input(files=2)
    return jobdata.config(
        model,
        f"s3://{DATA_BUCKET}/input/",
        f"s3://{DATA_BUCKET}/output/",
        **{"input.format": "parquet"},
    )
