"""`python -m job score` on local files: formats, prefixes, errors and exit codes, commits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression
from support import jobdata

from config.retry import EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT
from job.exceptions import TransientError


def summary(lines: list[str]) -> dict:
    return json.loads(lines[-1])


def logs(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines[:-1]]


def errors(lines: list[str]) -> str:
    return " ".join(
        json.dumps(line) for line in map(json.loads, lines) if line.get("level") == "ERROR"
    )


@pytest.mark.parametrize(
    ("source", "target"),
    [("parquet", "parquet"), ("csv", "csv"), ("csv", "parquet"), ("parquet", "csv")],
)
def test_scores_every_row_once_in_either_format(scratch, run_score, source, target) -> None:
    data = jobdata.table(3000)
    path = jobdata.write_table(data, scratch.root / "in" / f"data.{source}")
    document = scratch.config(
        **{"input.uri": str(path), "output.format": target, "output.predict": "predict_proba"}
    )

    code, lines = run_score(document, "--batch-rows", "700", "--part-rows", "1000")

    assert code == EXIT_OK
    assert summary(lines) == {
        "rows": 3000,
        "seconds": summary(lines)["seconds"],
        "output": f"file://{scratch.output}/",
    }
    manifest = scratch.manifest()
    result = jobdata.read_output(manifest)
    assert result.column_names == ["id", "proba_0", "proba_1"]
    assert result["id"].to_pylist() == list(range(3000))
    expected = jobdata.expected_proba(scratch.estimator, data)
    np.testing.assert_allclose(result["proba_1"].to_numpy(), expected[:, 1], rtol=1e-12)
    assert manifest["rows"] == 3000 == sum(p["rows"] for p in manifest["parts"])
    # Parts roll between batches once they hold 1000 rows.
    assert len(manifest["parts"]) > 1
    assert all(p["rows"] >= 1000 for p in manifest["parts"][:-1])
    assert manifest["model_sha256"] == hashlib.sha256(scratch.model.read_bytes()).hexdigest()
    assert {"job_id", "config_sha256", "timings", "started_at", "finished_at"} <= set(manifest)


def test_logs_are_json_lines_with_the_job_and_the_summary_is_last(scratch, run_score) -> None:
    code, lines = run_score(scratch.config(job_id="job-7"))
    assert code == EXIT_OK
    entries = logs(lines)
    assert entries
    assert all(e["job_id"] == "job-7" for e in entries)
    assert any(e["message"] == "scored" and e["rows"] == 3000 and "rate" in e for e in entries)
    assert set(summary(lines)) == {"rows", "seconds", "output"}


def test_a_prefix_reads_every_matching_file_below_it(scratch, run_score) -> None:
    data = jobdata.table(3000)
    folder = scratch.root / "many"
    jobdata.write_files(data.slice(0, 2000), folder, ".csv", 2)
    jobdata.write_files(data.slice(2000), folder / "nested", ".csv", 2)
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden.csv").write_text("junk")
    (folder / "notes.txt").write_text("not input")

    code, lines = run_score(scratch.config(**{"input.uri": f"{folder}/", "input.format": "csv"}))

    assert code == EXIT_OK, lines
    assert jobdata.read_output(scratch.manifest())["id"].to_pylist() == list(range(3000))


def test_csv_integers_then_floats_in_a_feature(scratch, run_score) -> None:
    # pyarrow infers types from the first block; features are read as float64 regardless.
    rows = ["id,f0,f1,f2,f3"] + [f"{i},1,2,3,4" for i in range(20000)] + ["20000,0.5,2,3,4"]
    path = scratch.root / "drift.csv"
    path.write_text("\n".join(rows) + "\n")
    code, lines = run_score(scratch.config(**{"input.uri": str(path)}), "--batch-rows", "100")
    assert code == EXIT_OK, lines
    assert summary(lines)["rows"] == 20001


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"shards": "two"}, "shards"),
        ({"input.uri": "/nowhere/data.parquet"}, "input.uri: /nowhere/data.parquet does not exist"),
        ({"input.uri": "/nowhere/", "input.format": "csv"}, "input.uri: no csv files"),
        (
            {"input.features": ["f0", "f1", "f2", "f3", "nope"]},
            "input.features: column(s) not in the input: nope",
        ),
        (
            {"input.features": ["f0", "f1", "f2"]},
            "missing feature(s) the model was fitted with: f3",
        ),
        ({"output.passthrough": ["key"]}, "output.passthrough: column(s) not in the input: key"),
        ({"model.uri": "/nowhere/model.skops"}, "not found"),
    ],
)
def test_permanent_errors_exit_2_and_say_what(scratch, run_score, change, expected) -> None:
    code, lines = run_score(scratch.config(**change))
    assert code == EXIT_PERMANENT
    assert expected in errors(lines)
    assert not (scratch.output / "_manifest.json").exists()


def test_an_unreadable_input_file_is_permanent(scratch, run_score) -> None:
    bad = scratch.root / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    code, lines = run_score(scratch.config(**{"input.uri": str(bad)}))
    assert code == EXIT_PERMANENT
    assert "not a Parquet file" in errors(lines)


def test_untrusted_skops_types_exit_2_and_are_listed(scratch, run_score) -> None:
    model = scratch.root / "hgb.skops"
    pin = jobdata.save_model(jobdata.fit("hgb"), model)
    code, lines = run_score(scratch.config(**{"model.uri": str(model)}))
    assert code == EXIT_PERMANENT
    assert jobdata.HGB_TYPES[0] in errors(lines)

    trusted = {"model.uri": str(model), "model.trusted_types": jobdata.HGB_TYPES}
    code, lines = run_score(scratch.config(**trusted, **{"model.sha256": pin}))
    assert code == EXIT_OK


def test_a_changed_pickle_exits_2(scratch, run_score) -> None:
    model = scratch.root / "model.pkl"
    pinned = jobdata.save_model(jobdata.fit(), model)
    jobdata.save_model(jobdata.fit(rows=300), model)  # replaced after pinning
    code, lines = run_score(scratch.config(**{"model.uri": str(model), "model.sha256": pinned}))
    assert code == EXIT_PERMANENT
    assert "model.sha256" in errors(lines)


def test_predict_proba_on_a_regressor_exits_2(scratch, run_score) -> None:
    model = scratch.root / "reg.skops"
    frame = jobdata.table(100).select(jobdata.FEATURES).to_pandas()
    jobdata.save_model(LinearRegression().fit(frame, np.arange(100)), model)
    code, lines = run_score(
        scratch.config(**{"model.uri": str(model), "output.predict": "predict_proba"})
    )
    assert code == EXIT_PERMANENT
    assert "output.predict: the model has no predict_proba()" in errors(lines)


def test_data_the_model_refuses_exits_2(scratch, run_score) -> None:
    data = jobdata.table(3000).to_pydict()
    data["f2"][2500] = None
    path = jobdata.write_table(pa.table(data), scratch.root / "nan.parquet")
    code, lines = run_score(scratch.config(**{"input.uri": str(path)}))
    assert code == EXIT_PERMANENT
    assert "NaN" in errors(lines)


def test_a_transient_error_exits_3(scratch, run_score, monkeypatch) -> None:
    def throttled(*_args, **_kwargs):
        raise TransientError("reading model: SlowDown")

    monkeypatch.setattr("job.models.read_bytes", throttled)  # the model's read
    code, lines = run_score(scratch.config())
    assert code == EXIT_TRANSIENT
    assert "SlowDown" in errors(lines)


def test_an_existing_output_is_protected(scratch, run_score) -> None:
    assert run_score(scratch.config())[0] == EXIT_OK
    first = scratch.manifest()

    code, lines = run_score(scratch.config())

    assert code == EXIT_PERMANENT
    assert "set output.overwrite to true" in errors(lines)
    assert scratch.manifest() == first


def test_overwrite_replaces_output_and_stale_parts(scratch, run_score) -> None:
    assert run_score(scratch.config(), "--part-rows", "500", "--batch-rows", "500")[0] == EXIT_OK
    assert len(scratch.manifest()["parts"]) == 6
    code, _ = run_score(scratch.config(**{"output.overwrite": True}))
    assert code == EXIT_OK
    assert sorted(p.name for p in scratch.output.glob("part-*")) == ["part-00000-00000.parquet"]
    assert scratch.manifest()["rows"] == 3000


def crash_on_write(monkeypatch, number: int) -> None:
    """Make the `number`-th batch written raise an I/O error (once)."""
    from job.output import PartWriter

    original = PartWriter.write
    calls = {"n": 0}

    def write(self, batch):
        calls["n"] += 1
        if calls["n"] == number:
            raise OSError("connection reset")
        original(self, batch)

    monkeypatch.setattr(PartWriter, "write", write)


def test_a_failure_mid_write_leaves_no_manifest(scratch, run_score, monkeypatch) -> None:
    # GIVEN a committed output and an overwrite that fails after some parts are written
    assert run_score(scratch.config())[0] == EXIT_OK
    crash_on_write(monkeypatch, 4)
    code, _ = run_score(
        scratch.config(**{"output.overwrite": True}), "--batch-rows", "500", "--part-rows", "500"
    )
    # THEN the stale manifest is gone and no new one was written
    assert code == EXIT_TRANSIENT
    assert (scratch.output / "part-00000-00001.parquet").exists()  # closed parts stay
    assert not (scratch.output / "part-00000-00002.parquet").exists()  # the open one is dropped
    assert not (scratch.output / "_manifest.json").exists()


def test_a_retried_attempt_ends_with_the_same_output_as_a_clean_run(
    scratch, run_score, monkeypatch, tmp_path: Path
) -> None:
    args = ("--batch-rows", "500", "--part-rows", "1000")
    clean = tmp_path / "clean"
    assert run_score(scratch.config(**{"output.uri": f"{clean}/"}), *args)[0] == EXIT_OK
    crash_on_write(monkeypatch, 5)
    assert run_score(scratch.config(), *args)[0] == EXIT_TRANSIENT
    assert run_score(scratch.config(), *args)[0] == EXIT_OK  # the retry

    names = sorted(p.name for p in scratch.output.glob("part-*"))
    assert names == sorted(p.name for p in clean.glob("part-*"))
    for name in names:
        assert (scratch.output / name).read_bytes() == (clean / name).read_bytes()
