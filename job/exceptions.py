"""What can go wrong in a scoring job, sorted by what a retry can do about it.

`PermanentError` (exit 2): the config, the model or the input is wrong; a retry would fail the same
way. `TransientError` (exit 3): throttling, a 5xx, a lost connection after the clients' own
retries; Batch's retry strategy runs the job again. Errors from AWS SDKs are translated into these
where the call is made (`translate_client_error`, `translate_os_error`), so nothing upstream has to
know botocore or pyarrow.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from config.retry import EXIT_PERMANENT, EXIT_TRANSIENT


class JobError(Exception):
    """A failure the job knows how to report; `exit_code` says whether a retry may help."""

    exit_code = EXIT_PERMANENT


class PermanentError(JobError):
    """A retry cannot help: bad config, model, input schema or data, refused output."""

    exit_code = EXIT_PERMANENT


class TransientError(JobError):
    """A retry may help: throttling, server errors, lost connections."""

    exit_code = EXIT_TRANSIENT


class TerminatedError(TransientError):
    """SIGTERM: Batch is stopping the attempt (terminate, timeout, a spot notice, a scale-in).
    Transient: where Batch retries at all (a spot notice), the next attempt may finish."""


class ModelError(PermanentError):
    """The model cannot be loaded safely or cannot score the input."""


class InputError(PermanentError):
    """The input is missing, unreadable, or does not fit the model."""


class OutputExistsError(PermanentError):
    """A committed output is in the way and `output.overwrite` is false."""


class RecordError(PermanentError):
    """The job record is missing or unusable."""


# AWS error codes a retry can fix. Anything else from a service (AccessDenied, NoSuchBucket,
# ValidationException, ResourceNotFoundException...) is a deployment or input problem.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TransactionConflictException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
TRANSIENT_BOTOCORE = (
    ConnectionError,
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

# pyarrow's S3 filesystem reports AWS errors as OSError with the SDK's error name in the text.
_PERMANENT_S3_MARKERS = ("ACCESS_DENIED", "NO_SUCH_BUCKET", "NO_SUCH_KEY", "INVALID_ACCESS_KEY")
# pyarrow reports a corrupt Parquet file as a plain OSError too (no errno, no AWS error): the same
# bytes fail the same way on every attempt, so these are permanent.
_CORRUPT_DATA_MARKERS = (
    "Couldn't deserialize thrift",
    "Deserializing page header failed",
    "Corrupt snappy compressed data",
    "Unexpected end of stream",
)


def translate_client_error(exc: Exception, doing: str) -> JobError:
    """A botocore error raised while `doing` something, as a JobError."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = f"{doing}: {code}: {exc.response.get('Error', {}).get('Message', '')}"
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientError(message)
        return PermanentError(message)
    if isinstance(exc, TRANSIENT_BOTOCORE):
        return TransientError(f"{doing}: {exc}")
    return PermanentError(f"{doing}: {exc}")


def translate_os_error(exc: OSError, doing: str) -> JobError:
    """An OSError from pyarrow's filesystems (local or S3) as a JobError."""
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return PermanentError(f"{doing}: not found ({exc})")
    if isinstance(exc, PermissionError) or any(m in str(exc) for m in _PERMANENT_S3_MARKERS):
        return PermanentError(f"{doing}: {exc}")
    if "AWS Error" not in str(exc) and any(m in str(exc) for m in _CORRUPT_DATA_MARKERS):
        return PermanentError(f"{doing}: corrupt data ({exc})")
    return TransientError(f"{doing}: {exc}")
