"""terraform/README.md's Inputs and Outputs tables are generated (scripts/terraform_docs.py):
the committed ones match the .tf files, and `--check` catches a stale one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "terraform_docs.py"


def run_docs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def copy_of_terraform(tmp_path: Path) -> Path:
    for name in ("README.md", "variables.tf", "outputs.tf"):
        shutil.copy(ROOT / "terraform" / name, tmp_path / name)
    return tmp_path


def test_the_committed_tables_are_up_to_date() -> None:
    result = run_docs("--check")
    assert result.returncode == 0, result.stderr + "\n(run `make docs` and commit the README)"


def test_check_fails_on_a_stale_table_and_the_generator_mends_it(tmp_path: Path) -> None:
    # GIVEN a variable whose description changed without regenerating the README
    directory = copy_of_terraform(tmp_path)
    variables = directory / "variables.tf"
    old = "Days CloudWatch keeps the Lambdas' and jobs' logs."
    assert old in variables.read_text()
    variables.write_text(variables.read_text().replace(old, "Days | of logs."))

    # THEN --check fails and leaves the README alone
    readme_before = (directory / "README.md").read_text()
    stale = run_docs("--check", "--terraform-dir", str(directory))
    assert stale.returncode == 1
    assert "stale" in stale.stderr
    assert (directory / "README.md").read_text() == readme_before

    # AND regenerating puts the new description in its row (a `|` escaped), then --check passes
    assert run_docs("--terraform-dir", str(directory)).returncode == 0
    readme = (directory / "README.md").read_text()
    assert "| `log_retention_days` | `number` | `30` | Days \\| of logs. |" in readme
    assert run_docs("--check", "--terraform-dir", str(directory)).returncode == 0


def test_a_new_output_gets_a_row(tmp_path: Path) -> None:
    directory = copy_of_terraform(tmp_path)
    outputs = directory / "outputs.tf"
    outputs.write_text(
        outputs.read_text() + '\noutput "extra" {\n  description = "One more."\n  value = 1\n}\n'
    )
    assert run_docs("--check", "--terraform-dir", str(directory)).returncode == 1
    assert run_docs("--terraform-dir", str(directory)).returncode == 0
    assert "| `extra` | One more. |\n<!-- END" in (directory / "README.md").read_text()
