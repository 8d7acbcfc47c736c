"""The `terraform_stack` fixture: the root config applied to a moto server once per module
(helpers in `support.terraform_stack`)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator

import pytest
import requests
from support.paths import ROOT
from support.terraform_stack import (
    PROVIDER_OVERRIDE,
    REGION,
    SERVICES,
    TerraformStack,
    free_port,
    placeholder_zip,
    prepare_account,
    terraform,
    terraform_env,
)


@pytest.fixture(scope="module")
def terraform_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformStack]:
    from moto.iam.models import iam_backends
    from moto.server import ThreadedMotoServer

    workdir = tmp_path_factory.mktemp("terraform") / "stack"
    shutil.copytree(
        ROOT / "terraform",
        workdir,
        ignore=shutil.ignore_patterns(".terraform", "tests", "examples", "*.tfstate*"),
    )
    env = terraform_env()

    # The instance role attaches AmazonEC2ContainerServiceforEC2Role: moto must know AWS's policies.
    previous = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    iam_backends.reset()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        # moto would try Docker for every submitted Batch job and for the Lambda that S3 notifies
        # (leaking a socket when Docker is missing); its simple backends run nothing. The test
        # calls the handler and runs the job itself.
        requests.post(
            f"{endpoint}/moto-api/config", json={"batch": {"use_docker": False}}, timeout=10
        )
        endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
        (workdir / "provider_override.tf").write_text(
            PROVIDER_OVERRIDE.format(region=REGION, endpoints=endpoints)
        )
        variables = prepare_account(TerraformStack(endpoint, {}))
        variables["submitter_zip"] = str(placeholder_zip(workdir.parent))
        variables["region"] = REGION
        (workdir / "e2e.auto.tfvars.json").write_text(json.dumps(variables))

        terraform(workdir, env, "init", "-backend=false", "-input=false")
        terraform(workdir, env, "apply", "-auto-approve", "-input=false")
        outputs = json.loads(terraform(workdir, env, "output", "-json"))
        yield TerraformStack(endpoint, {name: output["value"] for name, output in outputs.items()})
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = previous
        iam_backends.reset()
