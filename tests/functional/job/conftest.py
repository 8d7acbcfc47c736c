"""Fixtures for the job's functional tests: a moto server standing in for S3 and DynamoDB.

pyarrow's S3 filesystem is C++ and bypasses botocore, so moto's in-process `mock_aws` cannot
intercept it: the tests run moto as a threaded server and point both boto3 and pyarrow at it
through AWS_ENDPOINT_URL, the same override the local stack uses (`support.moto_server`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from support.moto_server import ServerAws, open_account
from support.names import DATA_BUCKET


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def server_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ServerAws:
    _, s3, ddb = open_account(moto_endpoint, monkeypatch)
    return ServerAws(moto_endpoint, s3, ddb, tmp_path)


@pytest.fixture
def job_files(server_aws: ServerAws) -> dict[str, Any]:
    """A skops model and a 3000-row input in S3, as four Parquet files under a prefix."""
    estimator, data, model = server_aws.put_model_and_input(files=4)
    return {
        "estimator": estimator,
        "data": data,
        "model": model,
        "input": f"s3://{DATA_BUCKET}/input/",
        "output": f"s3://{DATA_BUCKET}/output/",
    }


@pytest.fixture
def run_job(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, list[str]]]:
    """Run `python -m job ...` in-process; return (exit code, stdout lines)."""
    from job.commands import main

    def run(*argv: str) -> tuple[int, list[str]]:
        code = main(list(argv))
        return code, capsys.readouterr().out.strip().splitlines()

    return run
