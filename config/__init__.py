"""The job-config contract shared by the container (`job`) and the Lambda side (`submitter`).

The names below load on first use (PEP 562), not with the package: `config.records`,
`config.status` or `config.env` must not pull pydantic in, because the state-change Lambda needs
none of it and pays every import at each cold start.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ConfigError": "config.exceptions",
    "Problem": "config.exceptions",
    "DEFAULT_QUEUES": "config.models",
    "JobConfig": "config.models",
    "MAX_CONFIG_BYTES": "config.parsing",
    "parse_config": "config.parsing",
    "validate_document": "config.parsing",
    "JobStatus": "config.status",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'config' has no attribute {name!r}")
