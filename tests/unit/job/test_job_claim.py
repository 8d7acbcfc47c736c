"""The output's claim (job/output.py) lets through what is allowed: a Batch job's retries reclaim
it, an ended job's claim is taken over, a `score` run drops its claim when it ends."""

from __future__ import annotations

import pytest

from config.parsing import validate_document
from job.exceptions import OutputExistsError
from job.output import CLAIM
from job.runner import RunOptions, score_shard


def test_the_same_jobs_retry_and_a_later_job_after_it_ended_may_write(scratch) -> None:
    """The claim does not get in the way of what is allowed: a Batch job's retry (same job id)
    reclaims it; once that job is over, another job with overwrite replaces its output."""
    a = validate_document(scratch.config(name="job-a"))
    first = score_shard(a, RunOptions(job_id="job-a", holder_over=lambda _: False))
    again = score_shard(a, RunOptions(job_id="job-a", attempt=2, holder_over=lambda _: False))
    assert first.manifest_uri == again.manifest_uri

    b = validate_document(scratch.config(name="job-b", **{"output.overwrite": True}))
    with pytest.raises(OutputExistsError, match="is running"):
        score_shard(b, RunOptions(job_id="job-b", holder_over=lambda _: False))
    score_shard(b, RunOptions(job_id="job-b", holder_over=lambda _: True))
    assert scratch.manifest()["job_id"] == "job-b"


def test_a_score_run_drops_its_claim_whether_it_succeeds_or_fails(scratch) -> None:
    score_shard(validate_document(scratch.config()), RunOptions())
    assert not (scratch.output / CLAIM).exists()

    with pytest.raises(OutputExistsError):  # committed, and overwrite is false
        score_shard(validate_document(scratch.config(name="other")), RunOptions())
    assert not (scratch.output / CLAIM).exists()


def test_a_leftover_claim_of_a_dead_score_run_needs_overwrite(scratch) -> None:
    scratch.output.mkdir(parents=True)
    (scratch.output / CLAIM).write_text('{"owner": "score:x:dead", "job_id": "x"}')
    with pytest.raises(OutputExistsError, match="may still be running"):
        score_shard(validate_document(scratch.config()), RunOptions())
    score_shard(validate_document(scratch.config(**{"output.overwrite": True})), RunOptions())
    assert scratch.manifest()["rows"] == 3000
