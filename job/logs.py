"""JSON-lines logs: one object per line with the job's context (job id, attempt, shard) on every
line, so CloudWatch Logs Insights can filter and aggregate without parsing prose."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
PROGRESS_SECONDS = 5.0


class JsonFormatter(logging.Formatter):
    def __init__(self, context: dict[str, Any]) -> None:
        super().__init__()
        self.context = context  # mutable: main() fills it in as it learns the job

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            **self.context,
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """One line for a person at a terminal (`batchscore score`): an error as `error: ...`, other
    lines as the message and their figures; the job's context is the person's own."""

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        extra.pop("error", None)
        extra.pop("kind", None)
        figures = ", ".join(f"{k}={v}" for k, v in extra.items())
        text = record.getMessage() + (f" ({figures})" if figures else "")
        if record.levelno >= logging.ERROR:
            return f"error: {text}"
        return text if record.levelno < logging.WARNING else f"warning: {text}"


def configure(
    stream: TextIO | None = None, level: int = logging.INFO, *, text: bool = False
) -> dict[str, Any]:
    """Send every log line as JSON to `stream` (stdout), or as text for a person (`text`);
    return the context dict to fill in."""
    context: dict[str, Any] = {}
    handler = logging.StreamHandler(stream or sys.stdout)
    formatter: logging.Formatter = TextFormatter() if text else JsonFormatter(context)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_batchscore", False):
            root.removeHandler(existing)
    # A mark, not a subclass: it is still recognised after this module is imported again.
    handler._batchscore = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return context


class Progress:
    """Logs rows and rate at most every PROGRESS_SECONDS (called after each written batch)."""

    def __init__(self, logger: logging.Logger, every: float = PROGRESS_SECONDS) -> None:
        self._logger = logger
        self._every = every
        self._started = time.monotonic()
        self._last = self._started

    def __call__(self, stats: Any) -> None:
        now = time.monotonic()
        if now - self._last < self._every:
            return
        self._last = now
        elapsed = now - self._started
        self._logger.info(
            "progress",
            extra={"rows": stats.rows, "rate": round(stats.rows / elapsed) if elapsed else 0},
        )
