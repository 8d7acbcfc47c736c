"""Where the CLI's jobs live: a deployment in AWS or the local stack, found in this order:

1. `--local`, or a running `batchscore local up` (its state file) when nothing else is configured;
2. the `BATCHSCORE_*` variables of the environment (what the Lambdas see);
3. `terraform output -json` of `--terraform-dir` / `$BATCHSCORE_TERRAFORM_DIR` (its `environment`
   output holds the same variables).

A `Target` is only names and endpoints; clients are made from it with plain boto3, so the CLI talks
to AWS and to the local stack the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from config import env
from config.records import get_record
from submitter.cli.errors import require_extra
from submitter.exceptions import JobNotFoundError, SubmitterError
from submitter.local.state import read_state

BATCH_LOG_GROUP = "/aws/batch/job"  # where Batch's awslogs driver writes unless told otherwise


class TargetError(SubmitterError):
    """No deployment could be found, or it is missing a setting a command needs."""


@dataclass(frozen=True)
class Target:
    kind: str  # "local" | "aws"
    variables: Mapping[str, str] = field(default_factory=dict)

    def setting(self, name: str) -> str:
        value = self.variables.get(name, "").strip()
        if not value:
            raise TargetError(f"the deployment does not say {name}")
        return value

    @property
    def table(self) -> str:
        return self.setting(env.TABLE_NAME)

    @property
    def jobs_bucket(self) -> str:
        return self.setting(env.JOBS_BUCKET)

    @property
    def log_group(self) -> str:
        return self.variables.get(env.LOG_GROUP) or BATCH_LOG_GROUP

    def client(self, service: str) -> Any:
        """A boto3 client for `service`, honouring the target's endpoints and credentials."""
        import boto3
        from botocore.config import Config

        endpoint = self.variables.get(f"AWS_ENDPOINT_URL_{service.upper()}") or self.variables.get(
            env.AWS_ENDPOINT_URL
        )
        return boto3.client(
            service,
            endpoint_url=endpoint or None,
            region_name=self.variables.get("AWS_DEFAULT_REGION") or None,
            aws_access_key_id=self.variables.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=self.variables.get("AWS_SECRET_ACCESS_KEY") or None,
            # SubmitJob has no idempotency token: botocore re-sending it after a 5xx could make a
            # second job (see ingest_handler); the submitter retries throttling itself.
            config=Config(
                retries={"total_max_attempts": 1} if service == "batch" else {"mode": "standard"}
            ),
        )


def resolve(
    *,
    local: bool = False,
    terraform_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    require_extra("submitter", "boto3")  # every command that needs a deployment calls AWS
    environ = os.environ if environ is None else environ
    if local:
        return _local_target(required=True)
    if environ.get(env.TABLE_NAME):
        return Target("aws", dict(environ))
    directory = terraform_dir or (
        Path(environ[env.TERRAFORM_DIR]) if environ.get(env.TERRAFORM_DIR) else None
    )
    if directory is not None:
        return Target("aws", dict(environ) | terraform_variables(directory))
    found = _local_target(required=False)
    if found is not None:
        return found
    raise TargetError(
        "no deployment found: start one with `batchscore local up`, export the BATCHSCORE_* "
        "variables, or pass --terraform-dir"
    )


@overload
def _local_target(*, required: Literal[True]) -> Target: ...
@overload
def _local_target(*, required: bool) -> Target | None: ...
def _local_target(*, required: bool) -> Target | None:
    state = read_state()
    if state is None:
        if required:
            raise TargetError("no local stack runs: start one with `batchscore local up`")
        return None
    return Target("local", dict(state["env"]))


def terraform_variables(directory: Path) -> dict[str, str]:
    """The Lambdas' environment as `terraform output -json` reports it."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise TargetError("terraform is not on PATH (needed to read --terraform-dir outputs)")
    result = subprocess.run(
        [terraform, f"-chdir={directory}", "output", "-json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TargetError(f"terraform output failed in {directory}: {result.stderr.strip()[:300]}")
    outputs = json.loads(result.stdout or "{}")
    if "environment" not in outputs:
        raise TargetError(f"{directory} has no `environment` output: was the stack applied?")
    variables = {k: str(v) for k, v in outputs["environment"]["value"].items()}
    if "job_log_group" in outputs:
        variables[env.LOG_GROUP] = outputs["job_log_group"]["value"]
    return variables


def find_record(target: Target, job_id: str) -> dict[str, Any]:
    """The job's record; JobNotFoundError when the table has none."""
    record = get_record(target.client("dynamodb"), target.table, job_id)
    if record is None:
        raise JobNotFoundError(job_id)
    return record
