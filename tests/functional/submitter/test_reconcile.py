"""The reconciler: open records whose state-change events were lost are brought up to date from
Batch's own description of their jobs (moto DynamoDB, the local Batch running real processes whose
events go nowhere, as if EventBridge had lost them all)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import job_records
from support.aws_errors import error_response
from support.events import load_event
from support.names import JOB_DEFINITION, TABLE
from support.paths import ROOT

from config import env, records
from config.records import utc_now
from config.status import JobStatus
from submitter import reconcile
from submitter.batch import job_name
from submitter.local.executor import LocalBatch
from submitter.local.jobs import JobDefinition
from submitter.state_change import handle_event

SLEEPER = "sleeper"
AN_HOUR_AGO = timedelta(hours=1)


@pytest.fixture
def batch(tmp_path) -> Iterator[LocalBatch]:
    """A local Batch whose jobs exit at once (0 unless a command override says otherwise)."""
    local = LocalBatch(
        job_definitions=[
            JobDefinition(JOB_DEFINITION, ("python", "-S", "-c", "pass")),
            JobDefinition(SLEEPER, ("python", "-S", "-c", "import time; time.sleep(60)")),
        ],
        max_vcpus=4,
        log_dir=tmp_path / "logs",
        min_timeout_seconds=0,
        kill_grace_seconds=1,
    )
    try:
        yield local
    finally:
        local.close()


def run(batch: LocalBatch, job_id: str, exit_code: int = 0, **request: Any) -> str:
    """Submit a job of `job_id`, wait for its end; its Batch job id."""
    # A single job exits with `exit_code`; of an array, shard 1 does and the others exit 0.
    index = "os.environ.get('AWS_BATCH_JOB_ARRAY_INDEX', '1')"
    code = f"import os, sys; sys.exit({exit_code} if {index} == '1' else 0)"
    batch_job_id = batch.submit_job(
        jobName=job_name(job_id),
        jobQueue="normal",
        jobDefinition=JOB_DEFINITION,
        parameters={"job_id": job_id},
        containerOverrides={"command": ["python", "-S", "-c", code]},
        **request,
    )["jobId"]
    batch.wait([batch_job_id], timeout=30)
    return batch_job_id


def start_sleeper(batch: LocalBatch, job_id: str) -> str:
    batch_job_id = batch.submit_job(
        jobName=job_name(job_id),
        jobQueue="normal",
        jobDefinition=SLEEPER,
        parameters={"job_id": job_id},
    )["jobId"]
    deadline = time.monotonic() + 20
    while batch.describe_jobs(jobs=[batch_job_id])["jobs"][0]["status"] != "RUNNING":
        assert time.monotonic() < deadline, "the sleeper never ran"
        time.sleep(0.02)
    return batch_job_id


def open_record(
    ddb: Any,
    job_id: str,
    batch_job_id: str | None,
    status: JobStatus = JobStatus.RUNNING,
    *,
    at: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A record as the submitter (and the container's RUNNING) left it, an hour ago by default."""
    moment = at or utc_now() - AN_HOUR_AGO
    return job_records.open_record(
        ddb, job_id, status, batch_job_id=batch_job_id, at=moment, **fields
    )


def beyond_the_window() -> datetime:
    """A creation time after which no redelivery can submit a record any more."""
    return utc_now() - reconcile.SUBMISSION_WINDOW - timedelta(minutes=1)


def get(ddb: Any, job_id: str) -> dict[str, Any]:
    return records.get_record(ddb, TABLE, job_id)


def by_job(findings: list[reconcile.Finding]) -> dict[str, reconcile.Finding]:
    return {finding.job_id: finding for finding in findings}


def test_a_record_left_running_after_its_job_succeeded_is_closed(ddb, batch) -> None:
    open_record(ddb, "ok", run(batch, "ok"))
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert (finding.was, finding.batch_status, finding.status) == (
        "RUNNING",
        "SUCCEEDED",
        "SUCCEEDED",
    )
    assert finding.action == reconcile.Verdict.CHANGED
    record = get(ddb, "ok")
    assert record["status"] == "SUCCEEDED"
    assert record["attempts"] == 1
    assert "reported by AWS Batch" in record["status_reason"]


