"""submitter.drift (PSI on prediction summaries) and the content of submitter.notify's messages,
without AWS."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from job.summary import LABELS, PROBABILITIES, VALUES, SummaryBuilder
from submitter import drift, notify


def summary(kind: str, values) -> dict:
    builder = SummaryBuilder(kind, ["p"])
    builder.observe(pa.RecordBatch.from_pydict({"p": values}))
    return builder.as_dict()


def test_psi_matches_the_formula():
    expected, actual = [50, 50], [80, 20]
    by_hand = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert drift.psi(expected, actual) == pytest.approx(by_hand)
    assert drift.psi(expected, expected) == 0.0


def test_an_empty_bin_is_floored_not_infinite():
    assert math.isfinite(drift.psi([100, 0], [50, 50]))


@pytest.mark.parametrize("kind", [PROBABILITIES, LABELS, VALUES])
def test_same_distribution_is_stable_and_a_shift_drifts(kind):
    rng = np.random.default_rng(3)
    base = rng.beta(2, 5, 20_000)
    again = rng.beta(2, 5, 20_000)
    shifted = rng.beta(5, 2, 20_000)
    if kind == LABELS:
        base, again, shifted = (np.round(x * 4) for x in (base, again, shifted))
    if kind == VALUES:
        base, again, shifted = (x * 1000 - 200 for x in (base, again, shifted))
    before = {"job_id": "old", "prediction_summary": summary(kind, base)}
    stable = drift.drift_between(before, summary(kind, again))
    moved = drift.drift_between(before, summary(kind, shifted))
    assert stable["drifted"] is False
    assert stable["psi"] < 0.05
    assert moved["drifted"] is True
    assert moved["psi"] > drift.DEFAULT_THRESHOLD
    assert moved["previous_job_id"] == "old"


def test_threshold_is_the_callers():
    before = {"job_id": "old", "prediction_summary": summary(LABELS, [0, 0, 1, 1])}
    found = drift.drift_between(before, summary(LABELS, [0, 0, 0, 1]), threshold=5.0)
    assert found["drifted"] is False
    assert found["threshold"] == 5.0


def test_different_kinds_are_not_compared():
    before = {"job_id": "old", "prediction_summary": summary(LABELS, [0, 1])}
    found = drift.drift_between(before, summary(VALUES, [0.5, 1.5]))
    assert found["comparable"] is False


RECORD = {
    "job_id": "churn-1",
    "name": "churn",
    "status": "SUCCEEDED",
    "queue": "batchscore-normal",
    "attempts": 2,
    "rows": 1000,
    "bad_rows": 3,
    "created_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-01T00:01:30.500Z",
    "output_uri": "s3://out/churn/",
    "prediction_summary": {"kind": "labels", "rows": 1000, "counts": {"0": 900, "1": 100}},
}


def test_detail_carries_the_cost_map_when_the_record_has_one():
    cost = {"usd": 0.0123, "on_demand_usd": 0.01, "spot_usd": 0.0023, "basis": "job detail"}
    detail = notify.finished_detail(RECORD | {"cost": cost}, None)
    assert detail["cost"] == cost
    assert detail["duration_seconds"] == 90.5
    assert (detail["attempts"], detail["bad_rows"], detail["rows"]) == (2, 3, 1000)
    text = notify.readable(notify.DETAIL_TYPE, detail)
    assert "cost: $0.0123 (job detail)" in text
    assert "bad rows 3" in text


def test_detail_without_cost_says_nothing_about_cost():
    detail = notify.finished_detail(RECORD, None)
    assert detail["cost"] is None
    assert "cost" not in notify.readable(notify.DETAIL_TYPE, detail)


def test_subject_is_what_sns_accepts():
    detail = notify.finished_detail(RECORD | {"name": "é" * 200}, {"drifted": True})
    subject = notify.subject(notify.DETAIL_TYPE, detail)
    assert len(subject) <= notify.MAX_SUBJECT
    assert subject.isascii()
    assert "\n" not in subject


def test_settings_from_the_environment():
    settings = notify.NotifySettings.from_env(
        {
            "BATCHSCORE_NOTIFY_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:t",
            "BATCHSCORE_EVENT_BUS": "default",
            "BATCHSCORE_DRIFT_THRESHOLD": "0.3",
            "BATCHSCORE_RUNNABLE_ALERT_SECONDS": "900",
        }
    )
    assert settings.enabled
    assert (settings.drift_threshold, settings.runnable_alert_seconds) == (0.3, 900)
    assert not notify.NotifySettings.from_env({}).enabled


class RefusingEvents:
    def put_events(self, Entries):  # noqa: N803 - boto3's parameter name
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}


def test_a_partly_failed_put_events_raises():
    """PutEvents answers 200 with FailedEntryCount > 0 rather than raising: checked."""
    notifier = notify.Notifier(notify.NotifySettings(event_bus="default"), events=RefusingEvents())
    with pytest.raises(notify.NotifyError):
        notifier.publish(notify.DETAIL_TYPE, {"job_id": "x"})


def test_hooks_know_the_ingest_actions_that_end_a_job():
    from submitter import notify_hooks
    from submitter.submission import Action

    assert set(notify_hooks._INGEST_ENDINGS) == {Action.REJECTED, Action.FAILED, Action.DUPLICATE}
