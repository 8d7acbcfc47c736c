from __future__ import annotations

import pytest

from config.status import JobStatus, may_move, statuses_before
from config.uris import extension, parse_uri


def test_s3_uri_is_split_into_bucket_and_key() -> None:
    location = parse_uri("s3://acme-data/in/day 1.csv")
    assert (location.scheme, location.bucket, location.key) == ("s3", "acme-data", "in/day 1.csv")
    assert not location.is_prefix
    assert location.uri() == "s3://acme-data/in/day 1.csv"


def test_local_paths_and_file_uris_resolve_to_the_same_absolute_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_uri("data/x.csv") == parse_uri(f"file://{tmp_path}/data/x.csv")
    assert parse_uri("data/").is_prefix
    assert parse_uri("file:///a%20b/").path == "/a b/"


def test_join_below_a_prefix() -> None:
    assert (
        parse_uri("s3://acme-data/out/").join("part-0.parquet").uri()
        == "s3://acme-data/out/part-0.parquet"
    )
    with pytest.raises(ValueError, match="not a prefix"):
        parse_uri("s3://acme-data/out").join("x")


@pytest.mark.parametrize(
    ("outer", "inner", "inside"),
    [
        ("s3://b-1/in/", "s3://b-1/in/", True),
        ("s3://b-1/in/", "s3://b-1/in/out/", True),
        ("s3://b-1/in/", "s3://b-1/in-out/", False),
        ("s3://b-1/in/", "s3://b-2/in/out/", False),
        ("s3://b-1/x.csv", "s3://b-1/x.csv/", True),
        ("/data/", "/data/out/", True),
        ("/data/", "s3://b-1/data/", False),
    ],
)
def test_contains(outer: str, inner: str, inside: bool) -> None:
    assert parse_uri(outer).contains(parse_uri(inner)) is inside


@pytest.mark.parametrize(
    "uri", ["", " s3://b-1/k", "s3://", "s3://bucket", "gs://b/k", "http://h/x"]
)
def test_bad_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValueError, match=r"must|scheme|valid"):
        parse_uri(uri)


def test_extension_is_lower_case_and_ignores_folders() -> None:
    assert extension("s3://b-1/a.dir/model.SKOPS") == ".skops"
    assert extension("s3://b-1/a.dir/model") == ""
    assert extension("s3://b-1/prefix/") == ""


def test_statuses_only_move_forward() -> None:
    assert may_move(JobStatus.SUBMITTED, JobStatus.RUNNING)
    assert may_move(JobStatus.RUNNING, JobStatus.RUNNING)  # a new attempt
    assert may_move(JobStatus.RUNNING, JobStatus.FAILED)
    assert may_move(JobStatus.SUBMITTED, JobStatus.CANCELLED)
    assert not may_move(JobStatus.RUNNING, JobStatus.SUBMITTED)
    for terminal in (
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.REJECTED,
    ):
        assert terminal.is_terminal
        assert not any(may_move(terminal, other) for other in JobStatus)


def test_statuses_before_a_terminal_one() -> None:
    assert set(statuses_before(JobStatus.SUCCEEDED)) == {JobStatus.SUBMITTED, JobStatus.RUNNING}
