"""Reading the real event payloads in tests/events/ and deriving job ids, without AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from support.events import load_event

from config.models import NAME_PATTERN
from submitter.ingest import Upload, _identity
from submitter.state_change import BatchJobEvent


def upload(key: str = "jobs/churn.json", identity: str = "version:v1") -> Upload:
    return Upload("jobs-bucket", key, identity, None, 10, b"{}")


def test_derived_job_id_is_stable_per_upload_and_new_per_new_upload() -> None:
    assert upload().derived_job_id() == upload().derived_job_id()
    assert upload().derived_job_id() != upload(identity="version:v2").derived_job_id()
    assert upload().derived_job_id() != upload(key="jobs/other/churn.json").derived_job_id()
    assert upload().derived_job_id().startswith("churn-")


@pytest.mark.parametrize(
    "key", ["jobs/été ünï 模型.json", "jobs/" + "x" * 300 + ".json", "jobs/+++.json", "jobs/.json"]
)
def test_derived_job_id_fits_the_contract(key: str) -> None:
    job_id = upload(key=key).derived_job_id()
    assert re.fullmatch(NAME_PATTERN, job_id)
    assert len(job_id) <= 64


def test_identity_prefers_event_version_then_sequencer_then_get_object() -> None:
    modified = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    response = {"VersionId": "gv", "ETag": '"abc"', "LastModified": modified}
    assert _identity({"versionId": "ev", "sequencer": "s"}, response) == "version:ev"
    assert _identity({"sequencer": "s"}, response) == "sequencer:s"
    assert _identity({}, response) == "version:gv"
    unversioned = {"VersionId": "null", "ETag": '"abc"', "LastModified": modified}
    assert _identity({}, unversioned) == "etag:abc@2026-11-21T09:00:00+00:00"


def test_single_job_failure() -> None:
    parsed = BatchJobEvent.from_event(load_event("batch-failed-oom.json"))
    assert parsed.job_id == "churn-0123456789abcdef"
    assert parsed.status == "FAILED"
    assert parsed.exit_code == 137
    assert parsed.array_index is None
    assert not parsed.is_array_parent
    assert parsed.failure_reason() == (
        "Essential container in task exited; OutOfMemoryError: Container killed due to memory usage"
    )


def test_spot_reclaim_has_no_exit_code() -> None:
    parsed = BatchJobEvent.from_event(load_event("batch-failed-spot.json"))
    assert parsed.exit_code is None
    assert len(parsed.attempts) == 3
    assert parsed.failure_reason().startswith("Host EC2")


def test_array_parent_and_child() -> None:
    parent = BatchJobEvent.from_event(load_event("batch-array-parent-failed.json"))
    child = BatchJobEvent.from_event(load_event("batch-array-child-failed.json"))
    assert parent.is_array_parent
    assert parent.array_index is None
    assert child.array_index == 2
    assert not child.is_array_parent


def test_child_index_from_the_job_id_when_array_properties_are_missing() -> None:
    raw = load_event("batch-array-child-running.json")
    del raw["detail"]["arrayProperties"]
    assert BatchJobEvent.from_event(raw).array_index == 2


def test_job_id_from_the_job_name_when_parameters_are_missing() -> None:
    raw = load_event("batch-running.json")
    raw["detail"]["parameters"] = {}
    assert BatchJobEvent.from_event(raw).job_id == "churn-0123456789abcdef"
