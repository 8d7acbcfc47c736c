"""What AWS itself would hold against the stack, which neither moto nor `terraform validate` checks
(issue 12): Batch's enums and patterns, the caller-owned provider, the example the README tells
users to apply. Read from the HCL with python-hcl2; values from the AWS documentation."""

from __future__ import annotations

import json
import re
import runpy

import pytest
from support.paths import TERRAFORM_DIR
from support.terraform_hcl import load_hcl, merged, resource

from config import env, retry
from config.deployment import RUNNABLE_BLOCKED_REASONS, runnable_cancelled_reason
from submitter.local.jobs import default_job_definition
from submitter.local.retry import EXIT, RETRY, retry_action, rules_problem

EXAMPLE = "examples/minimal/main.tf"


def root_files() -> list[str]:
    return sorted(path.name for path in TERRAFORM_DIR.glob("*.tf"))


# ---------------------------------------------------------------------------------------------
# Finding 15: providers belong to the caller
# ---------------------------------------------------------------------------------------------


def test_the_root_module_configures_no_provider():
    """A module with its own `provider` block cannot be used with count, for_each or depends_on."""
    configured = [name for name in root_files() if load_hcl(name).get("provider")]

    assert configured == []
    variables = merged(load_hcl("variables.tf")["variable"])
    assert "region" not in variables, "the region is the caller's provider's, not an input"


def test_the_example_configures_the_provider_it_passes_to_the_module():
    example = load_hcl(EXAMPLE)

    (provider,) = example["provider"]
    assert set(provider) - {"__is_block__"} == {"aws"}
    (module,) = example["module"]
    assert module["batchscore"]["source"] == "../.."


# ---------------------------------------------------------------------------------------------
# Finding 18: the example has what the README reads from it
# ---------------------------------------------------------------------------------------------


def test_the_example_re_exports_every_root_output_under_its_name():
    root = merged(load_hcl("outputs.tf")["output"])
    example = merged(load_hcl(EXAMPLE)["output"])

    assert list(example) == list(root)
    assert {name: o["value"] for name, o in example.items()} == {
        name: f"${{module.batchscore.{name}}}" for name in root
    }


def test_every_output_the_readme_reads_exists_in_the_example():
    readme = (TERRAFORM_DIR.parent / "README.md").read_text()
    deploy = readme.split("## Deploy to AWS", 1)[1].split("\n## ", 1)[0]
    read = set(re.findall(r"terraform output -raw (\w+)", deploy))
    example = merged(load_hcl(EXAMPLE)["output"])

    assert read, "the README's Deploy section reads an output"
    assert "cd terraform/examples/minimal" in deploy
    # `batchscore` reads these two through BATCHSCORE_TERRAFORM_DIR (submitter/cli/target.py)
    assert read | {"environment", "job_log_group"} <= set(example)


# ---------------------------------------------------------------------------------------------
# Finding 5: retry rules, in the three places that apply them (config/retry.py for SubmitJob,
# Terraform's job definition, the local Batch), agree on what Batch writes
# ---------------------------------------------------------------------------------------------

RULE_KEYS = {
    "on_status_reason": "onStatusReason",
    "on_exit_code": "onExitCode",
    "on_reason": "onReason",
}
EXITED = "Essential container in task exited"
# (exit code, the attempt's status reason as Batch writes it, expected action)
ATTEMPTS = [
    (None, "Host EC2 (instance i-0a1b2c3d4e5f67890) terminated.", RETRY),  # EC2 Spot reclaim
    (None, "Your Spot Task was interrupted.", RETRY),  # Fargate Spot reclaim
    (retry.EXIT_TRANSIENT, EXITED, RETRY),
    (retry.EXIT_PERMANENT, EXITED, EXIT),
    (1, EXITED, EXIT),
    (137, "Job attempt duration exceeded timeout", EXIT),
]


def terraform_rules(hcl_locals) -> list[dict[str, str]]:
    return [
        {RULE_KEYS.get(key, key): value for key, value in rule.items() if value is not None}
        for rule in hcl_locals["retry_rules"]
    ]


