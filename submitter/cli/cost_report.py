"""Sum finished jobs' costs (the records' `cost` maps) by name, priority or day: pure, no AWS."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from config.exceptions import DeploymentSettingError


class GroupBy(StrEnum):
    NAME = "name"
    PRIORITY = "priority"
    DAY = "day"


DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `12h`, `30m` before `now`, or an ISO date/time (UTC when it names no zone)."""
    match = DURATION.match(text.strip())
    if match:
        return now - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DeploymentSettingError(
            f"--since: {text!r} is neither a duration (7d, 12h, 30m) nor an ISO date"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


@dataclass
class Row:
    group: str
    jobs: int = 0
    costed: int = 0  # jobs whose record carries a cost (older records may not)
    attempts: int = 0
    vcpu_hours: float = 0.0
    on_demand_usd: float = 0.0
    spot_usd: float = 0.0
    usd: float = 0.0

    def add(self, cost: dict[str, Any] | None) -> None:
        self.jobs += 1
        if not cost:
            return
        self.costed += 1
        self.attempts += int(cost["attempts"])
        self.vcpu_hours += float(cost["vcpu_seconds"]) / 3600
        self.on_demand_usd += float(cost["on_demand_usd"])
        self.spot_usd += float(cost["spot_usd"])
        self.usd += float(cost["usd"])

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        for key in ("vcpu_hours", "on_demand_usd", "spot_usd", "usd"):
            row[key] = round(row[key], 6)
        return row


def group_of(record: dict[str, Any], by: GroupBy) -> str:
    if by == GroupBy.DAY:
        return str(record.get("created_at", ""))[:10] or "unknown"
    return str(record.get(by.value) or ("normal" if by == GroupBy.PRIORITY else "unknown"))


def summarize(records: Iterable[dict[str, Any]], by: GroupBy) -> tuple[list[Row], Row]:
    """One row per group (most expensive first; days in order) and the total."""
    rows: dict[str, Row] = {}
    total = Row("total")
    for record in records:
        cost = record.get("cost")
        rows.setdefault(group_of(record, by), Row(group_of(record, by))).add(cost)
        total.add(cost)
    ordered = sorted(
        rows.values(),
        key=(lambda r: r.group) if by == GroupBy.DAY else (lambda r: (-r.usd, r.group)),
    )
    return ordered, total
