"""The Terraform stack applied to a moto server: one apply per module (about a minute and a half,
most of it the provider waiting on job queues, S3 lifecycle rules and SQS).

The production files stay untouched: the root config is copied to a temporary directory and a
test-only `provider_override.tf` points the provider at the emulator. moto needs a network, a
Batch service role and AWS's managed policies, which a real account has; the fixture creates the
first two and loads the third.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from support.paths import ROOT

REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Every service the stack's resources live in (the provider has no single endpoint setting).
SERVICES = ("batch", "cloudwatchlogs", "dynamodb", "ec2", "ecr", "events", "iam", "lambda", "s3")
SERVICES += ("sqs", "sts")

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


@dataclass(frozen=True)
class TerraformStack:
    endpoint: str
    outputs: dict[str, Any]

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
    """What a real account has before the apply: subnets, a security group, a role for Batch."""
    ec2 = stack.client("ec2")
    subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
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
    return {
        "subnet_ids": subnets,
        "security_group_ids": [group],
        "batch_service_role_arn": role,
        "force_destroy": True,
    }


def placeholder_zip(directory: Path) -> Path:
    """moto stores the Lambda code but never runs it: any zip will do when none was built."""
    built = ROOT / "build" / "submitter.zip"
    if built.exists():
        return built
    path = directory / "submitter.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("submitter/__init__.py", "")
    return path
