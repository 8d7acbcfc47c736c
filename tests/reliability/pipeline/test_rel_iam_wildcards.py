"""Security, statically: no IAM policy of terraform/ allows a `*` action, and every `*` resource
is explained by a comment in its statement.

Read with python-hcl2 (no provider, no plan). Every IAM policy must be an
`aws_iam_policy_document` (otherwise this test could not see it); checkov runs on the same files
in tests/functional/terraform/test_terraform_checks.py (`make tf-checkov`).
"""

from __future__ import annotations

from typing import Any

import pytest
from support.paths import TERRAFORM_DIR
from support.terraform_hcl import parse_hcl

# Resource types whose policy attribute is an IAM policy (resource-based or identity-based).
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic_policy": "policy",
}


def blocks(document: dict[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every `resource`/`data` block of a parsed file."""
    found = []
    for block in document.get(kind, []):
        for type_name, named in block.items():
            if type_name.startswith("__"):
                continue
            for name, body in named.items():
                if not name.startswith("__"):
                    found.append((type_name, name, body))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_problems(label: str, statement: dict[str, Any]) -> list[str]:
    """What is wrong with one statement of an aws_iam_policy_document."""
    problems = []
    effect = statement.get("effect", "Allow")
    if statement.get("not_actions") and effect == "Allow":
        problems.append(f"{label}: Allow with not_actions (allows everything else)")
    for action in as_list(statement.get("actions", [])):
        if action == "*":
            problems.append(f"{label}: action '*'")
        elif effect == "Allow" and action.endswith(":*"):
            problems.append(f"{label}: service-wide action {action!r} allowed")
    resources = as_list(statement.get("resources", []))
    if "*" in resources and not statement.get("__comments__"):
        problems.append(f"{label}: resource '*' without an explanatory comment")
    return problems


def wildcard_problems(text: str, where: str) -> list[str]:
    """What is wrong with the IAM policies of one .tf file's text."""
    document = parse_hcl(text)
    problems = []
    for type_name, name, body in blocks(document, "data"):
        if type_name != "aws_iam_policy_document":
            continue
        for index, statement in enumerate(as_list(body.get("statement", []))):
            label = f"{where}: data.{type_name}.{name} statement {statement.get('sid', index)}"
            problems += statement_problems(label, statement)
    for type_name, name, body in blocks(document, "resource"):
        attribute = POLICY_ATTRIBUTES.get(type_name)
        value = body.get(attribute) if attribute else None
        if value is not None and "aws_iam_policy_document." not in str(value):
            problems.append(
                f"{where}: {type_name}.{name}.{attribute} is not an aws_iam_policy_document"
            )
    return problems


def test_no_iam_wildcard_action_nor_unexplained_wildcard_resource() -> None:
    files = sorted(TERRAFORM_DIR.glob("*.tf"))
    assert files
    problems = [p for file in files for p in wildcard_problems(file.read_text(), file.name)]
    assert problems == []


def test_the_policies_this_test_reads_are_the_deployments() -> None:
    """Guard against a vacuous pass: the documents the Lambdas and the job run with are seen."""
    names = {
        name
        for file in TERRAFORM_DIR.glob("*.tf")
        for type_name, name, _ in blocks(parse_hcl(file.read_text()), "data")
        if type_name == "aws_iam_policy_document"
    }
    assert {"job", "job_execution", "ingest", "state"} <= names


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ('actions = ["*"]\n resources = ["arn:aws:s3:::b"]', "action '*'"),
        ('actions = ["s3:*"]\n resources = ["arn:aws:s3:::b"]', "service-wide action 's3:*'"),
        ('actions = ["s3:GetObject"]\n resources = ["*"]', "resource '*' without"),
        ('not_actions = ["s3:GetObject"]\n resources = ["arn:aws:s3:::b"]', "not_actions"),
    ],
)
def test_the_checker_catches_each_kind_of_wildcard(statement: str, expected: str) -> None:
    text = f'data "aws_iam_policy_document" "x" {{\n statement {{\n {statement}\n }}\n}}\n'
    [problem] = wildcard_problems(text, "x.tf")
    assert expected in problem


def test_the_checker_accepts_an_explained_star_resource_and_a_deny_wildcard() -> None:
    text = (
        'data "aws_iam_policy_document" "x" {\n'
        " statement {\n"
        '  # GetAuthorizationToken has no resource type: AWS requires "*".\n'
        '  actions = ["ecr:GetAuthorizationToken"]\n'
        '  resources = ["*"]\n'
        " }\n"
        " statement {\n"
        '  effect = "Deny"\n'
        '  actions = ["s3:*"]\n'
        '  resources = ["arn:aws:s3:::b/*"]\n'
        " }\n"
        "}\n"
        'resource "aws_iam_role_policy" "p" {\n'
        "  policy = jsonencode({ Statement = [] })\n"
        "}\n"
    )
    assert wildcard_problems(text, "x.tf") == [
        "x.tf: aws_iam_role_policy.p.policy is not an aws_iam_policy_document"
    ]