def test_a_record_left_running_after_its_job_failed_gets_the_reason_and_exit_code(
    ddb, batch
) -> None:
    open_record(ddb, "bad", run(batch, "bad", exit_code=2))
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert (finding.status, finding.action) == ("FAILED", reconcile.Verdict.CHANGED)
    record = get(ddb, "bad")
    assert record["status"] == "FAILED"
    assert record["exit_code"] == 2
    assert record["status_reason"] == "Essential container in task exited"
    assert record["history"][-1]["status"] == "FAILED"


def test_a_submitted_record_whose_events_were_all_lost_is_closed(ddb, batch) -> None:
    open_record(ddb, "quiet", run(batch, "quiet"), JobStatus.SUBMITTED)
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert (finding.was, finding.status) == ("SUBMITTED", "SUCCEEDED")


def test_an_array_job_that_failed_names_its_failed_shard(ddb, batch) -> None:
    batch_job_id = run(batch, "array", exit_code=2, arrayProperties={"size": 3})
    open_record(ddb, "array", batch_job_id, shards=3)
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert finding.status == "FAILED"
    record = get(ddb, "array")
    assert record["status_reason"] == (
        "Array Child Job failed; shard 1: Essential container in task exited"
    )
    assert record["exit_code"] == 2
    assert record["failed_shard"]["index"] == 1


def test_a_job_still_running_in_batch_is_left_alone(ddb, batch) -> None:
    before = open_record(ddb, "busy", start_sleeper(batch, "busy"))
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert (finding.batch_status, finding.action) == ("RUNNING", reconcile.Verdict.UNCHANGED)
    assert get(ddb, "busy") == before


def test_a_fresh_record_is_left_alone(ddb, batch) -> None:
    before = open_record(ddb, "fresh", run(batch, "fresh"), at=utc_now() - timedelta(minutes=2))
    assert reconcile.reconcile(ddb, batch, TABLE) == []
    assert get(ddb, "fresh") == before
    # with a shorter threshold it is old enough
    [finding] = reconcile.reconcile(ddb, batch, TABLE, older_than=timedelta(minutes=1))
    assert finding.status == "SUCCEEDED"


def test_a_job_batch_no_longer_knows_is_reported_not_changed(ddb, batch) -> None:
    before = open_record(ddb, "gone", "0b1c2d3e-0000-4000-8000-000000000000")
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert (finding.batch_status, finding.action) == (None, reconcile.Verdict.UNKNOWN)
    assert get(ddb, "gone") == before


def test_a_record_without_a_batch_job_id_is_reported_not_changed(ddb, batch) -> None:
    before = open_record(ddb, "in-flight", None, JobStatus.SUBMITTED)
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert finding.action == reconcile.Verdict.NOT_ATTACHED
    assert get(ddb, "in-flight") == before


def test_a_submission_that_died_before_its_record_update_is_found_by_name(ddb, batch) -> None:
    # GIVEN a job Batch ran whose record never got its Batch job id (every redelivery lost)
    batch_job_id = run(batch, "orphan")
    open_record(ddb, "orphan", None, JobStatus.SUBMITTED, queue="normal")
    # WHEN reconciled
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    # THEN the job is found by its name, attached, and its status applied
    assert (finding.batch_job_id, finding.action) == (batch_job_id, reconcile.Verdict.CHANGED)
    record = get(ddb, "orphan")
    assert (record["status"], record["batch_job_id"]) == ("SUCCEEDED", batch_job_id)


