"""How the CLI shows jobs: rich tables for people, plain dicts for `--json`."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

# The CLI's one console: live views and tables print on it (stdout; errors go to stderr).
console = Console()

STATUS_STYLE = {
    "SUBMITTED": "cyan",
    "RUNNING": "yellow",
    "SUCCEEDED": "green",
    "FAILED": "red",
    "REJECTED": "magenta",
    "CANCELLED": "dim",
}
# What `--json` shows of a record: everything but the stored config text and the TTL.
HIDDEN = frozenset({"config", "expires_at"})


def public(record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The record for `--json`, with `extra` keys (e.g. `waiting`) when not None."""
    shown = {k: v for k, v in sorted(record.items()) if k not in HIDDEN}
    return shown | {k: v for k, v in extra.items() if v is not None}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def plain(value: Any) -> Text:
    """Data as text, never as rich markup: a reason or a column name holding `[link=...]` or
    `[red]` is shown as written (a str given to rich would be parsed as markup)."""
    return Text("" if value is None else str(value))


def jobs_table(records: list[dict[str, Any]], *, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold", expand=False)
    for column in ("job id", "status", "queue", "tries", "rows", "updated", "detail"):
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(
            plain(record.get("job_id", "")),
            status_text(record.get("status", "")),
            plain(queue_name(record.get("queue") or record.get("priority") or "")),
            plain(record.get("attempts", "")),
            plain(f"{record['rows']:,}" if isinstance(record.get("rows"), int) else ""),
            plain(record.get("updated_at", "")[11:19]),  # the time of day; `status` the date
            plain(_detail(record)),
        )
    return table


def queue_name(queue: str) -> str:
    """`arn:aws:batch:...:job-queue/bs-high` -> `bs-high`; a plain name stays as it is."""
    return queue.rsplit("/", 1)[-1]


def _detail(record: dict[str, Any]) -> str:
    failed = record.get("status") in ("FAILED", "REJECTED", "CANCELLED")
    detail: str = record.get("status_reason" if failed else "output_uri", "")
    return detail


def job_view(record: dict[str, Any]) -> Group:
    """One job: its fields, then its history of transitions."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    for key in (
        "job_id", "name", "status", "priority", "queue", "batch_job_id", "attempts", "exit_code",
        "status_reason", "upload", "output_uri", "manifest_uri", "rows", "bad_rows", "seconds",
        "shards", "rerun_of", "created_at", "updated_at",
    ):  # fmt: skip
        if record.get(key) not in (None, ""):
            value = record[key]
            fields.add_row(key, status_text(value) if key == "status" else plain(value))
    history = Table(title="history", header_style="bold", title_justify="left")
    for column in ("at", "status", "attempt", "reason"):
        history.add_column(column, overflow="fold")
    for entry in record.get("history", []):
        history.add_row(
            plain(entry.get("at", "")),
            status_text(entry.get("status", "")),
            plain(entry.get("attempt", "")),
            plain(entry.get("reason", "")),
        )
    return Group(fields, history)
