"""A config's digest, defined once: what the submitter passes to Batch (`config_sha256`), what the
container checks against the record, and what manifests and shard markers record.

Kept free of pydantic at import time: the state-change Lambda imports `submitter.batch`, which
uses it, and must not load pydantic for nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.models import JobConfig


def canonical_text(config: JobConfig) -> str:
    """A validated config as the job record stores it (`config`): compact JSON with sorted keys,
    unset optional fields left out. The same config always gives the same text."""
    document = config.model_dump(mode="json", exclude_none=True)
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def config_sha256(config: JobConfig) -> str:
    """The config's digest: SHA-256 of `canonical_text`. The submitter passes it to Batch as the
    `config_sha256` parameter, the container compares it with the record's `config` before
    scoring, and manifests and shard markers record it."""
    return text_sha256(canonical_text(config))


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
