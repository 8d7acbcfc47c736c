"""A Lambda entry point imported anew, as on a cold start."""

from __future__ import annotations

import importlib
import logging
import sys
from types import ModuleType

import pytest

# The std loggers aws-lambda-powertools configures (named by each handler's service).
POWERTOOLS_LOGGERS = ("batchscore-ingest", "batchscore-state", "submitter")


def cold_import(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import module `name` anew (its clients made under this test's AWS) with powertools' loggers
    as on a cold start. powertools keeps its handler on the std logger across imports: an earlier
    test's import would leave it writing to that test's (closed) captured stdout. The earlier
    module and loggers come back when the test ends."""
    for logger_name in POWERTOOLS_LOGGERS:
        std = logging.getLogger(logger_name)
        monkeypatch.setattr(std, "handlers", [])
        for attribute in ("init", "powertools_handler"):  # powertools' "configured" marks
            monkeypatch.delattr(std, attribute, raising=False)
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)
