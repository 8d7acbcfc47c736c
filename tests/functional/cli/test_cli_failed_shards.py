"""`batchscore rerun JOB --failed-shards` end to end on the local stack (real handlers, real
container processes): a 4-shard job with one shard failing permanently on bad data, the data
fixed, the rerun scoring only that shard, one manifest for the whole job."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.names import DEMO_ROWS
from typer.testing import CliRunner

from submitter.cli.entrypoint import app
from submitter.local.stack import LocalStack

pytestmark = pytest.mark.slow
ROWS = DEMO_ROWS
FILES = 4
BAD_FILE = 2


def invoke(cli: CliRunner, *args: str, code: int | None = 0) -> dict[str, Any]:
    result = cli.invoke(app, list(args))
    assert code is None or result.exit_code == code, result.output
    lines = result.output.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    document: dict[str, Any] = json.loads("\n".join(lines[start:]))
    return document


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def wait_terminal(cli: CliRunner, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record = invoke(cli, "status", job_id, "--json", code=None)
        if record["status"] in ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"):
            return record
        assert time.monotonic() < deadline, f"{job_id} is still {record['status']}"
        time.sleep(0.5)


def test_a_failed_shard_is_rerun_alone_and_the_job_committed_once(
    cli: CliRunner, stack: LocalStack, tmp_path: Path
) -> None:
    s3, bucket = stack.client("s3"), stack.names.data_bucket
    customers = pq.read_table(
        io.BytesIO(s3.get_object(Bucket=bucket, Key="input/customers.parquet")["Body"].read())
    )
    size = ROWS // FILES
    files = [customers.slice(i * size, size) for i in range(FILES)]
    # GIVEN 4 files, one shard each; file 2 has a missing tenure the model cannot take
    tenure = files[BAD_FILE].column("tenure_months").to_pylist()
    tenure[5] = None
    bad = files[BAD_FILE].set_column(
        files[BAD_FILE].schema.get_field_index("tenure_months"),
        "tenure_months",
        pa.array(tenure, type=files[BAD_FILE].schema.field("tenure_months").type),
    )
    for i, table in enumerate(files):
        body = parquet(bad if i == BAD_FILE else table)
        s3.put_object(Bucket=bucket, Key=f"shards-in/part-{i}.parquet", Body=body)
    document = {
        "name": "four-shards",
        "model": {"uri": f"s3://{bucket}/models/churn.skops"},
        "input": {"uri": f"s3://{bucket}/shards-in/", "format": "parquet"},
        "output": {"uri": f"s3://{bucket}/shards-out/", "passthrough": ["customer_id"]},
        "shards": FILES,
    }
    path = tmp_path / "four.json"
    path.write_text(json.dumps(document))

    # WHEN the job runs: shard 2 fails permanently, the job FAILS, no manifest
    first = invoke(cli, "submit", str(path), "--wait", "--timeout", "180", "--json", code=None)
    assert first["status"] == "FAILED", first
    assert "NaN in feature(s) tenure_months" in first["status_reason"]
    # (the failing child records FAILED itself; the other children may still be running)
    stack.batch.wait([first["batch_job_id"]], timeout=180)
    markers = "shards-out/_shards/"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=markers).get("Contents", [])
    kept = {item["Key"]: item["ETag"] for item in listed}
    assert sorted(kept) == [f"{markers}shard-0000{i}.json" for i in (0, 1, 3)]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="shards-out/_manifest")

    # AND the data is fixed, and only the failed shards are rerun
    s3.put_object(
        Bucket=bucket, Key=f"shards-in/part-{BAD_FILE}.parquet", Body=parquet(files[BAD_FILE])
    )
    rerun = invoke(cli, "rerun", first["job_id"], "--failed-shards", "--json")
    assert (rerun["rerun_of"], rerun["shards"], rerun["action"]) == (
        first["job_id"],
        [BAD_FILE],
        "submitted",
    )
    after = wait_terminal(cli, rerun["job_id"])

    # THEN the rerun succeeded with the whole job's figures, scoring shard 2 only
    assert after["status"] == "SUCCEEDED", after
    assert after["rows"] == ROWS
    described = stack.batch.describe_jobs(jobs=[after["batch_job_id"]])["jobs"][0]
    assert "arrayProperties" not in described  # one shard: one container
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=markers)["Contents"]
    now = {item["Key"]: item["ETag"] for item in listed}
    assert {k: now[k] for k in kept} == kept  # the succeeded shards' markers untouched
    assert len(now) == FILES
    # AND one manifest for the whole job: every customer once, 4 shards, in the original's name
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key="shards-out/_manifest.json")["Body"].read()
    )
    assert manifest["job_id"] == first["job_id"]
    assert manifest["rows"] == ROWS
    assert [s["shard"] for s in manifest["shard_figures"]] == list(range(FILES))
    ids: list[Any] = []
    for part in manifest["parts"]:
        key = part["uri"].split("/", 3)[3]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ids += pq.read_table(io.BytesIO(body)).column("customer_id").to_pylist()
    assert sorted(ids) == sorted(customers.column("customer_id").to_pylist())
    # AND the original's record is as it ended: FAILED
    assert invoke(cli, "status", first["job_id"], "--json", code=None)["status"] == "FAILED"
