"""The example the README tells users to apply (terraform/examples/minimal) applied to a moto
server: one apply per module (about a minute and a half, most of it the provider waiting on job
queues, S3 lifecycle rules and SQS).

The production files stay untouched: terraform/ is copied to a temporary directory and a
test-only `e2e_override.tf` beside the example points its provider at the emulator and gives the
module what moto lacks and a real account has (a Batch service role: AWS would use its
service-linked one; AWS's managed policies are loaded by the fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from support.paths import ROOT

EXAMPLE = "examples/minimal"  # under terraform/: what the README's "Deploy to AWS" applies
REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Every service the stack's resources live in (the provider has no single endpoint setting).
SERVICES: tuple[str, ...] = ("batch", "cloudwatchlogs", "dynamodb", "ec2", "ecr", "events", "iam")
SERVICES += ("lambda", "s3", "sqs", "sts")

PROVIDER_OVERRIDE = """\
provider "aws" {{
  region                      = "{region}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


MODULE_OVERRIDE = """\
module "batchscore" {{
{arguments}
}}
"""


@dataclass(frozen=True)
class TerraformStack:
    endpoint: str
    outputs: dict[str, Any]
    workdir: Path | None = None  # where `terraform apply` ran (the example)
    env: dict[str, str] | None = None  # the environment terraform ran with

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, **CREDENTIALS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terraform_env() -> dict[str, str]:
    """The project's CLI config (providers from the offline mirror), written by the Makefile."""
    subprocess.run(["make", "-s", "-C", str(ROOT), "tf-config"], check=True)
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(ROOT / "build" / "terraformrc"),
        "TF_IN_AUTOMATION": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }


def terraform(workdir: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["terraform", *args, "-no-color"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"terraform {args[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr}")
    return result.stdout


def prepare_account(stack: TerraformStack) -> dict[str, Any]:
    """What a real account has before the apply and moto lacks: a role Batch can use (moto
    refuses a compute environment without one; AWS uses its service-linked role). The default
    VPC and its subnets, which the example looks up, moto has."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "batch.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    # moto insists on a service role where AWS would use its service-linked role.
    role = stack.client("iam").create_role(
        RoleName="e2e-batch-service", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    return {"batch_service_role_arn": role, "force_destroy": True}


def module_override(arguments: dict[str, Any]) -> str:
    """An override of the example's `module "batchscore"` block setting `arguments`."""
    lines = [f"  {name} = {json.dumps(value)}" for name, value in arguments.items()]
    return MODULE_OVERRIDE.format(arguments="\n".join(lines))


def placeholder_zip(directory: Path) -> Path:
    """`make package`'s output where the root module looks for it by default
    (`directory`/submitter.zip): moto stores the Lambda code but never runs it, so a placeholder
    stands in when none was built."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "submitter.zip"
    built = ROOT / "build" / "submitter.zip"
    if built.exists():
        shutil.copyfile(built, path)
        if built.with_suffix(".json").exists():  # what it was built for (lambda_architecture)
            shutil.copyfile(built.with_suffix(".json"), path.with_suffix(".json"))
        return path
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("submitter/__init__.py", "")
    return path
