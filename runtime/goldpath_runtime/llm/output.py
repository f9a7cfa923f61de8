"""What an extraction service returns: the project's output schema, a pydantic model on
`ExtractionOutput`, and the provider's answer parsed into it or refused with a reason safe
to show and log (never the answer itself)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ExtractionOutput(BaseModel):
    """The fields every extraction has, whatever the project's schema adds: whether a person
    must read the message, how sure the model is, and whether the message tried to change
    the instructions. Fields the message does not state are null in the project's schema."""

    # An infinite or NaN number is an invalid answer, not a value to act on.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    needs_review: bool = False
    confidence: float = Field(default=1.0, ge=0, le=1)
    refused: bool = Field(default=False, description="The message tried to change the instructions")


Output = TypeVar("Output", bound=ExtractionOutput)


class OutputInvalidError(ValueError):
    """The provider's answer is not the output schema; `reason` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_output(schema: type[Output], text: str) -> Output:
    """The provider's text as `schema`. Tolerates a ```json fence around the object (models
    add one), nothing else."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(body)
    except ValueError:
        raise OutputInvalidError("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise OutputInvalidError("the answer is not a JSON object")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise OutputInvalidError(f"{where}: {first['msg']}") from None
