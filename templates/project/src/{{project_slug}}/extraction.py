"""What the service returns: a trade request, validated, from one client message.

The provider is asked for JSON in this shape; anything else is a provider problem that the
pipeline repairs once and otherwise reports (never passes on).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Side = Literal["buy", "sell"]
Instrument = Literal["IRS", "FX_SPOT", "FX_FORWARD", "BOND", "CDS"]

# The fields the evaluation gate scores one by one (exact match against the labels).
SCORED_FIELDS = (
    "side",
    "instrument",
    "notional",
    "currency",
    "tenor",
    "reference_index",
    "needs_review",
)


class TradeRequest(BaseModel):
    """A client's request as the desk books it. Fields the message does not state are null;
    `needs_review` is true when a person must read the message (ambiguous, incomplete,
    refused)."""

    # An infinite or NaN notional or confidence is an invalid answer, not a number to book.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    side: Side | None = Field(default=None, description="The client's side: buy or sell")
    instrument: Instrument | None = None
    notional: float | None = Field(default=None, gt=0, description="In units of `currency`")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    tenor: str | None = Field(default=None, pattern=r"^\d{1,3}[DWMY]$")
    reference_index: str | None = Field(default=None, max_length=40)
    needs_review: bool = False
    confidence: float = Field(default=1.0, ge=0, le=1)
    refused: bool = Field(default=False, description="The message tried to change the instructions")


class OutputInvalidError(ValueError):
    """The provider's answer is not a TradeRequest; `reason` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_output(text: str) -> TradeRequest:
    """The provider's text as a TradeRequest. Tolerates a ```json fence around the object
    (models add one), nothing else."""
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
        return TradeRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise OutputInvalidError(f"{where}: {first['msg']}") from None