def test_a_record_nothing_will_submit_any_more_fails_with_the_reason(ddb, batch) -> None:
    # GIVEN a record without a Batch job, older than any redelivery of its upload can be
    open_record(ddb, "never", None, JobStatus.SUBMITTED, at=beyond_the_window(), queue="normal")
    young = utc_now() - reconcile.SUBMISSION_WINDOW + timedelta(minutes=30)
    before = open_record(ddb, "maybe", None, JobStatus.SUBMITTED, at=young, queue="normal")
    # WHEN reconciled
    findings = by_job(reconcile.reconcile(ddb, batch, TABLE))
    # THEN the old one is FAILED with the reason (rerun can take it); the younger one waits
    assert (findings["never"].action, findings["never"].status) == (
        reconcile.Verdict.CHANGED,
        "FAILED",
    )
    record = get(ddb, "never")
    assert (record["status"], record["status_reason"]) == ("FAILED", reconcile.NEVER_SUBMITTED)
    assert findings["maybe"].action == reconcile.Verdict.NOT_ATTACHED
    assert get(ddb, "maybe") == before


def test_a_late_attach_wins_over_the_never_submitted_verdict(ddb, batch) -> None:
    # GIVEN the ingest side attaches a Batch job id between the lookup and the verdict
    late = beyond_the_window()
    attached = open_record(ddb, "racy", "attached", JobStatus.SUBMITTED, at=late, queue="normal")
    stale = {k: v for k, v in attached.items() if k != "batch_job_id"}
    # WHEN the reconciler acts on what it read before the attach
    [finding] = reconcile.compare(ddb, batch, TABLE, [stale])
    # THEN nothing is written
    assert finding.action == reconcile.Verdict.UNCHANGED
    assert get(ddb, "racy")["status"] == "SUBMITTED"


def test_a_live_submission_lease_wins_over_the_never_submitted_verdict(ddb, batch) -> None:
    # GIVEN an old record whose submission lease still runs (someone is submitting it now)
    lease = {records.LEASE_TOKEN: "holder", records.LEASE_UNTIL: int(utc_now().timestamp()) + 300}
    open_record(
        ddb, "leased", None, JobStatus.SUBMITTED, at=beyond_the_window(), queue="normal", **lease
    )
    # WHEN reconciled THEN nothing is written
    [finding] = reconcile.reconcile(ddb, batch, TABLE)
    assert finding.action == reconcile.Verdict.UNCHANGED
    assert get(ddb, "leased")["status"] == "SUBMITTED"


def test_the_window_outlasts_every_redelivery_and_lease() -> None:
    from submitter.settings import DEFAULT_LEASE_SECONDS

    lambda_max_event_age = timedelta(hours=6)  # S3 -> Lambda async retries, Lambda's default
    assert (
        lambda_max_event_age + timedelta(seconds=DEFAULT_LEASE_SECONDS)
        < reconcile.SUBMISSION_WINDOW
    )
    # ... as deployed: terraform keeps the ingest's event age (the lease it sets is the default,
    # tests/functional/terraform/test_lambda_timing.py).
    terraform = "".join(p.read_text() for p in (ROOT / "terraform").glob("*.tf"))
    assert "aws_lambda_function_event_invoke_config" not in terraform


@pytest.mark.parametrize("terminal", [JobStatus.SUCCEEDED, JobStatus.CANCELLED, JobStatus.FAILED])
def test_terminal_records_are_never_touched(ddb, batch, terminal: JobStatus) -> None:
    # Batch says the opposite of each record: none of them is even looked at.
    batch_job_id = run(batch, "t", exit_code=0 if terminal != JobStatus.SUCCEEDED else 2)
    open_record(ddb, "t", batch_job_id)
    assert records.advance(ddb, TABLE, "t", terminal, now=utc_now() - AN_HOUR_AGO)
    before = get(ddb, "t")
    assert reconcile.reconcile(ddb, batch, TABLE) == []
    assert get(ddb, "t") == before


