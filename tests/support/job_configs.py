"""Job configs for the submitter's tests (the job's own builders are in `support.jobdata`)."""

from __future__ import annotations

from typing import Any

from support.names import DATA_BUCKET


def job_config(name: str = "churn", **overrides: Any) -> dict[str, Any]:
    """A valid config named `name`, its files in the data bucket; `overrides` replace top-level
    fields (`priority=`, `shards=`, `tags=`...)."""
    document: dict[str, Any] = {
        "name": name,
        "model": {"uri": f"s3://{DATA_BUCKET}/models/churn.skops"},
        "input": {"uri": f"s3://{DATA_BUCKET}/input/{name}.parquet"},
        "output": {"uri": f"s3://{DATA_BUCKET}/output/{name}/", "passthrough": ["customer_id"]},
    }
    document.update(overrides)
    return document
