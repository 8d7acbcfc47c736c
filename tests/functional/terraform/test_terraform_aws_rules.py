"""What AWS itself would hold against the stack, which neither moto nor `terraform validate` checks
(issue 12): Batch's enums and patterns, the caller-owned provider, the example the README tells
users to apply. Read from the HCL with python-hcl2; values from the AWS documentation."""

from __future__ import annotations

import re

from terraform_hcl import TERRAFORM_DIR, load_hcl, merged

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