def test_a_record_that_finished_after_it_was_listed_is_not_changed(ddb, batch) -> None:
    listed = open_record(ddb, "raced", run(batch, "raced", exit_code=2))
    # The container (or an event) closes it between the query and the comparison.
    assert records.advance(ddb, TABLE, "raced", JobStatus.CANCELLED, reason="cancelled")
    before = get(ddb, "raced")
    [finding] = reconcile.compare(ddb, batch, TABLE, [listed])
    assert finding.action == reconcile.Verdict.UNCHANGED
    assert get(ddb, "raced") == before


def test_many_records_are_described_100_at_a_time_with_throttling_retried(ddb, batch) -> None:
    real = run(batch, "real")
    open_record(ddb, "real", real)
    for index in range(120):
        open_record(ddb, f"gone-{index}", f"00000000-0000-4000-8000-{index:012d}")
    calls: list[int] = []
    throttled = iter([True])

    class Throttling:
        def describe_jobs(self, *, jobs: list[str]) -> dict[str, Any]:
            calls.append(len(jobs))
            if next(throttled, False):
                raise ClientError(
                    error_response(429, "TooManyRequestsException", "slow down")[1], "DescribeJobs"
                )
            return batch.describe_jobs(jobs=jobs)

        def __getattr__(self, name: str) -> Any:
            return getattr(batch, name)

    sleeps: list[float] = []
    findings = by_job(reconcile.reconcile(ddb, Throttling(), TABLE, sleep=sleeps.append))
    assert len(findings) == 121
    assert findings["real"].status == "SUCCEEDED"
    assert {f.action for j, f in findings.items() if j != "real"} == {reconcile.Verdict.UNKNOWN}
    assert max(calls) <= 100
    assert len(calls) == 3  # one throttled, then two
    assert len(sleeps) == 1


def test_the_limit_bounds_one_run(ddb, batch) -> None:
    for index in range(5):
        open_record(ddb, f"gone-{index}", f"00000000-0000-4000-8000-{index:012d}")
    assert len(reconcile.reconcile(ddb, batch, TABLE, limit=3)) == 3
    assert len(reconcile.reconcile(ddb, batch, TABLE, limit=None)) == 5


def test_records_batch_has_forgotten_do_not_starve_the_scheduled_run(ddb, batch) -> None:
    # GIVEN old open records Batch no longer knows (they stay open: never guessed) and a newer
    # record whose terminal event was lost
    old = utc_now() - reconcile.SCHEDULED_SINCE - timedelta(days=1)
    for index in range(3):
        open_record(ddb, f"forgotten-{index}", f"00000000-0000-4000-8000-{index:012d}", at=old)
    open_record(ddb, "lost", run(batch, "lost"))
    # WHEN the schedule's run has room for one record only
    everything = reconcile.reconcile(ddb, batch, TABLE, limit=1)
    scheduled = reconcile.reconcile(ddb, batch, TABLE, limit=1, since=reconcile.SCHEDULED_SINCE)
    # THEN oldest-first alone would look at a forgotten one forever; the schedule settles "lost"
    assert [f.job_id for f in everything] == ["forgotten-0"]
    assert [(f.job_id, f.action) for f in scheduled] == [("lost", reconcile.Verdict.CHANGED)]
    assert get(ddb, "lost")["status"] == "SUCCEEDED"


def test_refresh_brings_one_record_up_to_date_and_skips_terminal_ones(ddb, batch) -> None:
    fresh = open_record(ddb, "one", run(batch, "one"), at=utc_now())
    finding = reconcile.refresh(ddb, batch, TABLE, fresh)
    assert (finding.action, finding.status) == (reconcile.Verdict.CHANGED, "SUCCEEDED")
    assert reconcile.refresh(ddb, batch, TABLE, get(ddb, "one")) is None


# -- the array parent's FAILED arriving before its child's: the state handler asks Batch ----------