@pytest.mark.parametrize(("exit_code", "status_reason", "expected"), ATTEMPTS)
def test_terraform_config_and_local_batch_decide_alike(
    hcl_locals, exit_code, status_reason, expected
):
    decisions = {
        source: retry_action(rules, exit_code=exit_code, reason=None, status_reason=status_reason)
        for source, rules in {
            "terraform": terraform_rules(hcl_locals),
            "config/retry.py": retry.EVALUATE_ON_EXIT,
            "local batch": default_job_definition().retry_strategy["evaluateOnExit"],
        }.items()
    }

    assert decisions == dict.fromkeys(decisions, expected)


def test_every_retry_rule_is_one_batch_accepts(hcl_locals):
    assert rules_problem(terraform_rules(hcl_locals)) is None
    assert rules_problem(retry.EVALUATE_ON_EXIT) is None
    assert retry.EVALUATE_ON_EXIT[-1] == {"onReason": "*", "action": "EXIT"}


# ---------------------------------------------------------------------------------------------
# Finding 3: a queue's time-limit actions match Batch's blocking reasons, which are not free text
# ---------------------------------------------------------------------------------------------

# AWS Batch User Guide, "Jobs stuck in a RUNNABLE status": the statusReason values a
# jobStateTimeLimitAction can act on.
DOCUMENTED_BLOCKING_REASONS = {
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
}


def test_every_queue_has_one_time_limit_action_per_documented_blocking_reason(hcl_locals):
    queue = resource("batch.tf", "aws_batch_job_queue", "this")

    assert "job_state_time_limit_action" not in queue, "one static action cannot cover 3 reasons"
    (dynamic,) = [
        block["job_state_time_limit_action"]
        for block in queue["dynamic"]
        if "job_state_time_limit_action" in block
    ]
    assert dynamic["for_each"] == "${local.runnable_blocked_reasons}"
    (content,) = dynamic["content"]
    assert content["reason"] == "${job_state_time_limit_action.value}"
    assert (content["action"], content["state"]) == ("CANCEL", "RUNNABLE")
    assert hcl_locals["runnable_blocked_reasons"] == list(RUNNABLE_BLOCKED_REASONS)
    assert set(RUNNABLE_BLOCKED_REASONS) == DOCUMENTED_BLOCKING_REASONS


def test_the_readme_quotes_the_reason_batch_writes_on_a_cancelled_job():
    readme = (TERRAFORM_DIR.parent / "README.md").read_text()
    troubleshooting = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(troubleshooting.split())

    assert runnable_cancelled_reason("").strip() in flat
    assert [reason for reason in RUNNABLE_BLOCKED_REASONS if f"`{reason}`" not in flat] == []


# ---------------------------------------------------------------------------------------------
# Finding 4: Fargate tasks in public subnets without NAT need a public IP
# ---------------------------------------------------------------------------------------------


def test_fargate_public_ip_is_a_variable_the_example_turns_on():
    variables = merged(load_hcl("variables.tf")["variable"])
    (example,) = load_hcl(EXAMPLE)["module"]

    assert variables["assign_public_ip"]["default"] is False
    assert (
        'assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED"'
        in (TERRAFORM_DIR / "batch.tf").read_text()
    )
    # the default VPC's subnets are public, with no NAT gateway
    assert example["batchscore"]["assign_public_ip"] is True
    assert example["batchscore"]["compute_type"] == "${var.compute_type}"
    for readme in (TERRAFORM_DIR / "README.md", TERRAFORM_DIR.parent / "README.md"):
        assert "assign_public_ip" in readme.read_text(), readme


# ---------------------------------------------------------------------------------------------
# Finding 6: the Lambdas' architecture is the one the bundle was built for
# ---------------------------------------------------------------------------------------------


def package_script() -> dict:
    return runpy.run_path(str(TERRAFORM_DIR.parent / "scripts" / "package_submitter.py"))


