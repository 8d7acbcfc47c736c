"""Files behind contract URIs: local paths, `file://` and `s3://`, through pyarrow's filesystems.

pyarrow's S3 client streams (ranged GETs in, multipart uploads out) without a local copy, and
releases the GIL while it waits. It does not read `AWS_ENDPOINT_URL` itself, so the override for
the emulator is passed here from the variable named in `config.env`.

Sharding lives here too because it is a question about files: which files (or Parquet row groups)
child `i` of `n` reads.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow.fs as pafs

from config import env
from config.uris import Location, parse_uri
from job.exceptions import InputError, JobError, translate_client_error, translate_os_error

S3_MAX_ATTEMPTS = 5
# Files a prefix may hold that are never input: markers, hidden files, our own manifests.
_IGNORED_NAME = re.compile(r"^[._]")
FORMAT_EXTENSIONS = {"parquet": (".parquet", ".pq"), "csv": (".csv",)}


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Translate filesystem errors raised inside the block into JobErrors."""
    try:
        yield
    except JobError:
        raise
    except OSError as exc:
        raise translate_os_error(exc, doing) from exc


@cache
def s3_filesystem(endpoint: str | None, region: str | None) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        endpoint_override=endpoint or None,
        region=region or None,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=S3_MAX_ATTEMPTS),
    )


def filesystem(location: Location) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding `location` and the location's path inside it."""
    if location.scheme == "s3":
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        fs = s3_filesystem(os.environ.get(env.AWS_ENDPOINT_URL), region)
        return fs, f"{location.bucket}/{location.key}"
    return pafs.LocalFileSystem(), location.path


def uri_of(location: Location, path: str) -> str:
    """The URI of `path` inside the filesystem of `location`."""
    return f"s3://{path}" if location.scheme == "s3" else f"file://{path}"


def read_bytes(uri: str) -> bytes:
    fs, path = filesystem(parse_uri(uri))
    with storage_errors(f"reading {uri}"), fs.open_input_stream(path) as stream:
        data: bytes = stream.read()
    return data


def write_bytes(location: Location, data: bytes) -> None:
    """Write a small object whole. Locally through a temporary name and a rename, so a reader
    never sees half of it (an S3 PUT is atomic already)."""
    fs, path = filesystem(location)
    with storage_errors(f"writing {location.uri()}"):
        if location.scheme == "s3":
            with fs.open_output_stream(path) as stream:
                stream.write(data)
            return
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        temporary = f"{path}.tmp-{os.getpid()}"
        with fs.open_output_stream(temporary) as stream:
            stream.write(data)
        fs.move(temporary, path)


def read_optional(location: Location) -> bytes | None:
    """The object's bytes, or None when it does not exist."""
    fs, path = filesystem(location)
    with storage_errors(f"reading {location.uri()}"):
        try:
            with fs.open_input_stream(path) as stream:
                data: bytes = stream.read()
                return data
        except FileNotFoundError:
            return None


def delete(location: Location, paths: list[str] | None = None) -> None:
    """Delete `location` (or the given paths in its filesystem); missing files are fine."""
    fs, path = filesystem(location)
    for target in paths if paths is not None else [path]:
        with storage_errors(f"deleting {uri_of(location, target)}"), suppress(FileNotFoundError):
            fs.delete_file(target)


# --- conditional writes (the output's claim and its manifest) ------------------------------------
#
# pyarrow cannot make a conditional PUT, so these small objects go through boto3 on S3:
# PutObject with If-None-Match: * (create only if absent) or If-Match: <ETag> (replace only what
# was read), DeleteObject with If-Match. Locally the same guarantees come from the filesystem:
# os.link of a complete temporary file (fails if the name exists) and, for a replacement, an
# exclusive flock on a lock file beside the object while it is compared and renamed over.


@dataclass(frozen=True)
class Tagged:
    """A small object's bytes and the tag a conditional write compares (S3: its ETag)."""

    data: bytes
    tag: str


_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


@cache
def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))


