"""Fixtures for the job's functional tests: a moto server standing in for S3 and DynamoDB.

pyarrow's S3 filesystem is C++ and bypasses botocore, so moto's in-process `mock_aws` cannot
intercept it: the tests run moto as a threaded server and point both boto3 and pyarrow at it
through AWS_ENDPOINT_URL, the same override the local stack uses.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from config import env, records

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "job"))

import jobdata

TABLE = "batchscore-jobs"
BUCKET = "batchscore-data"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Aws:
    endpoint: str
    s3: Any
    ddb: Any
    local: Path  # scratch folder for files before upload

    def put(self, key: str, path: Path) -> str:
        self.s3.upload_file(str(path), BUCKET, key)
        return f"s3://{BUCKET}/{key}"

    def get_json(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"] for item in listing)

    def create_job(self, job_id: str, document: dict[str, Any], **fields: Any) -> None:
        record = {
            "job_id": job_id,
            "name": document["name"],
            "status": "SUBMITTED",
            "priority": document.get("priority", "normal"),
            "queue": "normal",
            "config": json.dumps(document),
            "shards": document.get("shards", 1),
            **fields,
        }
        records.create_record(self.ddb, TABLE, record)

    def record(self, job_id: str) -> dict[str, Any]:
        return records.get_record(self.ddb, TABLE, job_id)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    for name, value in {
        env.AWS_ENDPOINT_URL: moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        env.TABLE_NAME: TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (env.BATCH_JOB_ATTEMPT, env.BATCH_ARRAY_INDEX):
        monkeypatch.delenv(name, raising=False)
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    ddb = boto3.client("dynamodb")
    ddb.create_table(**records.table_definition(TABLE))
    return Aws(moto_endpoint, s3, ddb, tmp_path)


@pytest.fixture
def job_files(aws: Aws) -> dict[str, Any]:
    """A skops model and a 3000-row input in S3, as four Parquet files under a prefix."""
    estimator = jobdata.fit()
    jobdata.save_model(estimator, aws.local / "model.skops")
    data = jobdata.table(3000)
    for path in jobdata.write_files(data, aws.local / "in", ".parquet", 4):
        aws.put(f"input/{path.name}", path)
    return {
        "estimator": estimator,
        "data": data,
        "model": aws.put("models/model.skops", aws.local / "model.skops"),
        "input": f"s3://{BUCKET}/input/",
        "output": f"s3://{BUCKET}/output/",
    }


@pytest.fixture
def run_job(capsys: pytest.CaptureFixture[str]):
    """Run `python -m job ...` in-process; return (exit code, stdout lines)."""
    from job.commands import main

    def run(*argv: str) -> tuple[int, list[str]]:
        code = main(list(argv))
        return code, capsys.readouterr().out.strip().splitlines()

    return run
