"""A moto *server* as the job sees AWS: S3 and DynamoDB over HTTP, for boto3 and for pyarrow's C++
S3 client (which `mock_aws` cannot intercept), reached through AWS_ENDPOINT_URL as on the local
stack. `ServerAws` is one test's account on it."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import env, records
from support import jobdata
from support.names import DATA_BUCKET, REGION, TABLE


def emulator_env(endpoint: str) -> dict[str, str]:
    """A job process's environment: this machine's, its AWS and batchscore settings replaced by
    the emulator's."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BATCHSCORE_"))}
    return {
        **keep,
        env.AWS_ENDPOINT_URL: endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,  # what the C++ SDK under pyarrow's S3FileSystem reads
        "AWS_EC2_METADATA_DISABLED": "true",
        env.TABLE_NAME: TABLE,
    }


def open_account(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], Any, Any]:
    """This process pointed at the server (no Batch job attempt or array index set), the server
    emptied, the data bucket and the job table created: (environment, s3, ddb)."""
    environment = emulator_env(endpoint)
    for name in (env.BATCH_JOB_ATTEMPT, env.BATCH_ARRAY_INDEX):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        if name.startswith(("AWS_", "BATCHSCORE_")):
            monkeypatch.setenv(name, value)
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=DATA_BUCKET)
    ddb = boto3.client("dynamodb")
    ddb.create_table(**records.table_definition(TABLE))
    return environment, s3, ddb


@dataclass
class ServerAws:
    """The data bucket and the job table of one test, and a scratch folder for files."""

    endpoint: str
    s3: Any
    ddb: Any
    local: Path  # scratch folder for files before upload

    def put(self, key: str, path: Path) -> str:
        self.s3.upload_file(str(path), DATA_BUCKET, key)
        return f"s3://{DATA_BUCKET}/{key}"

    def get_json(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"] for item in listing)

    def objects(self, prefix: str) -> dict[str, bytes]:
        return {
            key: self.s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read()
            for key in self.keys(prefix)
        }

    def delete_prefix(self, prefix: str) -> None:
        for key in self.keys(prefix):
            self.s3.delete_object(Bucket=DATA_BUCKET, Key=key)

    def put_model_and_input(self, files: int, rows: int = 3000) -> tuple[Any, Any, str]:
        """A fitted skops model and a `rows`-row input split into `files` Parquet files under
        `input/`: (estimator, input table, model URI)."""
        estimator = jobdata.fit()
        jobdata.save_model(estimator, self.local / "model.skops")
        data = jobdata.table(rows)
        for path in jobdata.write_files(data, self.local / "in", ".parquet", files):
            self.put(f"input/{path.name}", path)
        return estimator, data, self.put("models/model.skops", self.local / "model.skops")

    def create_job(self, job_id: str, document: dict[str, Any], **fields: Any) -> None:
        """The record the submitter leaves for a submitted job of config `document`."""
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
