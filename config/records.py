"""The job record in DynamoDB, shared by the submitter (creates it, follows Batch) and the container
(reports RUNNING and SUCCEEDED). Every status change is a conditional update, so a late or repeated
writer can never move a record backwards (see `config.status.may_move`).

Functions take a boto3 DynamoDB *client* so tests pass moto-backed ones; `boto3` is imported by the
callers, never here, which keeps `config` importable without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from config.status import JobStatus, statuses_before

# Table layout (terraform/storage.tf creates the same names)
KEY = "job_id"
STATUS_INDEX = "by-status"  # hash: status, range: created_at -> "list jobs by status, newest first"
STATUS_INDEX_RANGE = "created_at"
# hash: name, range: created_at, projecting status -> "the last run of this name" (submitter.drift)
NAME_INDEX = "by-name"
TTL_ATTRIBUTE = "expires_at"
DEFAULT_TTL_DAYS = 90
# The submission lease (submitter.submission): who may submit a record's Batch job, until when.
LEASE_TOKEN = "lease_token"  # noqa: S105 - an attribute name, not a secret
LEASE_UNTIL = "lease_until"  # epoch seconds


class DuplicateJobError(Exception):
    """A record with this job id exists (the same upload delivered twice, or a reused job_id)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} exists already")
        self.job_id = job_id


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds: sorts as a string, which the status index relies on."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_attribute(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (floats as exact decimals)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(Decimal(str(value)))}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {k: to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if (
        isinstance(value, set | frozenset)
        and value
        and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value)
    ):
        return {"NS": sorted(str(Decimal(str(v))) for v in value)}  # a number set (ADD/contains)
    raise TypeError(f"cannot store {type(value).__name__} in a job record")


def from_attribute(attribute: dict[str, Any]) -> Any:
    (kind, value), *_ = attribute.items()
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "NULL":
        return None
    return value  # S, BOOL


def to_item(record: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attribute(v) for k, v in record.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attribute(v) for k, v in item.items()}


def create_record(
    ddb: Any,
    table: str,
    record: dict[str, Any],
    *,
    now: datetime | None = None,
    ttl_days: int = DEFAULT_TTL_DAYS,
) -> dict[str, Any]:
    """Put a new record once: raise DuplicateJobError when the job id exists already."""
    moment = now or utc_now()
    status = JobStatus(record["status"])
    full = {
        "created_at": timestamp(moment),
        "updated_at": timestamp(moment),
        TTL_ATTRIBUTE: int((moment + timedelta(days=ttl_days)).timestamp()),
        "history": [_history_entry(status, moment, record.get("status_reason"))],
        **record,
    }
    from botocore.exceptions import ClientError  # here: `batchscore validate` runs without botocore

    try:
        ddb.put_item(
            TableName=table,
            Item=to_item(full),
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": KEY},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise DuplicateJobError(record[KEY]) from None
        raise
    return full


def get_record(ddb: Any, table: str, job_id: str) -> dict[str, Any] | None:
    item = ddb.get_item(TableName=table, Key={KEY: {"S": job_id}}, ConsistentRead=True).get("Item")
    return from_item(item) if item else None


@dataclass(frozen=True)
class Guard:
    """An extra condition on a status move: a DynamoDB condition expression with its own
    attribute names (`#...`) and values (`:...`), which must not collide with `advance`'s."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def advance(
    ddb: Any,
    table: str,
    job_id: str,
    status: JobStatus,
    *,
    fields: dict[str, Any] | None = None,
    reason: str | None = None,
    attempt: int | None = None,
    now: datetime | None = None,
    guard: Guard | None = None,
) -> bool:
    """Move a record forward to `status` and set `fields`; False when the move would go backwards
    (or the record is missing, or the `guard` condition, with its own names and values, does not
    hold), in which case nothing is written.

    RUNNING may repeat for a later attempt only: pass `attempt`, stored as `attempts`.
    """
    moment = now or utc_now()
    values: dict[str, Any] = {
        ":status": status.value,
        ":now": timestamp(moment),
        ":entry": [_history_entry(status, moment, reason, attempt)],
        ":empty": [],
    }
    names = {"#k": KEY, "#status": "status", "#updated": "updated_at", "#history": "history"}
    sets = [
        "#status = :status",
        "#updated = :now",
        "#history = list_append(if_not_exists(#history, :empty), :entry)",
    ]
    all_fields = dict(fields or {})
    if reason is not None:
        all_fields["status_reason"] = reason
    if attempt is not None:
        all_fields["attempts"] = attempt
    for index, (name, value) in enumerate(all_fields.items()):
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
        sets.append(f"#f{index} = :f{index}")

    earlier = [s for s in statuses_before(status) if s != status]
    for index, previous in enumerate(earlier):
        values[f":from{index}"] = previous.value
    condition = f"#status IN ({', '.join(f':from{i}' for i in range(len(earlier)))})"
    if status == JobStatus.RUNNING and attempt is not None:
        names["#attempts"] = "attempts"
        values[":attempt"] = attempt
        condition = (
            f"({condition}) OR (#status = :status AND "
            "(attribute_not_exists(#attempts) OR #attempts < :attempt))"
        )
    if guard:
        names.update(guard.names)
        values.update(guard.values)
        condition = f"({condition}) AND ({guard.expression})"
    return (
        conditional_update(
            ddb,
            table,
            job_id,
            update="SET " + ", ".join(sets),
            condition=f"attribute_exists(#k) AND ({condition})",
            names=names,
            values=values,
        )
        is not None
    )


def conditional_update(
    ddb: Any,
    table: str,
    job_id: str,
    *,
    update: str,
    condition: str,
    names: dict[str, str],
    values: dict[str, Any] | None = None,
    return_record: bool = False,
    updated_only: bool = False,
) -> dict[str, Any] | None:
    """One UpdateItem guarded by `condition` (`values` as plain Python values). None when the
    condition did not hold (nothing written); else the record as it is afterwards when
    `return_record` (only the attributes the update set, when `updated_only`: a caller whose
    IAM policy limits the attributes it may touch), or an empty dict."""
    extra: dict[str, Any] = {}
    if return_record or updated_only:
        extra["ReturnValues"] = "UPDATED_NEW" if updated_only else "ALL_NEW"
    if values:
        extra["ExpressionAttributeValues"] = {k: to_attribute(v) for k, v in values.items()}
    from botocore.exceptions import ClientError  # here: `batchscore validate` runs without botocore

    try:
        response = ddb.update_item(
            TableName=table,
            Key={KEY: {"S": job_id}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            **extra,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return from_item(response.get("Attributes", {}))


def _history_entry(
    status: JobStatus, moment: datetime, reason: str | None = None, attempt: int | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": status.value, "at": timestamp(moment)}
    if reason:
        entry["reason"] = reason[:500]
    if attempt is not None:
        entry["attempt"] = attempt
    return entry


def table_definition(table: str) -> dict[str, Any]:
    """`CreateTable` arguments for the job table: the tests and the local stack use it, and
    terraform/storage.tf declares the same key, index and attribute types."""
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": KEY, "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": STATUS_INDEX_RANGE, "AttributeType": "S"},
            {"AttributeName": "name", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": STATUS_INDEX_RANGE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": NAME_INDEX,
                "KeySchema": [
                    {"AttributeName": "name", "KeyType": "HASH"},
                    {"AttributeName": STATUS_INDEX_RANGE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
            },
        ],
    }
