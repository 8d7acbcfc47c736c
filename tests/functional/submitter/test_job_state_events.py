"""Contract: the EventBridge rule's pattern (terraform/job-state-events.json) delivers to the state
handler exactly the Batch events it acts on, checked against the sample events in tests/events/
with an evaluator of EventBridge's documented pattern semantics (`submitter.local.event_rules`),
cross-checked with moto's own matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from submitter.local import event_rules

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events"

# Sample event -> delivered? Children: only FAILED (a child's RUNNING and SUCCEEDED change nothing
# the parent's events do not). Single jobs and parents: RUNNING, SUCCEEDED, FAILED. RUNNABLE and
# the other waiting states: the record says SUBMITTED already.
EXPECTED = {
    "batch-array-child-failed.json": True,
    "batch-array-child-running.json": False,
    "batch-array-child-succeeded.json": False,
    "batch-array-parent-failed.json": True,
    "batch-array-parent-running.json": True,
    "batch-array-parent-succeeded.json": True,
    "batch-failed-oom.json": True,
    "batch-failed-permanent.json": True,
    "batch-failed-runnable-time-limit.json": True,
    "batch-failed-spot.json": True,
    "batch-failed-terminated.json": True,
    "batch-failed-timeout.json": True,
    "batch-failed-transient-exhausted.json": True,
    "batch-job-state-change-runnable.aws-docs.json": False,
    "batch-runnable.json": False,
    "batch-running-second-attempt.json": True,
    "batch-running.json": True,
    "batch-succeeded.json": True,
}


def test_the_terraform_pattern_is_the_one_the_local_stack_applies() -> None:
    deployed = json.loads((ROOT / "terraform" / "job-state-events.json").read_text())
    assert deployed == event_rules.JOB_STATE_EVENTS


def test_every_sample_batch_event_is_classified() -> None:
    assert sorted(p.name for p in EVENTS.glob("batch-*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_rule_delivers_what_the_handler_acts_on(name: str) -> None:
    event = json.loads((EVENTS / name).read_text())
    assert event_rules.delivered(event) is EXPECTED[name]
    # moto implements the same documented semantics: two readings agree
    moto = EventPattern(json.dumps(event_rules.JOB_STATE_EVENTS), event_rules.JOB_STATE_EVENTS)
    assert moto.matches_event(event) is EXPECTED[name]


def test_other_sources_and_types_are_not_delivered() -> None:
    event = json.loads((EVENTS / "batch-running.json").read_text())
    assert not event_rules.delivered({**event, "source": "aws.ecs"})
    assert not event_rules.delivered({**event, "detail-type": "Batch Job Queue Blocked"})
    assert not event_rules.delivered({**event, "detail": {**event["detail"], "status": "STARTING"}})


def test_operators_the_evaluator_does_not_know_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        event_rules.matches({"a": [{"prefix": "x"}]}, {"a": "xy"})


def test_invocations_of_a_10000_shard_job() -> None:
    """Batch sends about seven statuses per child (SUBMITTED, PENDING, RUNNABLE, STARTING,
    RUNNING, then SUCCEEDED or FAILED) and the parent's own: the rule now passes the parent's three
    and no successful child's."""
    child = json.loads((EVENTS / "batch-array-child-running.json").read_text())
    parent = json.loads((EVENTS / "batch-array-parent-running.json").read_text())
    flow = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]

    def delivered(template: dict, statuses: list[str]) -> int:
        return sum(
            event_rules.delivered({**template, "detail": {**template["detail"], "status": s}})
            for s in statuses
        )

    shards = 10_000
    before = shards * len(flow) + len(flow)
    after = shards * delivered(child, flow) + delivered(parent, flow)
    assert (before, after) == (60_006, 2)
    # a child that fails once and is retried adds one FAILED event at most
    assert delivered(child, ["FAILED"]) == 1
