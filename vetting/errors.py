"""Domain errors raised by services and helpers.

Each error carries enough structure for the API layer to answer with the right status code
and a message that tells the caller what to fix, without knowing anything about HTTP here.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802
    """Mark a fixed message for translation without translating it: the API answers in
    English, and a page shows the message in its reader's language (``gettext(message)``)."""
    return message


class Message(str):
    """A message built from a template marked for translation and its values. It reads (and
    serialises) as the English text; a page translates ``template`` and fills in ``params``."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        text = super().__new__(cls, template % params if params else template)
        text.template, text.params = template, params
        return text


def M_(template: str, **params: Any) -> Message:  # noqa: N802
    """A ``Message``: ``M_("listing %(reference)s is %(status)s", reference=..., status=...)``."""
    return Message(template, **params)


class DomainError(Exception):
    """Base class of every error the service layer raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body


class ValidationError(DomainError):
    """Input that cannot be accepted; ``errors`` maps field paths to messages."""

    status = 422
    code = "validation_error"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, errors=errors or {})
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with stored state; ``conflicting_id`` names what it conflicts with."""

    status = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class SeedError(DomainError):
    """A seed file that cannot be loaded: names the file, the record and the problem."""

    code = "seed_error"

    def __init__(self, file: str, record: str, problem: str) -> None:
        super().__init__(f"{file}: {record}: {problem}", file=file, record=record, problem=problem)
        self.file = file
        self.record = record
        self.problem = problem


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"


class TooManyAttempts(DomainError):
    """Refused for a while after repeated failures; ``retry_after`` is in seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
