"""Pure pieces of the local runtime: parameter substitution, argv, S3 events, shared defaults."""

from datetime import UTC, datetime
from urllib.parse import unquote_plus

from config.deployment import (
    COMPUTE_ENVIRONMENTS,
    DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS,
    DEFAULT_QUEUE_PRIORITIES,
)
from config.models import DEFAULT_QUEUES
from config.retry import retry_strategy
from submitter.local.jobs import JOB_COMMAND, default_job_definition, local_argv, substitute
from submitter.local.s3events import object_created_event


def test_ref_arguments_take_the_parameter_and_unknown_refs_stay():
    command = ["python", "-m", "job", "run", "--job-id", "Ref::job_id", "Ref::other", "x-Ref::id"]
    assert substitute(command, {"job_id": "j-1", "id": "no"}) == [
        "python",
        "-m",
        "job",
        "run",
        "--job-id",
        "j-1",
        "Ref::other",
        "x-Ref::id",
    ]


def test_python_is_this_interpreter():
    assert local_argv(["python", "-c", "pass"], "/venv/bin/python") == [
        "/venv/bin/python",
        "-c",
        "pass",
    ]
    assert local_argv(["/bin/true"], "/venv/bin/python") == ["/bin/true"]


def test_default_job_definition_is_the_deployed_one():
    definition = default_job_definition().describe()
    container = definition["containerProperties"]
    assert container["command"] == list(JOB_COMMAND)
    assert definition["retryStrategy"] == retry_strategy()
    assert definition["timeout"]["attemptDurationSeconds"] >= 60


def test_queues_priorities_and_compute_environments_agree():
    assert tuple(DEFAULT_QUEUE_PRIORITIES) == DEFAULT_QUEUES
    assert DEFAULT_QUEUE_PRIORITIES == {"high": 100, "normal": 50, "low": 10}
    assert set(DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS) == set(DEFAULT_QUEUES)
    for order in DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS.values():
        assert order
        assert set(order) <= set(COMPUTE_ENVIRONMENTS)


def test_s3_event_has_the_lambda_shape_and_an_encoded_key():
    key = "jobs/my job+1 é.json"
    event = object_created_event(
        "jobs-bucket",
        key,
        size=12,
        etag='"abc"',
        version_id="v1",
        event_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventSource"] == "aws:s3"
    assert record["eventTime"] == "2026-01-02T03:04:05.000Z"
    assert record["s3"]["bucket"]["name"] == "jobs-bucket"
    obj = record["s3"]["object"]
    assert obj["key"] == "jobs/my+job%2B1+%C3%A9.json"
    assert unquote_plus(obj["key"]) == key
    assert obj == {"key": obj["key"], "size": 12, "eTag": "abc", "versionId": "v1"}
    assert "sequencer" not in obj
