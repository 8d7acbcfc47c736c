"""Read-side queries over the job table for the CLI: one job, or jobs by status, newest first."""

from __future__ import annotations

import heapq
from typing import Any

from config.records import STATUS_INDEX, STATUS_INDEX_RANGE, from_item
from config.status import JobStatus


def list_jobs(
    ddb: Any, table: str, *, statuses: list[JobStatus] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Jobs with the given statuses (all when None), newest first, at most `limit`.

    One Query per status on the `by-status` index (status + created_at), read newest first,
    then a merge: no Scan, so listing stays cheap however many jobs the table holds.
    """
    wanted = statuses or list(JobStatus)
    per_status = [_newest(ddb, table, status, limit) for status in wanted]
    merged = heapq.merge(*per_status, key=lambda r: r.get(STATUS_INDEX_RANGE, ""), reverse=True)
    return list(merged)[:limit]


def _newest(ddb: Any, table: str, status: JobStatus, limit: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": status.value}},
        "ScanIndexForward": False,
    }
    while len(records) < limit:
        page = ddb.query(**kwargs, Limit=limit - len(records))
        records.extend(from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return records
