"""Fixtures every tier shares (their helpers are in `support/`), and test isolation: each test
gets logging back as it found it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.lambda_modules import cold_import
from support.names import REGION, TABLE

from config.records import table_definition


def _closed(handler: logging.Handler) -> bool:
    return bool(getattr(getattr(handler, "stream", None), "closed", False))


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Code run in-process configures logging as its own process would: the job's `configure`
    puts a handler on the root logger writing to this test's stdout, a Lambda import puts
    powertools' on its service's logger. Left there, they write to a closed capture in a later
    test ("--- Logging error ---" in a CLI's output). After each test: the root logger's level as
    before and none of the handlers the test added to it (pytest's own excepted); on other
    loggers, none the test added that writes to a stream closed since."""
    root = logging.getLogger()
    root_level = root.level
    before = {
        name: list(logger.handlers)
        for name, logger in [("", root), *logging.Logger.manager.loggerDict.items()]
        if isinstance(logger, logging.Logger)
    }
    yield
    root.setLevel(root_level)
    for name, logger in [("", root), *logging.Logger.manager.loggerDict.items()]:
        if not isinstance(logger, logging.Logger):
            continue
        earlier = before.get(name, [])
        for handler in list(logger.handlers):
            ours = type(handler).__module__.startswith("_pytest")  # pytest's capture: its own
            if handler not in earlier and not ours and (logger is root or _closed(handler)):
                logger.removeHandler(handler)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys and our region; no endpoint, profile or moto setting from the environment (moto
    in-process serves every client)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BATCH",
        "AWS_PROFILE",
        "MOTO_SIMPLE_BATCH_FAIL_AFTER",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ddb(aws_credentials: None) -> Iterator[Any]:
    """The job table alone, on in-process moto."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**table_definition(TABLE))
        yield client


@pytest.fixture
def cold_start(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """`cold_start("submitter.ingest_handler")`: a Lambda entry point imported anew, its clients
    made under this test's moto (see `support.lambda_modules`)."""

    def load(name: str) -> ModuleType:
        return cold_import(name, monkeypatch)

    return load
