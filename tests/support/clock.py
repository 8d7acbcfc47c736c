"""The submitter's clock, moved by hand (lease expiry without waiting)."""

from __future__ import annotations

from datetime import datetime, timedelta

from config.records import utc_now


class FakeClock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
