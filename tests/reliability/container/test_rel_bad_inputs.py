"""Bad data and bad models through `python -m job score`: every one is permanent (exit 2: Batch
does not retry it), commits nothing, and its reason names the column or the file."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from support import jobdata

from config.retry import EXIT_OK, EXIT_PERMANENT
from job.commands import main

Make = Callable[[Path], Path]  # writes a bad input under the folder, returns its path


def run_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: Any
) -> tuple[int, str]:
    """Score with a fitted logistic regression (no NaN allowed); return (exit code, errors)."""
    model = tmp_path / "model.skops"
    if not model.exists():
        jobdata.save_model(jobdata.fit(), model)
    changes.setdefault("input.uri", str(tmp_path / "in" / "data.parquet"))
    document = jobdata.config(str(model), changes.pop("input.uri"), f"{tmp_path}/out/", **changes)
    path = jobdata.write_config(tmp_path / "job.json", document)
    code = main(["score", str(path), "--batch-rows", "100"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, " | ".join(line["message"] for line in lines if line.get("level") == "ERROR")


def table(rows: int = 300) -> pa.Table:
    return jobdata.table(rows)


def parquet(name: str, data: pa.Table) -> Make:
    return lambda folder: jobdata.write_table(data, folder / name)


def raw(name: str, content: bytes) -> Make:
    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        return folder / name

    return make


def csv_rows(*rows: str) -> bytes:
    return ("\n".join(["id,f0,f1,f2,f3", *rows]) + "\n").encode()


def with_null(column: str, row: int) -> pa.Table:
    data = table().to_pydict()
    data[column][row] = None
    return pa.table(data)


def corrupted(folder: Path) -> Path:
    """A Parquet file whose footer and magic are intact but whose first page header is garbage."""
    path = jobdata.write_table(table(), folder / "corrupt.parquet")
    data = bytearray(path.read_bytes())
    data[4:400] = bytes(396)
    path.write_bytes(bytes(data))
    return path


def truncated(folder: Path) -> Path:
    path = jobdata.write_table(table(), folder / "truncated.parquet")
    path.write_bytes(path.read_bytes()[:-100])
    return path


GOOD_ROWS = [f"{i},1,2,3,4" for i in range(300)]
CASES: dict[str, tuple[Make, str]] = {
    # case: (the bad input, what the reason must name)
    "missing column": (parquet("data.parquet", table().drop(["f2"])), "f2"),
    "string feature in Parquet": (
        parquet("data.parquet", table().set_column(3, "f2", pa.array(map(str, range(300))))),
        "'f2' is not numeric (string)",
    ),
    "text in a CSV feature": (
        raw("data.csv", csv_rows(*[f"{i},1,2,abc,4" for i in range(300)])),
        "'f2' is not numeric",
    ),
    "NaN the model cannot take": (parquet("data.parquet", with_null("f1", 250)), "f1"),
    "empty Parquet file": (raw("empty.parquet", b""), "empty.parquet"),
    "empty CSV file": (raw("empty.csv", b""), "empty.csv"),
    "zero-row Parquet": (parquet("zero.parquet", table().slice(0, 0)), "zero.parquet"),
    "header-only CSV": (raw("header.csv", csv_rows()), "header.csv"),
    "corrupt Parquet pages": (corrupted, "corrupt.parquet"),
    "truncated Parquet": (truncated, "truncated.parquet"),
    "not Parquet at all": (raw("data.parquet", b"id,f0\n1,2\n"), "data.parquet"),
    "CSV row too short": (raw("short.csv", csv_rows(*GOOD_ROWS, "300,1,2,3")), "short.csv"),
    "CSV row too long": (raw("long.csv", csv_rows(*GOOD_ROWS, "300,1,2,3,4,5")), "long.csv"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_data_is_permanent_and_named(tmp_path, capsys, case) -> None:
    make, named = CASES[case]
    path = make(tmp_path / "in")
    code, errors = run_score(tmp_path, capsys, **{"input.uri": str(path)})
    assert code == EXIT_PERMANENT, errors
    assert named in errors
    assert not (tmp_path / "out" / "_manifest.json").exists()


def test_one_empty_file_among_others_is_fine(tmp_path, capsys) -> None:
    # Writers such as Spark leave empty files in a folder: only an input with no rows at all fails.
    jobdata.write_table(table().slice(0, 0), tmp_path / "in" / "part-0.parquet")
    jobdata.write_table(table(), tmp_path / "in" / "part-1.parquet")
    changes = {"input.uri": f"{tmp_path}/in/", "input.format": "parquet"}
    code, errors = run_score(tmp_path, capsys, **changes)
    assert code == EXIT_OK, errors
    assert json.loads((tmp_path / "out" / "_manifest.json").read_text())["rows"] == 300


def test_an_extra_column_is_ignored_unless_listed_as_a_feature(tmp_path, capsys) -> None:
    # A table has more columns than a model uses; a config that names one as a feature is wrong.
    data = table().append_column("bonus", pa.array(range(300)))
    jobdata.write_table(data, tmp_path / "in" / "data.parquet")
    code, errors = run_score(tmp_path, capsys)
    assert code == EXIT_OK, errors
    listed = {"input.features": [*jobdata.FEATURES, "bonus"], "output.overwrite": True}
    code, errors = run_score(tmp_path, capsys, **listed)
    assert code == EXIT_PERMANENT
    assert "bonus" in errors


class Tripwire:
    """Unpickling it creates `marker`: proof that the bytes were deserialised."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("extension", [".pkl", ".joblib"])
def test_a_swapped_pickle_is_refused_before_it_is_deserialised(tmp_path, capsys, extension) -> None:
    # GIVEN a config pinned to one model, and a file swapped for one that runs code when loaded
    jobdata.write_table(table(), tmp_path / "in" / "data.parquet")
    model = tmp_path / f"model{extension}"
    pinned = jobdata.save_model(jobdata.fit(), model)
    marker = tmp_path / "deserialised"
    model.write_bytes(pickle.dumps(Tripwire(marker)))

    # WHEN the job runs with the pin
    code, errors = run_score(tmp_path, capsys, **{"model.uri": str(model), "model.sha256": pinned})

    # THEN it refuses, naming the pin, and never deserialised the file
    assert code == EXIT_PERMANENT
    assert "model.sha256" in errors
    assert model.name in errors
    assert not marker.exists()

    # (the tripwire works: pinned to the swapped bytes, loading them does create the marker)
    swapped = hashlib.sha256(model.read_bytes()).hexdigest()
    run_score(tmp_path, capsys, **{"model.uri": str(model), "model.sha256": swapped})
    assert marker.exists()
