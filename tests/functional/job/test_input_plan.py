"""An array job's input is planned once (`job.plan`): files added under the prefix while the array
runs are not read, and a file replaced since the plan fails the shard naming it."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from support import jobdata
from support.names import DATA_BUCKET

from config import env
from config.retry import EXIT_OK, EXIT_PERMANENT

PLAN = "output/_plan/"


def document_for(job_files, **changes):
    return jobdata.config(
        job_files["model"],
        job_files["input"],
        job_files["output"],
        **{"input.format": "parquet", **changes},
    )


def run_child(run_job, monkeypatch, job_id: str, *, index: int):
    monkeypatch.setenv(env.BATCH_JOB_ATTEMPT, "1")
    monkeypatch.setenv(env.BATCH_ARRAY_INDEX, str(index))
    return run_job("run", "--job-id", job_id, "--batch-rows", "300")


def parquet_bytes(data: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(data, sink, row_group_size=500)
    return sink.getvalue()


def output_ids(server_aws) -> list[int]:
    manifest = server_aws.get_json("output/_manifest.json")
    ids: list[int] = []
    for part in manifest["parts"]:
        key = part["uri"].split("/", 3)[3]
        ids += jobdata.parquet_ids(
            server_aws.s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read()
        )
    return ids


def slice_files(server_aws, job_id: str, shard: int) -> list[str]:
    header = server_aws.get_json(f"{PLAN}{job_id}/plan.json")
    found = server_aws.get_json(f"{PLAN}{job_id}/{header['token']}/shard-{shard:05d}.json")
    return [f["path"] for f in found["files"]]


def test_a_file_added_while_the_array_runs_is_not_scored(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    # GIVEN a 3-shard job whose first child has run (and so planned the input)
    server_aws.create_job("job-p1", document_for(job_files, shards=3))
    assert run_child(run_job, monkeypatch, "job-p1", index=1)[0] == EXIT_OK
    # WHEN a file lands under the input prefix while the others have yet to run
    newcomer = jobdata.table(100).set_column(0, "id", pa.array(range(10_000, 10_100)))
    server_aws.s3.put_object(
        Bucket=DATA_BUCKET, Key="input/data-00a.parquet", Body=parquet_bytes(newcomer)
    )
    for index in (2, 0):
        assert run_child(run_job, monkeypatch, "job-p1", index=index)[0] == EXIT_OK
    monkeypatch.delenv(env.BATCH_ARRAY_INDEX)
    assert run_job("commit", "--job-id", "job-p1")[0] == EXIT_OK  # after the parent's SUCCEEDED
    # THEN every planned row is scored exactly once and the newcomer's rows are not
    ids = output_ids(server_aws)
    assert sorted(ids) == list(range(3000))
    assert server_aws.record("job-p1")["rows"] == 3000
    # AND the plan was made once: one header, one lease, one slice per shard
    keys = [k for k in server_aws.keys(PLAN) if k.startswith(f"{PLAN}job-p1/")]
    assert len(keys) == 2 + 3, keys
    assert server_aws.get_json(f"{PLAN}job-p1/plan.json")["files"] == 4


def test_a_file_replaced_since_the_plan_fails_naming_it(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-p2", document_for(job_files, shards=3))
    assert run_child(run_job, monkeypatch, "job-p2", index=0)[0] == EXIT_OK
    # WHEN a file of shard 2's slice is replaced (same name, other rows)
    path = slice_files(server_aws, "job-p2", 2)[-1]
    key = path.split("/", 1)[1]
    server_aws.s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=parquet_bytes(jobdata.table(750)))
    code, _ = run_child(run_job, monkeypatch, "job-p2", index=2)
    # THEN the shard fails for good, naming the file; nothing is committed
    assert code == EXIT_PERMANENT
    record = server_aws.record("job-p2")
    assert record["status"] == "FAILED"
    assert f"s3://{path}" in record["status_reason"]
    assert "changed or disappeared after the job planned its input" in record["status_reason"]
    assert "output/_manifest.json" not in server_aws.keys("output/")


def test_a_file_deleted_since_the_plan_fails_naming_it(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-p3", document_for(job_files, shards=2))
    assert run_child(run_job, monkeypatch, "job-p3", index=0)[0] == EXIT_OK
    path = slice_files(server_aws, "job-p3", 1)[0]
    server_aws.s3.delete_object(Bucket=DATA_BUCKET, Key=path.split("/", 1)[1])
    assert run_child(run_job, monkeypatch, "job-p3", index=1)[0] == EXIT_PERMANENT
    assert f"s3://{path}" in server_aws.record("job-p3")["status_reason"]
