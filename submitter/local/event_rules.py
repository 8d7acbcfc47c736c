"""The EventBridge rule that sends Batch state changes to the state handler, as the local stack
applies it: the pattern of terraform/job-state-events.json (a contract test keeps the two equal)
and an evaluator of the part of EventBridge's pattern language it uses.

Semantics, from the EventBridge user guide ("Event patterns", "Content filtering"): every key of
a pattern must match (AND); a list of values matches when any does (OR); `{"exists": false}`
matches a leaf field that is absent; `"$or": [p, q]` matches when any of its sub-patterns does;
a field compared with a literal must be present; below a missing object every field is absent.
Other operators are refused, not guessed.
"""

from __future__ import annotations

from typing import Any

JOB_STATE_EVENTS: dict[str, Any] = {
    "source": ["aws.batch"],
    "detail-type": ["Batch Job State Change"],
    "detail": {
        "status": ["RUNNING", "SUCCEEDED", "FAILED"],
        "$or": [
            {"arrayProperties": {"index": [{"exists": False}]}},
            {"status": ["FAILED"]},
        ],
    },
}

_ABSENT = object()


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether EventBridge would deliver `event` to a rule with `pattern`."""
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(matches(option, event) for option in wanted):
                return False
            continue
        value = event.get(key, _ABSENT)
        if isinstance(wanted, dict):
            # Below a missing (or null) object every field is absent: `exists: false` holds.
            if not matches(wanted, value if isinstance(value, dict) else {}):
                return False
        elif not any(_matches_value(option, value) for option in wanted):
            return False
    return True


def _matches_value(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if set(option) != {"exists"}:
            raise ValueError(f"unsupported pattern operator {option}")
        return (value is not _ABSENT) == bool(option["exists"])
    if value is _ABSENT:
        return False
    if isinstance(value, list):  # an array in the event matches when any element does
        return option in value
    return bool(option == value)


def delivered(event: dict[str, Any]) -> bool:
    """Whether the deployed rule delivers this Batch event to the state handler (the queue
    filter aside: the local stack only has its own queues)."""
    return matches(JOB_STATE_EVENTS, event)
