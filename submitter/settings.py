"""What a deployment tells the submitter, read from the environment once, at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config import env
from config.batch_limits import Platform
from config.deployment import parse_buckets, parse_queues
from config.exceptions import DeploymentSettingError
from config.records import DEFAULT_TTL_DAYS

# A submission lease outlives the invocation holding it (the ingest Lambda's timeout, 60 s in
# terraform/lambda.tf) by a margin, and no more: Lambda retries a failed event about 1 and 3
# minutes later, and a retry that meets a live lease fails too (terraform sets the variable to
# timeout + margin; tests/functional/terraform/test_lambda_timing.py replays the schedule).
INGEST_TIMEOUT_SECONDS = 60
LEASE_MARGIN_SECONDS = 10
DEFAULT_LEASE_SECONDS = INGEST_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS
DEFAULT_REJECTED_PREFIX = "rejected/"


@dataclass(frozen=True)
class Settings:
    table: str
    job_definition: str
    queues: Mapping[str, str]  # priority -> queue name or ARN
    allowed_buckets: frozenset[str] = field(default_factory=frozenset)  # empty: any bucket
    platform: Platform | None = None  # None: Batch's per-platform resource rules are not checked
    # Where outputs may go: the job role can write only these. Empty: any allowed bucket.
    write_buckets: frozenset[str] = field(default_factory=frozenset)
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    rejected_prefix: str = DEFAULT_REJECTED_PREFIX
    ttl_days: int = DEFAULT_TTL_DAYS
    # Tags the job definition propagates to every job's tasks (Terraform's count, its tags_all).
    definition_tag_count: int = 0

    @property
    def priorities(self) -> tuple[str, ...]:
        return tuple(self.queues)

    def queue_for_priority(self, priority: str) -> str:
        return self.queues[priority]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Raise DeploymentSettingError naming the variable when the deployment is misconfigured."""
        return cls(
            table=_required(environ, env.TABLE_NAME),
            job_definition=_required(environ, env.JOB_DEFINITION),
            queues=parse_queues(_required(environ, env.QUEUES)),
            allowed_buckets=parse_buckets(environ.get(env.ALLOWED_BUCKETS, "")),
            write_buckets=parse_buckets(environ.get(env.WRITE_BUCKETS, "")),
            platform=parse_platform(environ.get(env.PLATFORM, "")),
            lease_seconds=_integer(environ, env.SUBMIT_LEASE_SECONDS, DEFAULT_LEASE_SECONDS),
            rejected_prefix=environ.get(env.REJECTED_PREFIX) or DEFAULT_REJECTED_PREFIX,
            ttl_days=_integer(environ, env.RECORD_TTL_DAYS, DEFAULT_TTL_DAYS),
            definition_tag_count=_integer(environ, env.JOB_DEFINITION_TAG_COUNT, 0),
        )


def parse_platform(setting: str) -> Platform | None:
    if not setting.strip():
        return None
    try:
        return Platform(setting.strip().upper())
    except ValueError:
        allowed = " or ".join(Platform)
        raise DeploymentSettingError(f"{env.PLATFORM} must be {allowed}, got {setting!r}") from None


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise DeploymentSettingError(f"environment variable {name} is not set")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise DeploymentSettingError(f"environment variable {name} is not an integer") from None
