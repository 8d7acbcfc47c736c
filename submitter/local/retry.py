"""AWS Batch's retry decision for one failed attempt, as the local executor applies it.

Batch's rules (API reference, EvaluateOnExit and RetryStrategy): the rules are evaluated in order
and the first whose present conditions *all* match decides; a failure no rule matches is retried;
nothing is retried once `attempts` attempts have run. A pattern is an exact string or, ending in
`*`, a prefix. A value the attempt does not have (no exit code after a spot reclaim, no container
reason after a plain exit) is compared as the empty string, so the catch-all `*` matches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RETRY = "RETRY"
EXIT = "EXIT"


def glob_matches(pattern: str, value: str) -> bool:
    """Batch's glob: only a trailing `*` is special (a prefix match); otherwise an exact match."""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def rule_matches(
    rule: Mapping[str, str],
    *,
    exit_code: int | None,
    reason: str | None,
    status_reason: str | None,
) -> bool:
    """True when every condition present in `rule` matches the attempt."""
    observed = {
        "onExitCode": "" if exit_code is None else str(exit_code),
        "onReason": reason or "",
        "onStatusReason": status_reason or "",
    }
    return all(
        glob_matches(rule[field], value) for field, value in observed.items() if field in rule
    )


def retry_action(
    rules: Sequence[Mapping[str, str]],
    *,
    exit_code: int | None,
    reason: str | None,
    status_reason: str | None,
) -> str:
    """RETRY or EXIT for a failed attempt: the first matching rule's action, else RETRY."""
    for rule in rules:
        if rule_matches(rule, exit_code=exit_code, reason=reason, status_reason=status_reason):
            return str(rule["action"]).upper()
    return RETRY


def should_retry(
    strategy: Mapping[str, Any] | None,
    attempts_made: int,
    *,
    exit_code: int | None,
    reason: str | None = None,
    status_reason: str | None = None,
) -> bool:
    """Whether a job whose attempt number `attempts_made` just failed runs another attempt."""
    if not strategy or attempts_made >= int(strategy.get("attempts") or 1):
        return False
    rules = strategy.get("evaluateOnExit") or ()
    action = retry_action(rules, exit_code=exit_code, reason=reason, status_reason=status_reason)
    return action == RETRY
