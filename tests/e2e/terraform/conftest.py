"""The `terraform_stack` fixture: terraform/examples/minimal (what the README applies) applied
to a moto server once for this folder's modules (helpers in `support.terraform_stack`); the
server notes every request it answers (`TerraformStack.recorder`)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator

import pytest
import requests
from support.moto_middleware import MiddlewareMotoServer
from support.paths import ROOT
from support.recorded_calls import Recorder
from support.terraform_stack import (
    EXAMPLE,
    PROVIDER_OVERRIDE,
    REGION,
    SERVICES,
    TerraformStack,
    module_override,
    placeholder_zip,
    prepare_account,
    terraform,
    terraform_env,
)


@pytest.fixture(scope="package")
def terraform_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformStack]:
    from moto.iam.models import iam_backends

    # The layout the README's steps use: the repository's terraform/ (the example's module source
    # is ../..) beside build/submitter.zip, the Lambda bundle's default path.
    root = tmp_path_factory.mktemp("terraform")
    shutil.copytree(
        ROOT / "terraform",
        root / "terraform",
        ignore=shutil.ignore_patterns(".terraform", "tests", "*.tfstate*", "*override.tf"),
    )
    workdir = root / "terraform" / EXAMPLE
    placeholder_zip(root / "build")
    env = terraform_env()

    # The instance role attaches AmazonEC2ContainerServiceforEC2Role: moto must know AWS's policies.
    previous = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    iam_backends.reset()
    recorder = Recorder()
    server = MiddlewareMotoServer(recorder.middleware)
    server.start()
    port = server.get_host_and_port()[1]
    try:
        endpoint = f"http://127.0.0.1:{port}"
        # moto would try Docker for every submitted Batch job and for the Lambda that S3 notifies
        # (leaking a socket when Docker is missing); its simple backends run nothing. The test
        # calls the handler and runs the job itself. Lambda: the upload queue's event source
        # mapping makes moto invoke the ingest Lambda (in Docker) for every message it receives,
        # S3's own s3:TestEvent included.
        requests.post(
            f"{endpoint}/moto-api/config",
            json={"batch": {"use_docker": False}, "lambda": {"use_docker": False}},
            timeout=10,
        )
        # The example as the README applies it; the emulator's endpoints and what moto lacks
        # come in one test-only override file (Terraform merges it into the example's blocks).
        endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
        # Alarms and dashboard on (off by default): applied too (test_terraform_monitoring.py).
        monitoring = {"alarms_enabled": True, "dashboard_enabled": True}
        module = module_override(prepare_account(TerraformStack(endpoint, {})) | monitoring)
        (workdir / "e2e_override.tf").write_text(
            PROVIDER_OVERRIDE.format(region=REGION, endpoints=endpoints) + module
        )

        terraform(workdir, env, "init", "-input=false")
        terraform(workdir, env, "apply", "-auto-approve", "-input=false")
        outputs = json.loads(terraform(workdir, env, "output", "-json"))
        yield TerraformStack(
            endpoint,
            {name: output["value"] for name, output in outputs.items()},
            workdir,
            env,
            recorder,
        )
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = previous
        iam_backends.reset()
