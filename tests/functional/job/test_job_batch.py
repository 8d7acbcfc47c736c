"""`python -m job run --job-id ID` (Batch mode) against DynamoDB and S3 on a moto server."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from support import jobdata

from config import env
from config.retry import EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT
from job import commands, status
from job.exceptions import TerminatedError, TransientError


def document_for(job_files, **changes):
    return jobdata.config(
        job_files["model"],
        job_files["input"],
        job_files["output"],
        **{"input.format": "parquet", **changes},
    )


def run_child(run_job, monkeypatch, job_id: str, *, attempt: int = 1, index: int | None = None):
    monkeypatch.setenv(env.BATCH_JOB_ATTEMPT, str(attempt))
    if index is None:
        monkeypatch.delenv(env.BATCH_ARRAY_INDEX, raising=False)
    else:
        monkeypatch.setenv(env.BATCH_ARRAY_INDEX, str(index))
    return run_job("run", "--job-id", job_id, "--batch-rows", "300")


def history(record) -> list[tuple[str, int | None]]:
    return [(entry["status"], entry.get("attempt")) for entry in record["history"]]


def test_a_job_moves_to_running_then_succeeded_with_its_figures(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-1", document_for(job_files))

    code, lines = run_child(run_job, monkeypatch, "job-1")

    assert code == EXIT_OK, lines
    record = server_aws.record("job-1")
    assert record["status"] == "SUCCEEDED"
    assert history(record) == [("SUBMITTED", None), ("RUNNING", 1), ("SUCCEEDED", None)]
    assert record["rows"] == 3000
    assert record["seconds"] > 0
    assert record["output_uri"] == job_files["output"]
    assert record["manifest_uri"] == job_files["output"] + "_manifest.json"
    assert server_aws.get_json("output/_manifest.json")["job_id"] == "job-1"
    assert json.loads(lines[-1])["rows"] == 3000


def test_a_second_attempt_is_recorded(server_aws, job_files, run_job, monkeypatch) -> None:
    server_aws.create_job("job-2", document_for(job_files))
    assert status.mark_running(server_aws.ddb, "batchscore-jobs", "job-2", 1)

    assert run_child(run_job, monkeypatch, "job-2", attempt=2)[0] == EXIT_OK

    record = server_aws.record("job-2")
    assert record["attempts"] == 2
    assert history(record)[1:] == [("RUNNING", 1), ("RUNNING", 2), ("SUCCEEDED", None)]


@pytest.mark.parametrize("terminal", ["CANCELLED", "FAILED", "SUCCEEDED"])
def test_a_terminal_record_never_moves_back(
    server_aws, job_files, run_job, monkeypatch, terminal
) -> None:
    # GIVEN a record that is terminal already (a late or duplicated container run)
    server_aws.create_job("job-3", document_for(job_files), status=terminal)

    code, _ = run_child(run_job, monkeypatch, "job-3", attempt=2)

    # THEN the record keeps its status and history
    assert code == EXIT_OK
    record = server_aws.record("job-3")
    assert record["status"] == terminal
    assert history(record) == [(terminal, None)]


def test_an_older_attempt_does_not_overwrite_a_newer_one(server_aws, job_files) -> None:
    server_aws.create_job("job-4", document_for(job_files))
    assert status.mark_running(server_aws.ddb, "batchscore-jobs", "job-4", 3)
    assert not status.mark_running(server_aws.ddb, "batchscore-jobs", "job-4", 2)
    assert server_aws.record("job-4")["attempts"] == 3


def test_a_permanent_error_fails_the_record_with_the_reason(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-5", document_for(job_files, **{"input.features": ["f0", "nope"]}))

    code, _ = run_child(run_job, monkeypatch, "job-5")

    assert code == EXIT_PERMANENT
    record = server_aws.record("job-5")
    assert record["status"] == "FAILED"
    assert record["exit_code"] == EXIT_PERMANENT
    assert "input.features: column(s) not in the input: nope" in record["status_reason"]


@pytest.mark.parametrize(
    "error",
    [
        TransientError("s3://batchscore-data/input/: SlowDown"),
        TerminatedError("terminated by SIGTERM"),
    ],
    ids=["transient", "sigterm"],
)
def test_a_transient_failure_leaves_the_record_running(
    server_aws, run_job, monkeypatch, error
) -> None:
    # GIVEN a job whose scoring fails transiently once it was marked RUNNING (no S3 data needed:
    # the failure comes from the scoring call itself)
    document = jobdata.config(
        "s3://batchscore-data/models/m.skops",
        "s3://batchscore-data/in/",
        "s3://batchscore-data/out/",
        **{"input.format": "parquet"},
    )
    server_aws.create_job("job-t", document)

    def fail(config, settings):
        raise error

    monkeypatch.setattr(commands, "score_shard", fail)

    # WHEN the attempt runs
    code, lines = run_child(run_job, monkeypatch, "job-t")

    # THEN it exits 3 for Batch to retry, and the record stays RUNNING with no failure recorded:
    # a retry may follow, and the state-change handler records a final failure
    assert code == EXIT_TRANSIENT
    assert json.loads(lines[-1])["kind"] == "transient"
    record = server_aws.record("job-t")
    assert record["status"] == "RUNNING"
    assert history(record) == [("SUBMITTED", None), ("RUNNING", 1)]
    assert "status_reason" not in record
    assert "exit_code" not in record


def test_an_invalid_config_in_the_record_is_permanent(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-6", document_for(job_files, shards=0))
    code, _ = run_child(run_job, monkeypatch, "job-6")
    assert code == EXIT_PERMANENT
    assert "shards" in server_aws.record("job-6")["status_reason"]


def test_a_missing_record_is_permanent(server_aws, run_job, monkeypatch) -> None:
    code, lines = run_child(run_job, monkeypatch, "nobody")
    assert code == EXIT_PERMANENT
    assert "has no record" in lines[-1]


def test_dynamodb_throttling_is_transient(server_aws, run_job, monkeypatch) -> None:
    client = boto3.client("dynamodb")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_item", "ProvisionedThroughputExceededException", http_status_code=400
    )
    stubber.activate()
    monkeypatch.setattr(status, "dynamodb_client", lambda: client)

    code, lines = run_child(run_job, monkeypatch, "job-7")

    assert code == EXIT_TRANSIENT
    assert "ProvisionedThroughputExceededException" in lines[-1]


def test_an_attempt_after_the_commit_finishes_the_record(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    # GIVEN attempt 1 committed its output but died before reporting SUCCEEDED
    server_aws.create_job("job-8", document_for(job_files))
    assert run_child(run_job, monkeypatch, "job-8")[0] == EXIT_OK
    server_aws.ddb.delete_item(TableName="batchscore-jobs", Key={"job_id": {"S": "job-8"}})
    server_aws.create_job("job-8", document_for(job_files), status="RUNNING", attempts=1)
    manifest = server_aws.get_json("output/_manifest.json")

    # WHEN attempt 2 runs (overwrite is false)
    code, _ = run_child(run_job, monkeypatch, "job-8", attempt=2)

    # THEN it recognises its own commit: the output is untouched and the record finished
    assert code == EXIT_OK
    assert server_aws.get_json("output/_manifest.json") == manifest
    assert server_aws.record("job-8")["status"] == "SUCCEEDED"


def commit(run_job, monkeypatch, job_id: str):
    monkeypatch.delenv(env.BATCH_ARRAY_INDEX, raising=False)
    return run_job("commit", "--job-id", job_id)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1)])
def test_array_children_cover_the_input_once_and_the_commit_follows(
    server_aws, job_files, run_job, monkeypatch, order
) -> None:
    server_aws.create_job("job-9", document_for(job_files, shards=3))
    before = server_aws.record("job-9")

    for index in order:
        code, lines = run_child(run_job, monkeypatch, "job-9", index=index)
        assert code == EXIT_OK, lines
        # THEN a child writes only its shard marker: never the job's record (no RUNNING, no
        # count), and no child commits, whichever ends last
        assert server_aws.record("job-9") == before
        assert "output/_manifest.json" not in server_aws.keys("output/")
    assert [k for k in server_aws.keys("output/_shards/")] == [
        f"output/_shards/shard-0000{i}.json" for i in range(3)
    ]

    # WHEN the commit runs (after the array parent's SUCCEEDED)
    code, lines = commit(run_job, monkeypatch, "job-9")

    # THEN one manifest over every shard, and the record SUCCEEDED with the job's figures
    assert code == EXIT_OK, lines
    manifest = server_aws.get_json("output/_manifest.json")
    ids = []
    for part in manifest["parts"]:
        key = part["uri"].split("/", 3)[3]
        body = server_aws.s3.get_object(Bucket="batchscore-data", Key=key)["Body"].read()
        ids += jobdata.parquet_ids(body)
    assert sorted(ids) == list(range(3000))
    assert len(ids) == 3000
    record = server_aws.record("job-9")
    assert record["status"] == "SUCCEEDED"
    assert manifest["rows"] == 3000 == record["rows"]
    assert record["manifest_uri"].endswith("output/_manifest.json")
    assert "shards_done" not in record
    assert "shards_finished" not in record
    assert [s["shard"] for s in manifest["shard_figures"]] == [0, 1, 2]

    # AND a second commit (a repeated event, the reconciler) changes nothing
    assert commit(run_job, monkeypatch, "job-9")[0] == EXIT_OK
    assert server_aws.get_json("output/_manifest.json") == manifest
    assert server_aws.record("job-9")["history"] == record["history"]


def test_a_retried_child_is_in_the_manifest_once(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-10", document_for(job_files, shards=3))
    assert run_child(run_job, monkeypatch, "job-10", index=0)[0] == EXIT_OK
    assert run_child(run_job, monkeypatch, "job-10", index=0, attempt=2)[0] == EXIT_OK
    assert run_child(run_job, monkeypatch, "job-10", index=1)[0] == EXIT_OK
    assert run_child(run_job, monkeypatch, "job-10", index=2)[0] == EXIT_OK
    assert server_aws.record("job-10")["status"] == "SUBMITTED"
    assert commit(run_job, monkeypatch, "job-10")[0] == EXIT_OK
    manifest = server_aws.get_json("output/_manifest.json")
    assert [(s["shard"], s["attempt"]) for s in manifest["shard_figures"]] == [
        (0, 2),
        (1, 1),
        (2, 1),
    ]
    assert manifest["rows"] == 3000 == server_aws.record("job-10")["rows"]


def test_a_commit_with_a_shard_missing_fails_the_job_naming_it(
    server_aws, job_files, run_job, monkeypatch
) -> None:
    server_aws.create_job("job-11", document_for(job_files, shards=3))
    for index in (0, 2):
        assert run_child(run_job, monkeypatch, "job-11", index=index)[0] == EXIT_OK

    code, _ = commit(run_job, monkeypatch, "job-11")

    assert code == EXIT_PERMANENT
    record = server_aws.record("job-11")
    assert record["status"] == "FAILED"
    assert "_shards/shard-00001.json is missing" in record["status_reason"]
    assert "output/_manifest.json" not in server_aws.keys("output/")


def test_a_cancelled_job_is_not_committed(server_aws, job_files, run_job, monkeypatch) -> None:
    server_aws.create_job("job-12", document_for(job_files, shards=2))
    for index in (0, 1):
        assert run_child(run_job, monkeypatch, "job-12", index=index)[0] == EXIT_OK
    server_aws.ddb.delete_item(TableName="batchscore-jobs", Key={"job_id": {"S": "job-12"}})
    server_aws.create_job("job-12", document_for(job_files, shards=2), status="CANCELLED")

    assert commit(run_job, monkeypatch, "job-12")[0] == EXIT_PERMANENT
    assert "output/_manifest.json" not in server_aws.keys("output/")
    assert server_aws.record("job-12")["status"] == "CANCELLED"
