"""The README's shell blocks stay true: each is run here, or says which test runs it, or why it
cannot run on this machine (an HTML comment `<!-- readme-test: ... -->` right above the block)."""

from __future__ import annotations

import re
import subprocess

import pytest
from support.paths import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(
    r"(?P<marker><!-- readme-test: (?P<how>[^>]*) -->\n)?```sh\n(?P<body>.*?)```", re.S
)


def blocks() -> list[tuple[str, str]]:
    return [(m["how"] or "", m["body"]) for m in BLOCK.finditer(README.read_text())]


def test_every_shell_block_says_how_it_is_kept_true() -> None:
    found = blocks()
    assert found, "no shell block in the README"
    for how, body in found:
        assert how, f"a README shell block has no readme-test marker:\n{body}"
        if how.startswith("by "):
            test_file = how.removeprefix("by ").split("::")[0].strip()
            assert (ROOT / test_file).is_file(), f"{test_file} does not exist"
        else:
            assert how == "run" or re.match(r"not run: \S", how), how


@pytest.mark.parametrize(
    "body", [body for how, body in blocks() if how == "run"], ids=lambda body: body.split()[1]
)
def test_runnable_blocks_run(body: str) -> None:
    script = f"set -euo pipefail\nsource {ROOT / '.venv' / 'bin' / 'activate'}\n{body}"
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
