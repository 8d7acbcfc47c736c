"""Where the repository's files are, for tests that read them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"  # sample Lambda payloads (S3 notifications, Batch events)
EXAMPLES = ROOT / "config" / "examples"  # the documented job configs
TERRAFORM_DIR = ROOT / "terraform"
