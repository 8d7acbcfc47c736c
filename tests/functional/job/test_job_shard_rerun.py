"""A rerun of an array's failed shards, as the container runs it (moto server): the rerun's
children score the original's shards in its name, and the commit merges them with the shards
that succeeded the first time into one manifest."""

from __future__ import annotations

import pytest
from support import jobdata

from config import env
from config.retry import EXIT_OK, EXIT_PERMANENT


def document_for(job_files, **changes):
    return jobdata.config(
        job_files["model"],
        job_files["input"],
        job_files["output"],
        **{"input.format": "parquet", **changes},
    )


def run(run_job, monkeypatch, job_id: str, index: int | None):
    monkeypatch.setenv(env.BATCH_JOB_ATTEMPT, "1")
    if index is None:
        monkeypatch.delenv(env.BATCH_ARRAY_INDEX, raising=False)
        return run_job("commit", "--job-id", job_id)
    monkeypatch.setenv(env.BATCH_ARRAY_INDEX, str(index))
    return run_job("run", "--job-id", job_id, "--batch-rows", "300")


@pytest.mark.parametrize("rerun_shards", [[1, 2], [2]])
def test_the_rerun_scores_only_its_shards_and_commits_the_whole_job(
    server_aws, job_files, run_job, monkeypatch, rerun_shards
) -> None:
    document = document_for(job_files, shards=3)
    server_aws.create_job("orig", document, status="FAILED")
    kept = [s for s in range(3) if s not in rerun_shards]
    for index in kept:
        assert run(run_job, monkeypatch, "orig", index)[0] == EXIT_OK
    before = {k: server_aws.s3.head_object(Bucket="batchscore-data", Key=k)["ETag"]
              for k in server_aws.keys("output/_shards/")}  # fmt: skip

    # WHEN the rerun's children run (child i scores original shard rerun_shards[i])
    server_aws.create_job(
        "orig-r1", document, rerun_of="orig", shards_of="orig", rerun_shards=rerun_shards
    )
    for child in range(len(rerun_shards)):
        assert run(run_job, monkeypatch, "orig-r1", child)[0] == EXIT_OK
    if len(rerun_shards) > 1:  # an array: its commit job follows the parent's SUCCEEDED
        assert "output/_manifest.json" not in server_aws.keys("output/")
        assert run(run_job, monkeypatch, "orig-r1", None)[0] == EXIT_OK

    # THEN the kept shards' markers are untouched, the new ones are in the original's name
    after = {k: server_aws.s3.head_object(Bucket="batchscore-data", Key=k)["ETag"]
             for k in server_aws.keys("output/_shards/")}  # fmt: skip
    assert {k: after[k] for k in before} == before
    assert len(after) == 3
    manifest = server_aws.get_json("output/_manifest.json")
    assert manifest["job_id"] == "orig"
    assert [s["shard"] for s in manifest["shard_figures"]] == [0, 1, 2]
    ids = []
    for part in manifest["parts"]:
        key = part["uri"].split("/", 3)[3]
        body = server_aws.s3.get_object(Bucket="batchscore-data", Key=key)["Body"].read()
        ids += jobdata.parquet_ids(body)
    assert sorted(ids) == list(range(3000))
    record = server_aws.record("orig-r1")
    assert (record["status"], record["rows"]) == ("SUCCEEDED", 3000)
    assert server_aws.record("orig")["status"] == "FAILED"


def test_a_rerun_child_outside_its_shards_is_permanent(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    document = document_for(job_files, shards=3)
    server_aws.create_job("o2", document, status="FAILED")
    server_aws.create_job("o2-r", document, shards_of="o2", rerun_shards=[1, 2])
    code, _ = run(run_job, monkeypatch, "o2-r", 2)
    assert code == EXIT_PERMANENT
    assert "reruns 2 shard(s) of 'o2': no child 2" in server_aws.record("o2-r")["status_reason"]
