from __future__ import annotations

import pytest

from config import env
from config.deployment import parse_queues
from config.exceptions import DeploymentSettingError
from submitter.settings import DEFAULT_LEASE_SECONDS, Settings


def test_queues_as_json_object() -> None:
    assert parse_queues('{"high": "arn:aws:batch:eu-west-1:1:job-queue/bs-high"}') == {
        "high": "arn:aws:batch:eu-west-1:1:job-queue/bs-high"
    }


def test_queues_as_names() -> None:
    assert parse_queues(" high, normal ,low") == {"high": "high", "normal": "normal", "low": "low"}


@pytest.mark.parametrize("bad", ["{}", "[]", '{"high": ""}', '{"high": 1}', " , "])
def test_bad_queue_settings(bad: str) -> None:
    with pytest.raises(DeploymentSettingError, match=env.QUEUES):
        parse_queues(bad)


def test_from_env() -> None:
    settings = Settings.from_env(
        {
            env.TABLE_NAME: "jobs",
            env.JOB_DEFINITION: "arn:jd",
            env.QUEUES: '{"high": "q1", "normal": "q2"}',
            env.ALLOWED_BUCKETS: "data, models,",
        }
    )
    assert settings.priorities == ("high", "normal")
    assert settings.queue_for_priority("normal") == "q2"
    assert settings.allowed_buckets == {"data", "models"}
    assert settings.lease_seconds == DEFAULT_LEASE_SECONDS
    assert settings.rejected_prefix == "rejected/"


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(DeploymentSettingError, match=env.TABLE_NAME):
        Settings.from_env({env.JOB_DEFINITION: "jd", env.QUEUES: "normal"})


def test_the_job_definitions_tag_count_comes_from_the_deployment() -> None:
    base = {env.TABLE_NAME: "jobs", env.JOB_DEFINITION: "arn:jd", env.QUEUES: "normal"}

    assert Settings.from_env(base).definition_tag_count == 0
    assert Settings.from_env({**base, env.JOB_DEFINITION_TAG_COUNT: "3"}).definition_tag_count == 3
    with pytest.raises(DeploymentSettingError, match=env.JOB_DEFINITION_TAG_COUNT):
        Settings.from_env({**base, env.JOB_DEFINITION_TAG_COUNT: "three"})
