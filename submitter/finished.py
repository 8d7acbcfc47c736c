"""After a job's final Batch event is recorded: its cost onto the record, then its metrics.

Called by the state Lambda (`state_handler`) and by the local stack (`submitter.local.pipeline`)
after `state_change.handle_event`, so the status write never waits on, or fails with, the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from submitter import array_commit, job_cost


def after_state_change(
    event: Mapping[str, Any],
    *,
    ddb: Any,
    table: str,
    batch: Any,
    prices: Mapping[str, Any],
    cache: job_cost.EnvironmentCache | None = None,
    publish: Callable[[Mapping[str, Any], float | None], int] | None = None,
) -> dict[str, Any] | None:
    """The record once costed (None when there was nothing to cost, or it was costed before);
    `publish` (e.g. `job_metrics.publish`) gets it with the time the job spent queued."""
    if array_commit.is_commit_job(event.get("detail") or {}):
        # An array ends with its commit job: cost the array (its parent) then, once terminal.
        parent = array_commit.parent_event(ddb, table, batch, event)
        if parent is None:
            return None
        event = parent
    record = job_cost.cost_after_event(ddb, table, batch, event, prices, cache=cache)
    if record is not None and publish is not None:
        publish(record, job_cost.runnable_seconds(event.get("detail") or {}))
    return record