def _lost_race(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and (
        exc.response.get("Error", {}).get("Code") in _LOST_RACE
        or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (409, 412)
    )


@contextmanager
def _s3_errors(doing: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, doing) from exc


# For the input plan (`job.plan`), which lists with ETags and checks them with If-Match.
s3_client = _s3_client
s3_errors = _s3_errors


def read_tagged(location: Location) -> Tagged | None:
    """The object's bytes and tag, or None when it does not exist."""
    if location.scheme != "s3":
        data = read_optional(location)
        return None if data is None else Tagged(data, hashlib.sha256(data).hexdigest())
    from botocore.exceptions import ClientError

    with _s3_errors(f"reading {location.uri()}"):
        try:
            response = _s3_client().get_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return Tagged(response["Body"].read(), response["ETag"])


def create_exclusive(location: Location, data: bytes) -> bool:
    """Create the object whole, only if nothing has that name: False when something does."""
    if location.scheme == "s3":
        with _s3_errors(f"creating {location.uri()}"):
            try:
                _s3_client().put_object(
                    Bucket=location.bucket, Key=location.key, Body=data, IfNoneMatch="*"
                )
            except Exception as exc:
                if _lost_race(exc):
                    return False
                raise
        return True
    path = location.path
    with storage_errors(f"creating {location.uri()}"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        with open(temporary, "wb") as handle:
            handle.write(data)
        try:
            os.link(temporary, path)  # atomic, and fails when the name exists
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
    return True


def replace_if(location: Location, data: bytes, tag: str) -> bool:
    """Replace the object only if it is still the one read with `tag`: False otherwise."""
    return _if_unchanged(
        location,
        tag,
        f"replacing {location.uri()}",
        lambda s3: s3.put_object(Bucket=location.bucket, Key=location.key, Body=data, IfMatch=tag),
        lambda: write_bytes(location, data),
    )


def delete_if(location: Location, tag: str) -> bool:
    """Delete the object only if it is still the one read with `tag`."""
    return _if_unchanged(
        location,
        tag,
        f"deleting {location.uri()}",
        lambda s3: s3.delete_object(Bucket=location.bucket, Key=location.key, IfMatch=tag),
        lambda: delete(location),
    )


def _if_unchanged(
    location: Location,
    tag: str,
    doing: str,
    on_s3: Callable[[Any], object],
    locally: Callable[[], object],
) -> bool:
    """A compare-and-swap on one object: S3's `If-Match` there, a file lock here. False when
    the object is no longer the one read with `tag` (another writer won)."""
    if location.scheme == "s3":
        with _s3_errors(doing):
            try:
                on_s3(_s3_client())
            except Exception as exc:
                if _lost_race(exc):
                    return False
                raise
        return True
    with storage_errors(doing), _local_lock(location.path):
        current = read_tagged(location)
        if current is None or current.tag != tag:
            return False
        locally()
    return True


@contextmanager
def _local_lock(path: str) -> Iterator[None]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(f"{path}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_files(location: Location) -> list[pafs.FileInfo]:
    """Every file below a prefix, sorted by path (an empty list when there is none)."""
    fs, path = filesystem(location)
    with storage_errors(f"listing {location.uri()}"):
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    return sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: i.path)


@dataclass(frozen=True)
class InputFile:
    path: str  # inside the filesystem
    size: int


def input_files(uri: str, input_format: str) -> tuple[pafs.FileSystem, list[InputFile]]:
    """The input's files: the one file, or every file of the format below a prefix, by name."""
    location = parse_uri(uri)
    fs, path = filesystem(location)
    if not location.is_prefix:
        with storage_errors(f"reading input.uri {uri}"):
            info = fs.get_file_info(path)
        if info.type != pafs.FileType.File:
            raise InputError(f"input.uri: {uri} does not exist")
        return fs, [InputFile(path, info.size)]
    extensions = FORMAT_EXTENSIONS[input_format]
    files = [
        InputFile(info.path, info.size)
        for info in list_files(location)
        if is_input_name(info.path[len(path) :], input_format)
    ]
    if not files:
        raise InputError(
            f"input.uri: no {input_format} files ({', '.join(extensions)}) below {uri}"
        )
    return fs, files


def is_input_name(relative: str, input_format: str) -> bool:
    """Whether a file at `relative` below the input prefix is input (not a marker or manifest)."""
    return relative.lower().endswith(FORMAT_EXTENSIONS[input_format]) and not any(
        _IGNORED_NAME.match(part) for part in relative.split("/")
    )


# --- sharding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The smallest piece of input one child scores: a file, or a Parquet file's row groups."""

    path: str
    weight: int  # rows (Parquet) or bytes (CSV): what the shards are balanced on
    row_groups: tuple[int, ...] | None = None  # None: the whole file


def shard_units(units: list[Unit], index: int, count: int) -> list[Unit]:
    """Child `index` of `count`: a contiguous run of `units` (in their given order) holding about
    1/count of the total weight. Every unit goes to exactly one child, the one in whose slice of
    the cumulative weight the unit starts, so together the children cover the input once."""
    if not 0 <= index < count:
        raise ValueError(f"shard {index} is outside 0..{count - 1}")
    total = sum(u.weight for u in units)
    mine: list[Unit] = []
    start = 0
    for position, unit in enumerate(units):
        # With no weight at all (only empty files) the units are dealt out by position instead.
        owner = min(start * count // total, count - 1) if total else position % count
        if owner == index:
            mine.append(unit)
        start += unit.weight
    return mine


def merge_row_groups(units: list[Unit]) -> list[Unit]:
    """Adjacent units of the same file as one unit, so a file is opened once per child."""
    merged: list[Unit] = []
    for unit in units:
        last = merged[-1] if merged else None
        if last and last.path == unit.path and last.row_groups is not None and unit.row_groups:
            merged[-1] = Unit(
                unit.path, last.weight + unit.weight, last.row_groups + unit.row_groups
            )
        else:
            merged.append(unit)
    return merged