def test_a_parent_failed_event_first_asks_batch_for_the_failed_shard(ddb, batch) -> None:
    batch_job_id = run(batch, "arr", exit_code=2, arrayProperties={"size": 2})
    open_record(ddb, "arr", batch_job_id, shards=2)
    [parent] = batch.describe_jobs(jobs=[batch_job_id])["jobs"]
    event = {"detail-type": "Batch Job State Change", "detail": parent}
    assert handle_event(event, ddb=ddb, table=TABLE, batch=batch).applied
    record = get(ddb, "arr")
    assert record["status_reason"].endswith("; shard 1: Essential container in task exited")
    assert record["exit_code"] == 2
    assert record["failed_shard"]["index"] == 1
    # the child's own event, late, changes nothing
    [child] = batch.describe_jobs(jobs=[f"{batch_job_id}:1"])["jobs"]
    child_event = {"detail-type": "Batch Job State Change", "detail": child}
    assert not handle_event(child_event, ddb=ddb, table=TABLE, batch=batch).applied
    assert get(ddb, "arr") == record


def test_a_parent_failed_event_first_without_batch_answering_still_fails_the_job(
    ddb, batch
) -> None:
    open_record(ddb, "churn-0123456789abcdef", None, shards=4)

    class Refusing:
        def list_jobs(self, **_: Any) -> dict[str, Any]:
            raise ClientError(error_response(403, "AccessDeniedException", "no")[1], "ListJobs")

    event = load_event("batch-array-parent-failed.json")
    assert handle_event(event, ddb=ddb, table=TABLE, batch=Refusing()).applied
    record = get(ddb, "churn-0123456789abcdef")
    assert record["status"] == "FAILED"
    assert record["status_reason"] == event["detail"]["statusReason"]


# -- the state Lambda on its schedule -------------------------------------------------------------


def test_the_scheduled_event_runs_the_reconciler_in_the_state_lambda(
    ddb, batch, monkeypatch: pytest.MonkeyPatch, cold_start
) -> None:
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    module = cold_start("submitter.state_handler")
    monkeypatch.setattr(module, "batch", batch)
    open_record(ddb, "lost", run(batch, "lost", exit_code=2))
    open_record(ddb, "busy", start_sleeper(batch, "busy"))

    result = module.handler(load_event("scheduled-event.json"))

    findings = {f["job_id"]: f for f in result["reconciled"]}
    assert findings["lost"]["action"] == reconcile.Verdict.CHANGED
    assert findings["busy"]["action"] == reconcile.Verdict.UNCHANGED
    assert get(ddb, "lost")["status"] == "FAILED"
    assert get(ddb, "busy")["status"] == "RUNNING"


def test_an_array_whose_succeeded_event_was_lost_gets_its_commit(ddb, batch) -> None:
    # GIVEN an array whose children all succeeded, and no event ever arrived
    parent = run(batch, "arr-ok", arrayProperties={"size": 2})
    config = '{"job_id":"arr-ok","name":"n","shards":2}'
    open_record(ddb, "arr-ok", parent, shards=2, config=config)

    # WHEN the reconciler runs: the parent's description goes through the handler
    [finding] = reconcile.reconcile(ddb, batch, TABLE)

    # THEN the commit job is submitted (the record stays open: the commit records the end)
    assert (finding.batch_status, finding.status) == ("SUCCEEDED", "RUNNING")
    commit_id = get(ddb, "arr-ok")["commit_batch_job_id"]
    [commit] = batch.describe_jobs(jobs=[commit_id])["jobs"]
    command = ["python", "-m", "job", "commit", "--job-id", "arr-ok"]
    assert commit["container"]["command"][:6] == command
    assert commit["jobQueue"] == batch.describe_jobs(jobs=[parent])["jobs"][0]["jobQueue"]

    # AND when that commit job fails and its event is lost too, the next run fails the job
    batch.wait([commit_id], timeout=60)
    assert batch.describe_jobs(jobs=[commit_id])["jobs"][0]["status"] == "FAILED"
    reconcile.reconcile(ddb, batch, TABLE, older_than=timedelta(0))
    after = get(ddb, "arr-ok")
    assert after["status"] == "FAILED"
    assert after["status_reason"].startswith("the commit of the array's shards failed")
