"""Cancel and rerun, as `batchscore cancel` / `batchscore rerun` call them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.aws_errors import ok_response
from support.events import s3_event
from support.job_configs import job_config
from support.names import TABLE
from support.submitter_aws import SubmitterAws, fail_next_attach

from config import records
from config.status import JobStatus
from submitter import job_actions
from submitter.exceptions import JobNotFoundError, JobStateError, RerunIncompleteError


def submitted(aws: SubmitterAws, **overrides):
    version = aws.upload("jobs/churn.json", job_config(**overrides))
    [outcome] = aws.ingest(s3_event(("jobs/churn.json", version)))
    return outcome


def terminations(aws: SubmitterAws) -> list[dict]:
    calls: list[dict] = []
    aws.batch.meta.events.register(
        "provide-client-params.batch.TerminateJob", lambda params, **_: calls.append(params)
    )
    return calls


def test_cancel_terminates_the_batch_job_and_records_cancelled(aws: SubmitterAws) -> None:
    job = submitted(aws, shards=3)
    calls = terminations(aws)

    assert job_actions.cancel(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)

    record = records.get_record(aws.ddb, TABLE, job.job_id)
    assert record["status"] == "CANCELLED"
    assert record["status_reason"] == job_actions.CANCEL_REASON
    # the array parent: Batch terminates its children with it
    assert calls == [{"jobId": job.batch_job_id, "reason": job_actions.CANCEL_REASON}]


def test_cancel_of_a_finished_job_changes_nothing(aws: SubmitterAws) -> None:
    job = submitted(aws)
    records.advance(aws.ddb, TABLE, job.job_id, JobStatus.SUCCEEDED)
    calls = terminations(aws)
    assert not job_actions.cancel(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)
    assert records.get_record(aws.ddb, TABLE, job.job_id)["status"] == "SUCCEEDED"
    assert calls == []


def test_cancel_again_resends_terminate(aws: SubmitterAws) -> None:
    job = submitted(aws)
    job_actions.cancel(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)
    calls = terminations(aws)
    assert not job_actions.cancel(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)
    assert [c["jobId"] for c in calls] == [job.batch_job_id]


def test_cancel_of_an_unknown_job(aws: SubmitterAws) -> None:
    with pytest.raises(JobNotFoundError):
        job_actions.cancel(aws.ddb, aws.batch, aws.settings, "nope", runtime=aws.runtime)


def test_a_submission_that_lands_after_cancel_is_terminated(aws: SubmitterAws) -> None:
    # GIVEN a cancel that arrives while the submission is between SubmitJob and the record update
    version = aws.upload("jobs/churn.json", job_config())
    calls = terminations(aws)
    cancelled: list[str] = []

    def cancel_now(parsed, **_):
        job_id = parsed["jobName"].removeprefix("batchscore-")
        job_actions.cancel(aws.ddb, aws.batch, aws.settings, job_id, runtime=aws.runtime)
        cancelled.append(parsed["jobId"])

    aws.batch.meta.events.register("after-call.batch.SubmitJob", cancel_now)
    [outcome] = aws.ingest(s3_event(("jobs/churn.json", version)))
    # THEN the record stays CANCELLED and the new Batch job is terminated
    assert records.get_record(aws.ddb, TABLE, outcome.job_id)["status"] == "CANCELLED"
    assert [c["jobId"] for c in calls][-1] == cancelled[0] == outcome.batch_job_id


def test_rerun_submits_the_stored_config_as_a_new_linked_job(aws: SubmitterAws) -> None:
    job = submitted(aws, priority="low", shards=2)
    records.advance(aws.ddb, TABLE, job.job_id, JobStatus.FAILED, reason="spot")

    again = job_actions.rerun(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)

    assert again.action == "submitted"
    assert again.job_id != job.job_id
    assert again.job_id.startswith(job.job_id[:40])
    assert len(again.job_id) <= 64
    record = records.get_record(aws.ddb, TABLE, again.job_id)
    assert record["rerun_of"] == job.job_id
    assert record["status"] == "SUBMITTED"
    assert record["queue"] == "batchscore-low"
    assert json.loads(record["config"])["job_id"] == again.job_id
    described = aws.describe(again.batch_job_id)
    assert described["parameters"]["job_id"] == again.job_id
    assert described["arrayProperties"]["size"] == 2
    assert len(aws.batch_jobs("low")) == 2


def test_rerun_refuses_running_and_rejected_jobs(aws: SubmitterAws) -> None:
    job = submitted(aws)
    with pytest.raises(JobStateError, match="SUBMITTED"):
        job_actions.rerun(aws.ddb, aws.batch, aws.settings, job.job_id, runtime=aws.runtime)
    bad = aws.upload("jobs/bad.json", job_config(shards=0))
    [rejected] = aws.ingest(s3_event(("jobs/bad.json", bad)))
    with pytest.raises(JobStateError, match="rejected"):
        job_actions.rerun(aws.ddb, aws.batch, aws.settings, rejected.job_id, runtime=aws.runtime)
    with pytest.raises(JobNotFoundError):
        job_actions.rerun(aws.ddb, aws.batch, aws.settings, "nope", runtime=aws.runtime)


def test_rerun_id_fits_64_characters() -> None:
    long_id = "a" * 64
    assert len(job_actions.rerun_id(long_id, "0123456789abcdef")) == 64
    assert job_actions.rerun_id("churn", "0123456789abcdef") == "churn-r01234567"


def finished(aws: SubmitterAws) -> str:
    job = submitted(aws)
    records.advance(aws.ddb, TABLE, job.job_id, JobStatus.FAILED, reason="spot")
    return job.job_id


def reruns_in_batch(aws: SubmitterAws, original: str) -> list[dict]:
    return [j for j in aws.batch_jobs() if j["jobName"].startswith(f"batchscore-{original}-r")]


def lose_next_answer(client: Any, operation: str) -> list[dict]:
    """The next `operation` is carried out but its answer is lost (a 500 after the fact).
    The lost answers, as parsed."""
    lost: list[dict] = []

    def hook(parsed: dict, **_: Any) -> None:
        if not lost:
            lost.append(parsed)
            raise ClientError({"Error": {"Code": "InternalServerError"}}, operation)

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"after-call.{service}.{operation}", hook)
    return lost


def test_rerun_whose_submit_job_answer_is_lost_recovers_the_job_it_made(aws: SubmitterAws) -> None:
    # GIVEN SubmitJob creates the Batch job but its answer is lost (a 500 after the fact)
    original = finished(aws)
    lost = lose_next_answer(aws.batch, "SubmitJob")
    # WHEN the rerun is asked for once
    again = job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    # THEN it finds that job by name instead of submitting a second one, and records it
    [made] = [answer["jobId"] for answer in lost]
    assert again.action == "submitted"
    assert again.batch_job_id == made
    assert [j["jobId"] for j in reruns_in_batch(aws, original)] == [made]
    record = records.get_record(aws.ddb, TABLE, again.job_id)
    assert record["batch_job_id"] == made
    assert "lease_token" not in record


def test_rerun_whose_record_update_fails_once_is_completed(aws: SubmitterAws) -> None:
    original = finished(aws)
    fired = fail_next_attach(aws)
    again = job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    assert fired == [True]
    assert again.action == "submitted"
    [made] = reruns_in_batch(aws, original)
    assert records.get_record(aws.ddb, TABLE, again.job_id)["batch_job_id"] == made["jobId"]


def test_rerun_that_cannot_finish_names_the_new_job_and_submits_once(aws: SubmitterAws) -> None:
    original = finished(aws)
    fail_next_attach(aws, times=2)
    with pytest.raises(RerunIncompleteError) as raised:
        job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    new_id = raised.value.job_id
    assert new_id.startswith(f"{original}-r")
    assert f"batchscore status {new_id}" in str(raised.value)
    assert [j["jobName"] for j in reruns_in_batch(aws, original)] == [f"batchscore-{new_id}"]
    assert records.get_record(aws.ddb, TABLE, new_id)["status"] == "SUBMITTED"


def test_rerun_whose_record_cannot_be_written_submits_nothing(aws: SubmitterAws) -> None:
    original = finished(aws)

    def refuse(**_):
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "PutItem")

    aws.ddb.meta.events.register("before-call.dynamodb.PutItem", refuse)
    with pytest.raises(ClientError):
        job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    assert reruns_in_batch(aws, original) == []


def test_rerun_whose_put_item_answer_is_lost_takes_its_own_lease_and_submits(
    aws: SubmitterAws,
) -> None:
    # GIVEN the new record is written but PutItem's answer is lost: the rerun's lease is live
    original = finished(aws)
    lost = lose_next_answer(aws.ddb, "PutItem")
    # WHEN the rerun is asked for once
    again = job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    # THEN it does not wait its own lease out: one Batch job, attached
    assert len(lost) == 1
    assert again.action == "submitted"
    [made] = reruns_in_batch(aws, original)
    record = records.get_record(aws.ddb, TABLE, again.job_id)
    assert record["batch_job_id"] == made["jobId"]
    assert "lease_token" not in record


def test_rerun_waits_for_batch_to_list_a_job_it_may_have_made(aws: SubmitterAws) -> None:
    # GIVEN SubmitJob's answer is lost AND ListJobs lists the new job only on the 4th asking
    original = finished(aws)
    lost = lose_next_answer(aws.batch, "SubmitJob")
    listings: list[bool] = []

    def lagging_list(**_):
        listings.append(True)
        if len(listings) < 4:
            return ok_response({"jobSummaryList": []})
        return None

    aws.batch.meta.events.register("before-call.batch.ListJobs", lagging_list)
    # WHEN the rerun is asked for once
    again = job_actions.rerun(aws.ddb, aws.batch, aws.settings, original, runtime=aws.runtime)
    # THEN it polled until Batch listed the job, and submitted no second one
    [made] = [answer["jobId"] for answer in lost]
    assert again.batch_job_id == made
    assert aws.sleeps.count(job_actions.RERUN_LISTING_POLL_SECONDS) == 3
    assert [j["jobId"] for j in reruns_in_batch(aws, original)] == [made]
