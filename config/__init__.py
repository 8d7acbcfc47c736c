"""The job-config contract shared by the container (`job`) and the Lambda side (`submitter`)."""

from config.exceptions import ConfigError, Problem
from config.models import DEFAULT_QUEUES, JobConfig
from config.parsing import MAX_CONFIG_BYTES, parse_config, validate_document
from config.status import JobStatus

__all__ = [
    "DEFAULT_QUEUES",
    "MAX_CONFIG_BYTES",
    "ConfigError",
    "JobConfig",
    "JobStatus",
    "Problem",
    "parse_config",
    "validate_document",
]
