"""An array job with a bad-rows budget (S3 and DynamoDB on a moto server): each child sets its
own bad rows aside and counts them in its marker; the committing child sums them and applies
the budget to the job's total, so the record and the manifest say how many rows were set aside,
or the job fails when the total is over."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import jobdata

from config import env
from config.retry import EXIT_OK, EXIT_PERMANENT

# Four 750-row files of 500-row groups; three children take rows 0-1249, 1250-1999, 2000-2999.
BAD_IDS = [10, 1300, 2100, 2900]


@pytest.fixture
def bad_input(server_aws):
    estimator = jobdata.fit()
    jobdata.save_model(estimator, server_aws.local / "model.skops")
    data = jobdata.table(3000).to_pydict()
    for row in BAD_IDS:
        data["f1"][row] = None
    for path in jobdata.write_files(pa.table(data), server_aws.local / "in", ".parquet", 4):
        server_aws.put(f"input/{path.name}", path)
    return server_aws.put("models/model.skops", server_aws.local / "model.skops")


def run_children(server_aws, model_uri, run_job, monkeypatch, max_bad_rows: int) -> list[int]:
    document = jobdata.config(
        model_uri,
        "s3://batchscore-data/input/",
        "s3://batchscore-data/output/",
        **{"input.format": "parquet", "shards": 3, "output.max_bad_rows": max_bad_rows},
    )
    server_aws.create_job("bad-1", document)
    codes = []
    for index in range(3):
        monkeypatch.setenv(env.BATCH_JOB_ATTEMPT, "1")
        monkeypatch.setenv(env.BATCH_ARRAY_INDEX, str(index))
        codes.append(run_job("run", "--job-id", "bad-1", "--batch-rows", "300")[0])
    # then the array's commit job (after the parent's SUCCEEDED): the job's budget is held there
    monkeypatch.delenv(env.BATCH_ARRAY_INDEX)
    codes.append(run_job("commit", "--job-id", "bad-1")[0])
    return codes


def test_each_shard_sets_its_bad_rows_aside_and_the_job_counts_them(
    server_aws, bad_input, run_job, monkeypatch
) -> None:
    assert (
        run_children(server_aws, bad_input, run_job, monkeypatch, max_bad_rows=4) == [EXIT_OK] * 4
    )

    record = server_aws.record("bad-1")
    assert record["status"] == "SUCCEEDED"
    assert record["rows"] == 2996
    assert record["bad_rows"] == 4
    manifest = server_aws.get_json("output/_manifest.json")
    assert manifest["bad_rows"] == 4
    assert [s["bad_rows"] for s in manifest["shard_figures"]] == [1, 1, 2]
    bad_ids = []
    for part in manifest["error_parts"]:
        assert "/output/_errors/part-" in part["uri"]
        key = part["uri"].split("/", 3)[3]
        body = server_aws.s3.get_object(Bucket="batchscore-data", Key=key)["Body"].read()
        errors = pq.read_table(pa.BufferReader(body))
        assert all("NaN in feature(s) f1" in r for r in errors["reason"].to_pylist())
        bad_ids += errors["id"].to_pylist()
    assert bad_ids == BAD_IDS


def test_the_budget_applies_to_the_jobs_total_not_each_shard(
    server_aws, bad_input, run_job, monkeypatch
) -> None:
    # GIVEN a budget of 3: no child has more than 2, the job has 4
    codes = run_children(server_aws, bad_input, run_job, monkeypatch, max_bad_rows=3)

    # THEN every child succeeds, and the commit fails the job, naming the total and the first
    # reasons
    assert codes == [EXIT_OK, EXIT_OK, EXIT_OK, EXIT_PERMANENT]
    record = server_aws.record("bad-1")
    assert record["status"] == "FAILED"
    assert "4 bad row(s) of 3,000 rows read" in record["status_reason"]
    assert "id=10: NaN in feature(s) f1" in record["status_reason"]
    assert "output/_manifest.json" not in server_aws.keys("output/")
