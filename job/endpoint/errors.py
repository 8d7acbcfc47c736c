"""What a request can get wrong, as HTTP statuses. The message is the answer's `error`: it names
the column or the limit; never the model's location or a stack (those go to the log)."""

from __future__ import annotations


class HttpError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequestError(HttpError):
    """The rows cannot be scored as sent (400): bad JSON, a missing column, text in a number."""

    status = 400


class TooLargeError(HttpError):
    """Beyond a limit (413): the body, the rows or the answer."""

    status = 413


class UnsupportedMediaTypeError(HttpError):
    status = 415


class MethodNotAllowedError(HttpError):
    status = 405


class UnavailableError(HttpError):
    """The model could not be loaded (500): the reason is in the log only."""

    status = 500
