"""AWS Batch's retry decision for one failed attempt, as the local executor applies it.

Batch's rules (API reference, EvaluateOnExit and RetryStrategy): the rules are evaluated in order
and the first whose present conditions *all* match decides; a failure no rule matches is retried;
nothing is retried once `attempts` attempts have run. A pattern is an exact string or, ending in
`*`, a prefix. A value the attempt does not have (no exit code after a spot reclaim, no container
reason after a plain exit) is compared as the empty string, so the catch-all `*` matches it.

`rules_problem` refuses what Batch refuses at RegisterJobDefinition / SubmitJob (API reference,
EvaluateOnExit): at most 5 rules, each with an action and at least one condition; `onStatusReason`
and `onReason` up to 512 letters, digits, periods, colons and white space, `onExitCode` up to 512
digits, each optionally ending in `*`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

RETRY = "RETRY"
EXIT = "EXIT"

MAX_RULES = 5
CONDITIONS = ("onStatusReason", "onReason", "onExitCode")
PATTERNS = {
    "onStatusReason": re.compile(r"[A-Za-z0-9.: \t]{0,511}[A-Za-z0-9.: \t*]?"),
    "onReason": re.compile(r"[A-Za-z0-9.: \t]{0,511}[A-Za-z0-9.: \t*]?"),
    "onExitCode": re.compile(r"[0-9]{0,511}[0-9*]?"),
}


def glob_matches(pattern: str, value: str) -> bool:
    """Batch's glob: only a trailing `*` is special (a prefix match); otherwise an exact match."""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def rules_problem(rules: Sequence[Mapping[str, str]] | None) -> str | None:
    """What Batch would say about these evaluateOnExit rules, or None when it takes them."""
    rules = rules or ()
    if len(rules) > MAX_RULES:
        return f"retryStrategy.evaluateOnExit: at most {MAX_RULES} rules, got {len(rules)}"
    for index, rule in enumerate(rules):
        where = f"retryStrategy.evaluateOnExit[{index}]"
        if str(rule.get("action", "")).upper() not in (RETRY, EXIT):
            return f"{where}.action must be RETRY or EXIT"
        if not any(field in rule for field in CONDITIONS):
            return f"{where}: needs onStatusReason, onReason or onExitCode"
        for field in CONDITIONS:
            if field in rule and not PATTERNS[field].fullmatch(str(rule[field])):
                return f"{where}.{field}: {rule[field]!r} is not a pattern Batch accepts"
    return None


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
