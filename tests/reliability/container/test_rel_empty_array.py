"""An array job whose whole input holds no rows fails at its commit, the job run after the
array (each child alone may well have no rows: that is not an error)."""

from __future__ import annotations

from support import jobdata
from support.container_cloud import Cloud
from support.names import DATA_BUCKET

from config.retry import EXIT_OK, EXIT_PERMANENT


def test_an_array_job_over_an_input_without_rows_fails_at_the_commit(cloud: Cloud) -> None:
    jobdata.save_model(jobdata.fit(), cloud.local / "model.skops")
    model = cloud.put("models/model.skops", cloud.local / "model.skops")
    for name in ("a", "b"):
        path = jobdata.write_table(jobdata.table(0), cloud.local / f"{name}.parquet")
        cloud.put(f"input/{name}.parquet", path)
    prefixes = (f"s3://{DATA_BUCKET}/input/", f"s3://{DATA_BUCKET}/output/")
    document = jobdata.config(model, *prefixes, shards=2, **{"input.format": "parquet"})
    cloud.create_job("job-1", document)

    first = cloud.run_here("job-1", 1, shard=0)
    second = cloud.run_here("job-1", 1, shard=1)
    commit = cloud.commit_here("job-1")

    assert first.code == EXIT_OK, first.errors()
    assert second.code == EXIT_OK, second.errors()
    assert commit.code == EXIT_PERMANENT
    assert f"input.uri: s3://{DATA_BUCKET}/input/ holds no rows" in commit.errors()
    assert "output/_manifest.json" not in cloud.keys("output/")
    record = cloud.record("job-1")
    assert (record["status"], record["exit_code"]) == ("FAILED", EXIT_PERMANENT)
    assert "holds no rows" in record["status_reason"]
