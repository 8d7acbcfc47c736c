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

from config import env
from submitter.local import image
from support.paths import ROOT
from support.recorded_calls import Recorder

EXAMPLE = "examples/minimal"  # under terraform/: what the README's "Deploy to AWS" applies
REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Every service the stack's resources live in (the provider has no single endpoint setting).
SERVICES: tuple[str, ...] = ("batch", "cloudwatchlogs", "dynamodb", "ec2", "ecr", "events", "iam")
SERVICES += ("lambda", "s3", "sqs", "sts")
SERVICES += ("cloudwatch", "kms", "sns")  # alarms, the notifications topic and its key
REALTIME_MODEL_KEY = "realtime/model.skops"  # where the e2e stack's endpoint reads its model

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
    recorder: Recorder | None = None  # every request the emulator answered, by access key

    def client(self, service: str, **credentials: str) -> Any:
        """A client of the emulator (`credentials`: a principal's own, e.g. an assumed role's)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            **(credentials or CREDENTIALS),
        )

    def aws_env(self) -> dict[str, str]:
        """The variables that point a process at the emulator."""
        return {
            env.AWS_ENDPOINT_URL: self.endpoint,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
        }

    def open_data_plane(self) -> None:
        """Make the buckets usable over the emulator's plain HTTP, once checked as applied:
        moto applies a bucket policy's Deny without reading its Condition, so the TLS-only
        policies would refuse every object call; and moto's S3 would invoke the notified Lambda
        in Docker (always, whatever its config says), leaking a socket when Docker is missing:
        tests hand the handler the event S3 would send. Idempotent."""
        s3 = self.client("s3")
        for output in ("jobs_bucket", "models_bucket", "results_bucket"):
            s3.delete_bucket_policy(Bucket=self.outputs[output])
        s3.put_bucket_notification_configuration(
            Bucket=self.outputs["jobs_bucket"], NotificationConfiguration={}
        )

    def role_policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The policy documents of a role as IAM holds them: inline and attached."""
        iam = self.client("iam")
        name = role_arn.rsplit("/", 1)[1]
        documents = [
            iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
            )
            documents.append(version["PolicyVersion"]["Document"])
        return [json.loads(d) if isinstance(d, str) else d for d in documents]

    def role_credentials(self, role_arn: str) -> dict[str, str]:
        """Temporary credentials of `role_arn` (boto3 keyword names): what it signs with."""
        found = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="tests")
        credentials = found["Credentials"]
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    def job_definition(self, arn: str | None = None) -> dict[str, Any]:
        arn = arn or self.outputs["job_definition_arn"]
        (definition,) = self.client("batch").describe_job_definitions(jobDefinitions=[arn])[
            "jobDefinitions"
        ]
        return dict(definition)

    def run_job(
        self,
        submitted: dict[str, Any],
        attempt: int = 1,
        environment: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The Batch job `submitted` (DescribeJobs' view) run as its registered job definition
        says and as the image runs it: its ENTRYPOINT + the command, from its WORKDIR, with its
        ENV, the definition's environment and what Batch sets (moto never runs containers);
        `environment` last (credentials, say)."""
        definition = self.job_definition(submitted["jobDefinition"])
        container = definition["containerProperties"]
        parameters = {**definition.get("parameters", {}), **submitted.get("parameters", {})}
        command = [parameters.get(arg.removeprefix("Ref::"), arg) for arg in container["command"]]
        run = image.load().local_run(command, host_env={"PATH": "/usr/bin:/bin"})
        job_env = {
            **run.env,
            **{item["name"]: item["value"] for item in container["environment"]},
            **self.aws_env(),
            env.BATCH_JOB_ID: submitted["jobId"],
            env.BATCH_JOB_ATTEMPT: str(attempt),
            **(environment or {}),
        }
        return subprocess.run(
            run.argv,
            cwd=run.cwd,
            env=job_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


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
    # The real-time endpoint on (off by default), so its role and environment are applied and
    # checked too; its model is put there by the IAM test (the apply does not read it).
    account = stack.client("sts").get_caller_identity()["Account"]
    realtime = {
        "model": {"uri": f"s3://batchscore-models-{account}-{REGION}/{REALTIME_MODEL_KEY}"},
        "passthrough": ["id"],
        "predict": "predict_proba",
    }
    return {
        "batch_service_role_arn": role,
        "force_destroy": True,
        "enable_realtime": True,
        "realtime_endpoint": realtime,
    }


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
