"""What every service answers a request it cannot serve: one shape, `{"detail": [{"field",
"message"}]}`, naming the field and the fix, whatever the framework."""

from __future__ import annotations

from typing import Any


class RequestError(Exception):
    """A request the service refuses; `status` is the HTTP status, `errors` the fields."""

    def __init__(self, status: int, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"] if errors else "bad request")
        self.status = status
        self.errors = errors

    @classmethod
    def about(cls, status: int, field: str, message: str) -> RequestError:
        return cls(status, [{"field": field, "message": message}])

    @property
    def body(self) -> dict[str, Any]:
        return error_body(self.errors)

    @property
    def closes(self) -> bool:
        """A body that never came (408) leaves the connection unusable: close it."""
        return self.status == 408


def error_body(errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"detail": errors}


def one_error(field: str, message: str) -> dict[str, Any]:
    return error_body([{"field": field, "message": message}])


def is_json(content_type: str | None) -> bool:
    """application/json or application/<something>+json, parameters (charset) allowed."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def not_json() -> RequestError:
    return RequestError.about(
        415, "content-type", "send the body as JSON (Content-Type: application/json)"
    )


def body_too_large(limit: int) -> RequestError:
    return RequestError.about(
        413, "body", f"request body exceeds {limit} bytes (MAX_BODY_BYTES); send less"
    )


def body_too_slow(timeout: float) -> RequestError:
    return RequestError.about(
        408, "body", f"request body not received within {timeout:g} s (CLIENT_TIMEOUT_S)"
    )
