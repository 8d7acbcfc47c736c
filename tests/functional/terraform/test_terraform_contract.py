"""The Terraform code and the Python contract say the same things: table layout, retry rules,
queue names and priorities, environment variable names, handler names. Read from the HCL with
python-hcl2, no terraform run needed."""

from __future__ import annotations

import re
import runpy

import pytest
from support.paths import TERRAFORM_DIR
from support.terraform_hcl import load_hcl, merged, resource

from config import env, records, retry
from config.deployment import DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS, DEFAULT_QUEUE_PRIORITIES
from config.models import DEFAULT_QUEUES

ENV_NAMES = {value for name, value in vars(env).items() if name.isupper()}
RULE_KEYS = {
    "on_status_reason": "onStatusReason",
    "on_exit_code": "onExitCode",
    "on_reason": "onReason",
}


def test_retry_rules_equal_config_retry_in_order(hcl_locals):
    rules = [
        {RULE_KEYS.get(key, key): value for key, value in rule.items() if value is not None}
        for rule in hcl_locals["retry_rules"]
    ]

    assert rules == [dict(rule) for rule in retry.EVALUATE_ON_EXIT]


def test_default_queues_and_priorities_equal_config():
    queues = merged(load_hcl("variables.tf")["variable"])["queues"]["default"]

    assert tuple(queues) == DEFAULT_QUEUES
    assert {name: queue["priority"] for name, queue in queues.items()} == DEFAULT_QUEUE_PRIORITIES
    # The local Batch orders compute environments as Terraform does ("on_demand" is "on-demand").
    orders = {
        name: tuple(ce.replace("_", "-") for ce in q["compute_order"]) for name, q in queues.items()
    }
    assert orders == DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS


def test_table_layout_equals_records_table_definition():
    table = resource("storage.tf", "aws_dynamodb_table", "jobs")
    expected = records.table_definition("any")
    indexes = {i["IndexName"]: i for i in expected["GlobalSecondaryIndexes"]}

    assert {(a["name"], a["type"]) for a in table["attribute"]} == {
        (a["AttributeName"], a["AttributeType"]) for a in expected["AttributeDefinitions"]
    }
    assert table["hash_key"] == records.KEY
    assert table["billing_mode"] == expected["BillingMode"]
    declared = {gsi["name"]: gsi for gsi in table["global_secondary_index"]}
    assert set(declared) == set(indexes) == {records.STATUS_INDEX, records.NAME_INDEX}
    for name, index in indexes.items():
        gsi = declared[name]
        keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
        projection = index["Projection"]
        assert (gsi["hash_key"], gsi["range_key"], gsi["projection_type"]) == (
            keys["HASH"],
            keys["RANGE"],
            projection["ProjectionType"],
        )
        assert gsi.get("non_key_attributes") == projection.get("NonKeyAttributes")
    assert table["ttl"][0] == {"attribute_name": records.TTL_ATTRIBUTE, "enabled": True} | {
        "__is_block__": True
    }
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True


@pytest.mark.parametrize("name", ["lambda_environment", "job_environment"])
def test_environment_names_come_from_config_env(hcl_locals, name):
    names = set(hcl_locals[name]) - {"AWS_DEFAULT_REGION"}

    assert names <= ENV_NAMES, f"not in config/env.py: {sorted(names - ENV_NAMES)}"
    assert env.TABLE_NAME in names


class _Recording(dict):
    """A mapping that notes every variable read from it (and answers a plausible value)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return {env.QUEUES: "high,normal,low", env.PLATFORM: "EC2"}.get(key, "1")


def test_lambda_environment_carries_what_the_submitter_reads(hcl_locals):
    from submitter.settings import Settings

    environ = _Recording()
    Settings.from_env(environ)
    # Every variable the Lambdas' settings read is set by Terraform: none is left to a default
    # that disagrees with the stack (an output bucket the job role cannot write, say).
    tuning = {env.REJECTED_PREFIX}
    assert environ.read - tuning <= set(hcl_locals["lambda_environment"])
    assert {env.TABLE_NAME, env.ALLOWED_BUCKETS, env.WRITE_BUCKETS} <= environ.read


def test_lambda_handlers_follow_the_agreed_names(hcl_locals):
    handlers = {key: value["handler"] for key, value in hcl_locals["lambdas"].items()}

    assert handlers == {
        "ingest": "submitter.ingest_handler.handler",
        "state": "submitter.state_handler.handler",
    }


def test_compute_environments_are_safe_to_update():
    ce = resource("batch.tf", "aws_batch_compute_environment", "this")
    compute = ce["compute_resources"][0]

    assert "compute_environment_name_prefix" in ce
    assert "compute_environment_name" not in ce
    assert "desired_vcpus" not in compute
    assert ce["lifecycle"][0]["create_before_destroy"] is True


def test_every_checkov_skip_gives_a_reason():
    skips = [
        (path.name, line.strip())
        for path in TERRAFORM_DIR.rglob("*.tf")
        if ".terraform" not in path.parts
        for line in path.read_text().splitlines()
        if "checkov:skip" in line
    ]

    assert skips, "expected inline skips (the stack has some)"
    for file, line in skips:
        assert re.search(r"#checkov:skip=CKV2?_AWS_\d+:\S.{20,}", line), f"{file}: {line}"


def test_the_zip_is_compiled_for_the_runtime_terraform_deploys():
    """Bytecode of another minor version is ignored: every cold start would compile again."""
    script = TERRAFORM_DIR.parent / "scripts" / "package_submitter.py"
    packaged_for = runpy.run_path(str(script))["LAMBDA_PYTHON"]

    runtime = merged(load_hcl("variables.tf")["variable"])["lambda_runtime"]["default"]
    assert runtime == f"python{packaged_for}"


def test_every_variable_and_output_is_described_and_typed():
    variables = merged(load_hcl("variables.tf")["variable"])
    outputs = merged(load_hcl("outputs.tf")["output"])

    assert all("description" in v and "type" in v for v in variables.values())
    assert all("description" in o for o in outputs.values())


def test_readme_lists_every_input_and_output():
    readme = (TERRAFORM_DIR / "README.md").read_text()
    variables = merged(load_hcl("variables.tf")["variable"])
    outputs = merged(load_hcl("outputs.tf")["output"])
    names = [*variables, *outputs]

    assert [name for name in names if f"| `{name}` |" not in readme] == []
