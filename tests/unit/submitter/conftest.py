from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parents[2] / "events"


@pytest.fixture
def event():
    def load(name: str) -> dict[str, Any]:
        return json.loads((EVENTS / name).read_text())

    return load
