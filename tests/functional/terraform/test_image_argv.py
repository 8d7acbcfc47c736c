"""Contract: what the container runs on AWS Batch. Batch's `command` is Docker's Cmd, so the
process is the image's ENTRYPOINT (from job/Dockerfile) followed by the job definition's
`command` (from terraform/batch.tf) with its `Ref::` parameters substituted. No Docker engine
here: both are read from their sources and joined as Docker joins them (submitter.local.image,
the same join the local Batch runs)."""

from __future__ import annotations

import re

from support.terraform_hcl import job_definition_command, job_definition_container

from job.commands import parser
from submitter.local import image, jobs

PARAMETERS = {"job_id": "job-1", "config_sha256": "ab" * 32}  # what submit_request sends


def test_the_container_runs_python_m_job_run_with_the_job_id_and_the_config_digest():
    command = jobs.substitute(job_definition_command(), PARAMETERS)

    argv = image.load().argv(command)

    assert argv == [
        *("python", "-m", "job", "run", "--job-id", "job-1"),
        *("--config-sha256", "ab" * 32),
    ]


def test_the_job_cli_accepts_the_containers_arguments():
    argv = image.load().argv(jobs.substitute(job_definition_command(), PARAMETERS))
    assert argv[:3] == ["python", "-m", "job"]

    arguments = parser().parse_args(argv[3:])  # argparse exits 2 on what it does not accept

    assert (arguments.command, arguments.job_id, arguments.config_sha256) == (
        "run",
        "job-1",
        "ab" * 32,
    )


def test_the_local_job_definition_runs_what_terraforms_runs():
    assert list(jobs.JOB_COMMAND) == job_definition_command()


def test_the_image_finds_python_and_the_job_package():
    built = image.load()
    assert built.final.env["PATH"].split(":")[0] + "/python" in {
        f"{copy.dest.rstrip('/')}/bin/python" for copy in built.final.copies if copy.stage
    }, "ENV PATH must start with the venv copied from the build stage"
    copied = {copy.dest.rstrip("/") for copy in built.final.copies if copy.stage is None}
    assert f"{built.final.workdir}/job" in copied  # `python -m job` from WORKDIR finds it
    assert f"{built.final.workdir}/config" in copied


def test_the_local_batch_registers_the_terraform_command():
    assert list(jobs.default_job_definition().command) == job_definition_command()


def test_the_job_gets_an_init_process_to_forward_sigterm():
    # Python as PID 1 has no default action for SIGTERM; the job handles it (exit 3), and an
    # init process as PID 1 forwards it (and reaps children).
    assert re.search(
        r"linuxParameters\s*=\s*\{\s*initProcessEnabled\s*=\s*true\s*\}", job_definition_container()
    )
