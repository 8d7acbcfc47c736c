"""The Makefile's Terraform set-up on machines unlike this one: the offline provider mirror is used
only where it exists, and a machine without terraform stops `make test` at once, in one line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from support.paths import ROOT


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_mirror_is_used_when_it_exists(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rc = tmp_path / "terraformrc"
    assert make("tf-config", f"TF_PLUGIN_MIRROR={mirror}", f"TF_RC={rc}").returncode == 0
    assert f'path    = "{mirror}"' in rc.read_text()


def test_without_a_mirror_providers_come_from_the_registry(tmp_path: Path) -> None:
    rc = tmp_path / "terraformrc"
    result = make("tf-config", f"TF_PLUGIN_MIRROR={tmp_path / 'absent'}", f"TF_RC={rc}")
    assert result.returncode == 0, result.stderr
    assert "filesystem_mirror" not in rc.read_text()


def test_no_terraform_stops_at_once_in_one_line(tmp_path: Path) -> None:
    result = make("tf-require", f"TF={tmp_path / 'no-terraform'}")
    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert line.startswith("error: terraform")
    assert "install" in line


def test_make_test_checks_for_terraform_before_any_test() -> None:
    rule = re.search(r"^test:([^#\n]*)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert rule is not None
    assert "tf-require" in rule.group(1).split()
