"""The README's walkthrough, as a newcomer runs it in a fresh shell with only what the README says:
a config with local paths, scored with `batchscore score`, then submitted with `submit --wait` to
`batchscore local up`, then its output fetched with the command `submit` printed (the AWS CLI)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support import jobdata
from support.paths import ROOT

pytestmark = pytest.mark.slow

AWS_CLI = ROOT / ".tools" / "awscli" / "bin" / "aws"


def shell(command: str, cwd: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` in bash after the README's set-up line, as a user types it."""
    script = f"source {ROOT / '.venv' / 'bin' / 'activate'} && {command}"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=environ, capture_output=True, text=True, check=False
    )


@pytest.fixture
def fresh_shell(tmp_path: Path) -> dict[str, str]:
    """A shell's environment: no BATCHSCORE_* or AWS_* variables, its own local-stack state."""
    keep = {"PATH", "HOME", "LANG", "TMPDIR"}
    environ = {k: v for k, v in os.environ.items() if k in keep}
    environ["PATH"] = f"{AWS_CLI.parent}:{environ.get('PATH', '')}"
    environ["BATCHSCORE_LOCAL_STATE"] = str(tmp_path / "state" / "local.json")
    return environ


@pytest.fixture
def local_up(tmp_path: Path, fresh_shell: dict[str, str]) -> Iterator[dict[str, str]]:
    """`batchscore local up` in the background; the `export` lines it prints, as a dict."""
    assert subprocess.run(["make", "-s", "-C", str(ROOT), "awscli"], check=False).returncode == 0
    log = (tmp_path / "local-up.log").open("w")
    process = subprocess.Popen(
        ["bash", "-c", f"source {ROOT / '.venv' / 'bin' / 'activate'} && exec batchscore local up"],
        cwd=tmp_path,
        env=fresh_shell,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        exports: dict[str, str] = {}
        while not exports:
            assert process.poll() is None, (tmp_path / "local-up.log").read_text()
            assert time.monotonic() < deadline, "local up did not start in time"
            time.sleep(0.5)
            text = (tmp_path / "local-up.log").read_text()
            exports = dict(re.findall(r"^export (\w+)='([^']*)'$", text, re.MULTILINE))
        yield exports
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def test_score_then_submit_then_fetch(
    tmp_path: Path, fresh_shell: dict[str, str], local_up: dict[str, str]
) -> None:
    # GIVEN a model and an input on the laptop, and a config naming them by relative paths
    work = tmp_path / "work"
    work.mkdir()
    jobdata.save_model(jobdata.fit(), work / "model.skops")
    jobdata.write_table(jobdata.table(3_000), work / "data" / "customers.parquet")
    document = jobdata.config("model.skops", "data/customers.parquet", "scores/")
    (work / "job.json").write_text(json.dumps(document))

    # WHEN it is scored here (README: `batchscore score my-job.json`)
    scored = shell("batchscore score job.json", work, fresh_shell)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("scored 3,000 rows")

    # AND submitted to the local stack as it is, and followed to its end
    (work / "scores").rename(work / "scored-here")
    submitted = shell("batchscore submit job.json --wait --timeout 300", work, fresh_shell)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert "staged " in submitted.stdout  # the model and the input went to the data bucket
    [fetch] = re.findall(r"^fetch the output: (.+)$", submitted.stdout, re.MULTILINE)

    # THEN the command it printed fetches the output where the config said it would be
    with_credentials = fresh_shell | local_up  # the `export` lines `local up` printed
    fetched = shell(fetch, work, with_credentials)
    assert fetched.returncode == 0, fetched.stderr
    assert shlex.split(fetch)[-1].rstrip("/") == str(work / "scores")
    manifest = json.loads((work / "scores" / "_manifest.json").read_text())
    assert manifest["rows"] == 3_000
    parts = sorted((work / "scores").glob("part-*.parquet"))
    assert sum(pq.read_metadata(part).num_rows for part in parts) == 3_000
