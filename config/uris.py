"""URIs as the job-config contract reads them: `s3://bucket/key`, `file://path` or a local path.

Kept free of any I/O so the Lambda, the container and the CLI agree on what a URI means.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

# A scheme is letters then `://`; anything without one is a local path.
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
ALLOWED_SCHEMES = ("s3", "file")

Scheme = Literal["s3", "local"]


@dataclass(frozen=True)
class Location:
    """A parsed URI: S3 (bucket + key) or local (absolute path); a trailing `/` is kept."""

    scheme: Scheme
    bucket: str = ""
    key: str = ""
    path: str = ""

    @property
    def is_prefix(self) -> bool:
        return (self.key if self.scheme == "s3" else self.path).endswith("/")

    def uri(self) -> str:
        """The canonical form used for comparisons and in records: `s3://b/k` or `file:///abs`."""
        if self.scheme == "s3":
            return f"s3://{self.bucket}/{self.key}"
        return f"file://{self.path}"

    def join(self, name: str) -> Location:
        """The location of `name` below this prefix."""
        if not self.is_prefix:
            raise ValueError(f"{self.uri()} is not a prefix (it does not end with '/')")
        if self.scheme == "s3":
            return Location("s3", bucket=self.bucket, key=self.key + name)
        return Location("local", path=self.path + name)

    def contains(self, other: Location) -> bool:
        """True when `other` equals this location or lies below it."""
        if self.scheme != other.scheme:
            return False
        if self.scheme == "s3" and self.bucket != other.bucket:
            return False
        mine = self.key if self.scheme == "s3" else self.path
        theirs = other.key if other.scheme == "s3" else other.path
        base = mine if mine.endswith("/") else mine + "/"
        return theirs == mine or theirs.rstrip("/") == mine.rstrip("/") or theirs.startswith(base)


def scheme_of(uri: str) -> str | None:
    """The URI's scheme in lower case, or None for a plain local path."""
    match = _SCHEME.match(uri)
    return match.group("scheme").lower() if match else None


def parse_uri(uri: str) -> Location:
    """Parse a contract URI; raise ValueError with a user-facing message when it is not one.

    Relative local paths are resolved against the current working directory.
    """
    if not uri or uri != uri.strip():
        raise ValueError("must be a non-empty URI without surrounding spaces")
    scheme = scheme_of(uri)
    if scheme is None:
        return Location("local", path=_absolute(uri))
    if scheme == "s3":
        rest = uri[len("s3://") :]
        bucket, sep, key = rest.partition("/")
        if not bucket or not sep or not key:
            raise ValueError(f"must look like s3://bucket/key, got {uri!r}")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ValueError(f"{bucket!r} is not a valid S3 bucket name")
        _check_key(key)
        return Location("s3", bucket=bucket, key=key)
    if scheme == "file":
        path = unquote(uri[len("file://") :])
        if not path:
            raise ValueError("file:// URI has no path")
        return Location("local", path=_absolute(path))
    allowed = ", ".join(f"{s}://" for s in ALLOWED_SCHEMES)
    raise ValueError(f"scheme {scheme}:// is not supported (use {allowed} or a local path)")


# Characters a client, a proxy or a URL may read as something other than part of the key.
_KEY_UNSAFE = re.compile(r"[\x00-\x1f\x7f%?#\\]")


def _check_key(key: str) -> None:
    """Refuse keys whose meaning changes on the wire: `..` and `.` segments are resolved by HTTP
    clients and emulators (`s3://allowed/../other/x` would read bucket `other` after passing the
    allow-list as bucket `allowed`), empty segments collapse, and escapes decode."""
    segments = key.split("/")
    if key.endswith("/"):
        segments = segments[:-1]  # a prefix's trailing slash
    for segment in segments:
        if segment in ("", ".", ".."):
            shown = f"{segment!r} as a path segment" if segment else "an empty path segment (//)"
            raise ValueError(f"the key may not contain {shown}, got {key!r}")
    unsafe = _KEY_UNSAFE.search(key)
    if unsafe:
        raise ValueError(f"the key may not contain {unsafe.group()!r}, got {key!r}")


def _absolute(path: str) -> str:
    trailing = path.endswith("/")
    resolved = os.path.abspath(os.path.expanduser(path))
    return resolved + "/" if trailing and not resolved.endswith("/") else resolved


def extension(uri: str) -> str:
    """The lower-case extension of the URI's last segment (`.parquet`), or '' when it has none."""
    last = uri.rstrip("/").rsplit("/", 1)[-1]
    _, dot, ext = last.rpartition(".")
    return f".{ext.lower()}" if dot and ext else ""
