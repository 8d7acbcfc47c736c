"""`batchscore check`: a dry run on a sample, exit 0 with the plan, or 2 with one line per problem
(missing column, wrong type, untrusted type), with `--json` for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from support import jobdata
from typer.testing import CliRunner

from submitter.cli.entrypoint import app

pytestmark = pytest.mark.slow  # scikit-learn models, fitted and scored


def write(tmp_path: Path, data: pa.Table, kind: str = "logreg", name: str = "data.parquet") -> Path:
    model = tmp_path / "model.skops"
    jobdata.save_model(jobdata.fit(kind), model)
    source = jobdata.write_table(data, tmp_path / "in" / name)
    document = jobdata.config(str(model), str(source), f"{tmp_path / 'out'}/")
    return jobdata.write_config(tmp_path / "job.json", document)


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout


def test_a_job_that_would_run_gets_its_plan(tmp_path: Path) -> None:
    config = write(tmp_path, jobdata.table(5_000))
    code, out = check(str(config))
    assert code == 0, out
    assert "the job would run" in out
    assert "5,000 rows" in out
    assert "output columns: id, prediction" in out or "output columns: prediction" in out
    code, out = check(str(config), "--json")
    report = json.loads(out)
    assert report["ok"] is True
    assert report["plan"]["rows"] == 5_000
    assert report["plan"]["rows_estimated"] is False
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_csv_rows_are_estimated(tmp_path: Path) -> None:
    config = write(tmp_path, jobdata.table(20_000), name="data.csv")
    code, out = check(str(config), "--json")
    plan = json.loads(out)["plan"]
    assert code == 0
    assert plan["rows_estimated"] is True
    assert 15_000 < plan["rows"] < 25_000


def test_a_missing_column_is_one_line_naming_it(tmp_path: Path) -> None:
    data = jobdata.table(1_000)
    missing = jobdata.FEATURES[-1]
    config = write(tmp_path, data.drop_columns([missing]))
    code, out = check(str(config))
    assert code == 2
    [line] = out.splitlines()
    assert missing in line
    assert line.startswith(f"{config}: input")


def test_a_value_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    data = jobdata.table(1_000)
    column = jobdata.FEATURES[0]
    text = pa.array(["12 months"] * data.num_rows)
    config = write(
        tmp_path, data.set_column(data.schema.get_field_index(column), column, text), name="d.csv"
    )
    code, out = check(str(config))
    assert code == 2
    [line] = out.splitlines()
    assert f"'{column}'" in line
    assert "not numeric" in line


def test_untrusted_types_are_listed_with_the_line_to_paste(tmp_path: Path) -> None:
    config = write(tmp_path, jobdata.table(1_000), kind="hgb")
    code, out = check(str(config))
    assert code == 2
    lines = out.splitlines()
    assert any(": model.trusted_types: " in line for line in lines)
    assert lines[-1].split("are trusted): ")[1].startswith('"trusted_types": ["sklearn.')


def test_the_plan_carries_a_cost_estimate_on_the_priority_s_first_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHSCORE_PLATFORM", "FARGATE")
    config = write(tmp_path, jobdata.table(5_000))
    code, out = check(str(config), "--json")
    assert code == 0, out
    report = json.loads(out)
    cost = report["estimated_cost"]
    seconds = report["plan"]["seconds_per_shard"]
    assert cost["attempts"] == report["plan"]["shards"] == 1
    assert cost["vcpu_seconds"] == pytest.approx(seconds, abs=1e-3)  # 1 vCPU by default
    assert "FARGATE_SPOT" in cost["basis"]  # `normal` prefers spot
    assert cost["spot_usd"] == cost["usd"] > 0  # Fargate's one-minute minimum at least
    code, out = check(str(config))
    assert "estimated cost: $" in out
