"""AWS and filesystem errors become permanent or transient where they are raised."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError
from support.aws_errors import client_error

from config.retry import EXIT_PERMANENT, EXIT_TRANSIENT
from job.exceptions import translate_client_error, translate_os_error


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (client_error("ProvisionedThroughputExceededException"), EXIT_TRANSIENT),
        (client_error("ThrottlingException"), EXIT_TRANSIENT),
        (client_error("SlowDown", 503), EXIT_TRANSIENT),
        (client_error("Whatever", 500), EXIT_TRANSIENT),
        (EndpointConnectionError(endpoint_url="http://x"), EXIT_TRANSIENT),
        (client_error("AccessDeniedException", 403), EXIT_PERMANENT),
        (client_error("ResourceNotFoundException"), EXIT_PERMANENT),
    ],
)
def test_client_errors(error: Exception, exit_code: int) -> None:
    translated = translate_client_error(error, "doing x")
    assert translated.exit_code == exit_code
    assert str(translated).startswith("doing x")


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (FileNotFoundError("gone"), EXIT_PERMANENT),
        (PermissionError("no"), EXIT_PERMANENT),
        (OSError("AWS Error ACCESS_DENIED during GetObject"), EXIT_PERMANENT),
        (OSError("AWS Error NO_SUCH_BUCKET during ListObjectsV2"), EXIT_PERMANENT),
        (OSError("AWS Error SLOW_DOWN during GetObject"), EXIT_TRANSIENT),
        (OSError("AWS Error NETWORK_CONNECTION during HeadObject"), EXIT_TRANSIENT),
        (OSError("AWS Error UNKNOWN (HTTP status 503) during PutObject"), EXIT_TRANSIENT),
    ],
)
def test_filesystem_errors(error: OSError, exit_code: int) -> None:
    assert translate_os_error(error, "reading").exit_code == exit_code