def test_make_package_records_the_architecture_where_terraform_reads_it(tmp_path):
    script = package_script()
    zip_path = tmp_path / "build" / "submitter.zip"
    zip_path.parent.mkdir()

    written = script["write_manifest"](zip_path, "arm64", script["LAMBDA_PYTHON"])

    # lambda.tf: "${trimsuffix(local.submitter_zip, ".zip")}.json"
    assert written == tmp_path / "build" / "submitter.json"
    assert (
        'submitter_manifest_path = "${trimsuffix(local.submitter_zip, ".zip")}.json"'
        in (TERRAFORM_DIR / "lambda.tf").read_text()
    )
    assert json.loads(written.read_text())["architecture"] == "arm64"


def test_package_and_terraform_know_the_same_architectures_and_default(hcl_locals):
    script = package_script()
    variables = merged(load_hcl("variables.tf")["variable"])
    (validation,) = variables["lambda_architecture"]["validation"]
    makefile = (TERRAFORM_DIR.parent / "Makefile").read_text()

    assert set(re.findall(r'"(x86_64|arm64)"', validation["condition"])) == set(script["PLATFORMS"])
    assert re.search(r"^ARCH \?= x86_64$", makefile, re.M)
    assert hcl_locals["lambda_architecture"].endswith(', "x86_64")}')
    function = resource("lambda.tf", "aws_lambda_function", "this")
    assert function["architectures"] == ["${local.lambda_architecture}"]
    (lifecycle,) = function["lifecycle"]
    assert "local.packaged_architecture == local.lambda_architecture" in str(lifecycle)


# ---------------------------------------------------------------------------------------------
# Finding 14: EventBridge keeps what it cannot deliver, and the docs say how it retries
# ---------------------------------------------------------------------------------------------


def test_every_eventbridge_target_has_a_dead_letter_queue_and_a_retry_policy():
    blocks = load_hcl("events.tf")["resource"]
    targets = {
        name: body
        for block in blocks
        for name, body in block.get("aws_cloudwatch_event_target", {}).items()
    }

    assert set(targets) == {"job_state", "reconcile"}
    for name, target in targets.items():
        (dead_letters,) = target.get("dead_letter_config", [None])
        assert dead_letters is not None, name
        assert dead_letters["arn"] == "${aws_sqs_queue.dead_letters.arn}", name
        (policy,) = target["retry_policy"]
        assert 0 <= policy["maximum_retry_attempts"] <= 185, name  # EventBridge's range
        assert 60 <= policy["maximum_event_age_in_seconds"] <= 86400, name
    (queue_policy,) = merged(blocks)["aws_sqs_queue_policy"].values()
    assert queue_policy["queue_url"] == "${aws_sqs_queue.dead_letters.id}"


def test_docs_describe_eventbridge_retries_as_documented():
    docs = " ".join((TERRAFORM_DIR.parent / "docs" / "submitter.md").read_text().split())

    assert "retries the state Lambda for an hour" not in docs
    assert "24 hours and 185 attempts" in docs
    assert "exponential backoff and jitter" in docs


# ---------------------------------------------------------------------------------------------
# Finding 10: the ingest Lambda knows how many tags the job definition propagates
# ---------------------------------------------------------------------------------------------


def test_the_ingest_lambda_learns_how_many_tags_the_job_definition_adds(hcl_locals):
    definition = resource("batch.tf", "aws_batch_job_definition", "this")

    assert definition["propagate_tags"] is True
    # tags_all: the definition's own tags and the caller's provider default_tags
    assert hcl_locals["lambda_environment"][env.JOB_DEFINITION_TAG_COUNT] == (
        "${tostring(length(aws_batch_job_definition.this.tags_all))}"
    )


# ---------------------------------------------------------------------------------------------
# Finding 11: the execution role can pull the image the job definition names
# ---------------------------------------------------------------------------------------------


def test_image_uri_is_limited_to_images_the_execution_role_can_pull(hcl_locals):
    variables = merged(load_hcl("variables.tf")["variable"])
    (validation,) = variables["image_uri"]["validation"]
    iam = (TERRAFORM_DIR / "iam.tf").read_text()

    assert "dkr" in validation["condition"]
    assert "public" in validation["condition"]
    assert "resources = local.pull_repository_arns" in " ".join(iam.split())
    assert "[aws_ecr_repository.job.arn]" in hcl_locals["pull_repository_arns"]
    assert "repository/${local.image_ecr.repository}" in hcl_locals["pull_repository_arns"]
