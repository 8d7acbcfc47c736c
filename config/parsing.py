"""Bytes in, a validated `JobConfig` (or a `ConfigError` naming every problem's field) out.

The same function serves the Lambda, the container and `batchscore validate`, so a config that
one accepts the others accept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.exceptions import ROOT_PATH, ConfigError, Problem
from config.models import DEFAULT_QUEUES, CrossFieldError, JobConfig

MAX_CONFIG_BYTES = 64 * 1024
# The contract nests three levels (root > model > trusted_types); a document nested deeper than
# this is refused before decoding, since 64 KiB of brackets overflow the decoder's recursion.
MAX_NESTING = 16
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def parse_config(raw: bytes, *, queues: Iterable[str] = DEFAULT_QUEUES) -> JobConfig:
    """Validate a job-config document; raise ConfigError listing each problem with its path."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [Problem(ROOT_PATH, f"is {len(raw)} bytes; a job config is at most {MAX_CONFIG_BYTES}")]
        )
    try:
        # utf-8-sig: a byte-order mark some editors add is accepted and dropped.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem(ROOT_PATH, f"is not valid UTF-8 (byte {exc.start}: {exc.reason})")]
        ) from None
    _check_nesting(text)
    document = _load_json(text)
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "null"
        raise ConfigError([Problem(ROOT_PATH, f"must be a JSON object, got {kind}")])
    return validate_document(document, queues=queues)


def read_config_file(path: str | Path) -> bytes:
    """A config file's bytes, reading no more than it takes to know it is too large."""
    with open(path, "rb") as handle:
        return handle.read(MAX_CONFIG_BYTES + 1)


def validate_document(
    document: dict[str, Any], *, queues: Iterable[str] = DEFAULT_QUEUES
) -> JobConfig:
    """Validate an already-decoded JSON object."""
    try:
        return JobConfig.model_validate(document, context={"queues": tuple(queues)})
    except CrossFieldError as exc:
        raise ConfigError(exc.problems) from None
    except ValidationError as exc:
        raise ConfigError([_problem_from(error) for error in exc.errors()]) from None


def _check_nesting(text: str) -> None:
    """Refuse a document nested deeper than MAX_NESTING (brackets inside strings do not count)."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_NESTING:
            raise ConfigError(
                [Problem(ROOT_PATH, f"is nested more than {MAX_NESTING} levels deep")]
            )


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_nan)
    except _DuplicateKeyError as exc:
        raise ConfigError(
            [Problem(exc.path, "appears more than once in the same object")]
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [
                Problem(
                    ROOT_PATH,
                    f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                )
            ]
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise ConfigError([Problem(ROOT_PATH, f"is not valid JSON: {exc}")]) from None


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.path = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _no_nan(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def field_path(location: Iterable[str | int]) -> str:
    """('input', 'features', 2) -> 'input.features[2]'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or ROOT_PATH


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required",
}


def _problem_from(error: Any) -> Problem:
    location = tuple(error["loc"])
    kind = error["type"]
    message = _MESSAGES.get(kind)
    if message is None:
        message = error["msg"].replace("Input should be", "must be")
        if kind.startswith("value_error"):
            message = message.removeprefix("Value error, ")
        elif "input" in error and kind not in ("model_type", "dict_type"):
            message = f"{message[0].lower()}{message[1:]}, got {_short(error['input'])}"
        else:
            message = f"{message[0].lower()}{message[1:]}"
    return Problem(field_path(location), message)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
