"""Batch's evaluateOnExit semantics as the local executor applies them (submitter.local.retry)."""

import pytest

from config.retry import EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT, retry_strategy
from submitter.local.jobs import SPOT_TASK_INTERRUPTED, host_terminated
from submitter.local.retry import (
    EXIT,
    RETRY,
    glob_matches,
    retry_action,
    rule_matches,
    rules_problem,
    should_retry,
)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("3", "3", True),
        ("3", "33", False),
        ("3*", "33", True),
        ("*", "", True),
        ("*", "anything", True),
        ("Host EC2*", "Host EC2 (instance i-0abc) terminated.", True),
        ("Host EC2*", "host ec2 (instance i-0abc) terminated.", False),
        ("Host EC2", "Host EC2 (instance i-0abc) terminated.", False),
        ("1?", "12", False),  # only a trailing * is special
    ],
)
def test_glob_is_exact_or_a_trailing_star_prefix(pattern, value, expected):
    assert glob_matches(pattern, value) is expected


def test_a_rule_matches_only_when_every_present_condition_does():
    rule = {"onExitCode": "3", "onStatusReason": "Essential*", "action": "RETRY"}
    exited = "Essential container in task exited"
    assert rule_matches(rule, exit_code=3, reason=None, status_reason=exited)
    assert not rule_matches(rule, exit_code=3, reason=None, status_reason="Host EC2 gone")
    assert not rule_matches(rule, exit_code=1, reason=None, status_reason=exited)


def test_missing_values_are_empty_so_the_catch_all_matches_them():
    assert rule_matches(
        {"onReason": "*", "action": "EXIT"}, exit_code=1, reason=None, status_reason=None
    )
    assert not rule_matches(
        {"onExitCode": "3", "action": "RETRY"}, exit_code=None, reason=None, status_reason=None
    )


def test_first_matching_rule_wins_and_no_match_means_retry():
    rules = [{"onExitCode": "3", "action": "exit"}, {"onExitCode": "3", "action": "RETRY"}]
    assert retry_action(rules, exit_code=3, reason=None, status_reason=None) == EXIT
    assert retry_action(rules, exit_code=4, reason=None, status_reason=None) == RETRY
    assert retry_action([], exit_code=4, reason=None, status_reason=None) == RETRY


@pytest.mark.parametrize(
    ("exit_code", "status_reason", "expected"),
    [
        (EXIT_TRANSIENT, "Essential container in task exited", True),
        (EXIT_PERMANENT, "Essential container in task exited", False),
        (1, "Essential container in task exited", False),  # the catch-all EXIT
        (137, "Essential container in task exited", False),
        (None, host_terminated("i-0123"), True),  # spot reclaim
        (None, SPOT_TASK_INTERRUPTED, True),  # Fargate Spot reclaim
    ],
)
def test_the_shared_strategy(exit_code, status_reason, expected):
    strategy = retry_strategy(3)
    assert should_retry(strategy, 1, exit_code=exit_code, status_reason=status_reason) is expected


def test_no_retry_once_the_attempts_are_spent_or_without_a_strategy():
    strategy = retry_strategy(3)
    assert should_retry(strategy, 2, exit_code=EXIT_TRANSIENT)
    assert not should_retry(strategy, 3, exit_code=EXIT_TRANSIENT)
    assert not should_retry(None, 1, exit_code=EXIT_TRANSIENT)
    assert not should_retry({"attempts": 1}, 1, exit_code=EXIT_TRANSIENT)


def test_without_a_catch_all_an_unmatched_failure_is_retried():
    strategy = {"attempts": 2, "evaluateOnExit": [{"onExitCode": "2", "action": "EXIT"}]}
    assert should_retry(strategy, 1, exit_code=1)
    assert not should_retry(strategy, 1, exit_code=EXIT_PERMANENT)
    assert EXIT_OK == 0


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (retry_strategy(3)["evaluateOnExit"], None),
        ([{"onStatusReason": "Your Spot Task was interrupted.", "action": "retry"}], None),
        ([{"onReason": "*", "action": "EXIT"}] * 6, "at most 5 rules"),
        ([{"onStatusReason": "Host EC2 (instance*", "action": "RETRY"}], "not a pattern"),
        ([{"onStatusReason": "Host*EC2", "action": "RETRY"}], "not a pattern"),  # * only last
        ([{"onExitCode": "3x", "action": "RETRY"}], "not a pattern"),
        ([{"onReason": "x" * 513, "action": "EXIT"}], "not a pattern"),
        ([{"action": "EXIT"}], "needs onStatusReason"),
        ([{"onExitCode": "3", "action": "IGNORE"}], "must be RETRY or EXIT"),
    ],
)
def test_rules_batch_would_refuse_are_refused(rules, problem):
    found = rules_problem(rules)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
