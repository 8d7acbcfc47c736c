"""Did a job's predictions move since the last successful run of the same `name`?

The measure is the population stability index, PSI = sum over bins of (a - e) * ln(a / e), with
`e` the earlier run's share of predictions in a bin and `a` this run's. The usual reading (the
credit-scoring rule of thumb): below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a
significant one, which is the default threshold. Bins by summary kind (`job.summary`):

- probabilities: the summary's fixed bins, per class; the job's PSI is the largest class's;
- labels: one bin per label seen in either run;
- values: ten bins between the earlier run's deciles (read from its sketch), the standard
  construction; each run's share per bin is read from its own sketch.

An empty bin would make the logarithm infinite, so shares are floored at `EPSILON` (the usual fix).

The earlier run is found through the table's `by-name` index (name + created_at, newest first),
skipping records that did not succeed: the summaries are in the records (the container writes
them with SUCCEEDED), so no manifest has to be read and an overwritten output does not lose
the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from config.records import KEY, NAME_INDEX, STATUS_INDEX_RANGE, from_item, get_record
from config.sketch import sorted_buckets
from config.status import JobStatus

DEFAULT_THRESHOLD = 0.2
EPSILON = 1e-4
MAX_PAGES = 20  # how far back (pages of the index) to look for the last success


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """PSI of two count (or share) vectors over the same bins."""
    e_total, a_total = sum(expected), sum(actual)
    if not e_total or not a_total:
        return 0.0
    value = 0.0
    for e_count, a_count in zip(expected, actual, strict=True):
        e = max(e_count / e_total, EPSILON)
        a = max(a_count / a_total, EPSILON)
        value += (a - e) * math.log(a / e)
    return value


def compare(
    previous: dict[str, Any], current: dict[str, Any]
) -> tuple[float, dict[str, float]] | None:
    """(the job's PSI, PSI per column) between two summaries; None when they cannot be compared
    (different kinds: the model or the method changed)."""
    if previous.get("kind") != current.get("kind"):
        return None
    kind = current["kind"]
    if kind == "probabilities":
        names = sorted(set(previous["histograms"]) & set(current["histograms"]))
        if not names or previous.get("bins") != current.get("bins"):
            return None
        per = {n: psi(previous["histograms"][n], current["histograms"][n]) for n in names}
        return max(per.values()), per
    if kind == "labels":
        labels = sorted(set(previous["counts"]) | set(current["counts"]))
        value = psi(
            [previous["counts"].get(k, 0) for k in labels],
            [current["counts"].get(k, 0) for k in labels],
        )
        return value, {"label": value}
    edges = _decile_edges(previous)
    if not edges:
        return None
    value = psi(_shares(previous, edges), _shares(current, edges))
    return value, {"prediction": value}


def drift_between(
    previous_record: dict[str, Any],
    current: dict[str, Any],
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any] | None:
    """The `drift` part of a notification (None when there is nothing to compare)."""
    before = previous_record.get("prediction_summary")
    if not before or not current:
        return None
    result = compare(before, current)
    if result is None:
        return {
            "previous_job_id": previous_record[KEY],
            "comparable": False,
            "note": f"summaries differ in kind ({before.get('kind')} vs {current.get('kind')})",
        }
    value, per_column = result
    return {
        "previous_job_id": previous_record[KEY],
        "previous_created_at": previous_record.get(STATUS_INDEX_RANGE),
        "comparable": True,
        "measure": "psi",
        "psi": round(value, 4),
        "per_column": {k: round(v, 4) for k, v in per_column.items()},
        "threshold": threshold,
        "drifted": value > threshold,
    }


def previous_success(ddb: Any, table: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """The newest SUCCEEDED record of the same name created before `record` (None: none)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": NAME_INDEX,
        "KeyConditionExpression": "#n = :n AND #c < :c",
        "FilterExpression": "#s = :succeeded",
        "ExpressionAttributeNames": {"#n": "name", "#c": STATUS_INDEX_RANGE, "#s": "status"},
        "ExpressionAttributeValues": {
            ":n": {"S": record["name"]},
            ":c": {"S": record[STATUS_INDEX_RANGE]},
            ":succeeded": {"S": JobStatus.SUCCEEDED.value},
        },
        "ScanIndexForward": False,
    }
    for _ in range(MAX_PAGES):
        page = ddb.query(**kwargs)
        for item in page.get("Items", []):
            found = from_item(item)
            if found[KEY] != record[KEY]:
                # The index projects keys and status only: the summary is in the table.
                return get_record(ddb, table, found[KEY])
        if "LastEvaluatedKey" not in page:
            return None
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return None


def drift_for(
    ddb: Any, table: str, record: dict[str, Any], threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any] | None:
    """Drift of a SUCCEEDED record against the last earlier success of its name."""
    summary = record.get("prediction_summary")
    if record.get("status") != JobStatus.SUCCEEDED.value or not summary or not record.get("name"):
        return None
    previous = previous_success(ddb, table, record)
    if previous is None:
        return None
    return drift_between(previous, summary, threshold)


def _decile_edges(summary: dict[str, Any]) -> list[float]:
    """The nine inner decile edges of a `values` summary, from its sketch (deduplicated)."""
    buckets = sorted_buckets(summary)
    total = sum(n for _, n in buckets)
    if not total:
        return []
    edges: list[float] = []
    for decile in range(1, 10):
        rank, seen = decile / 10 * total, 0
        for value, count in buckets:
            seen += count
            if seen >= rank:
                if not edges or value > edges[-1]:
                    edges.append(value)
                break
    return edges


def _shares(summary: dict[str, Any], edges: list[float]) -> list[int]:
    """Counts of a `values` summary in the bins (-inf, e1], (e1, e2], ..., (e9, inf)."""
    counts = [0] * (len(edges) + 1)
    for value, count in sorted_buckets(summary):
        index = next((i for i, edge in enumerate(edges) if value <= edge), len(edges))
        counts[index] += count
    return counts
