"""The container reliability tests' emulated AWS: a `Cloud` (the fault-injecting moto server's
S3 and DynamoDB, the job's record) and `python -m job run`, as a process or in this one."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from config import env
from support.faulty_moto import Faults
from support.moto_server import ServerAws
from support.paths import ROOT

# Small batches and parts: the 3000-row input becomes several parts, so faults and kills land
# between parts.
RUN_OPTIONS = ("--batch-rows", "250", "--part-rows", "500")


@dataclass
class Done:
    code: int
    lines: list[str]
    stderr: str

    def errors(self) -> str:
        found = []
        for line in self.lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "ERROR":
                found.append(entry.get("message", ""))
        return " | ".join(found)


@dataclass
class Cloud(ServerAws):
    """The emulated AWS of one test, its faults, and the job subprocess that uses it."""

    faults: Faults = field(default_factory=Faults)
    capsys: pytest.CaptureFixture[str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start_job(self, job_id: str, attempt: int = 1, *options: str) -> subprocess.Popen[str]:
        """`python -m job run` as Batch runs it: a process of its own."""
        return subprocess.Popen(
            [sys.executable, "-m", "job", "run", "--job-id", job_id, *(options or RUN_OPTIONS)],
            cwd=ROOT,
            env={**self.env, env.BATCH_JOB_ATTEMPT: str(attempt)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_job(self, job_id: str, attempt: int = 1, *options: str) -> Done:
        process = self.start_job(job_id, attempt, *options)
        try:
            stdout, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
        return Done(process.returncode, stdout.splitlines(), stderr)

    def run_here(self, job_id: str, attempt: int = 1, *options: str, shard: int = 0) -> Done:
        """The same command in this process (no interpreter start-up: seconds cheaper), for the
        runs that are not under test (clean references, retries after the faults stopped)."""
        from job.commands import main

        environment = {
            **self.env,
            env.BATCH_JOB_ATTEMPT: str(attempt),
            env.BATCH_ARRAY_INDEX: str(shard),
        }
        code = main(["run", "--job-id", job_id, *(options or RUN_OPTIONS)], environ=environment)
        assert self.capsys is not None, "run_here reads the output through capsys"
        return Done(code, self.capsys.readouterr().out.splitlines(), "")

    def commit_here(self, job_id: str) -> Done:
        """An array's commit job (`python -m job commit`), in this process."""
        from job.commands import main

        code = main(["commit", "--job-id", job_id], environ=dict(self.env))
        assert self.capsys is not None, "commit_here reads the output through capsys"
        return Done(code, self.capsys.readouterr().out.splitlines(), "")
