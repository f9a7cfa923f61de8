"""What the service returns: a trade request, validated, from one client message.

The provider is asked for JSON in this shape; anything else is a provider problem that the
platform repairs once and otherwise reports (never passes on). Every field has a default:
a message that states nothing gives nulls and `needs_review`.
"""

from __future__ import annotations

from typing import Literal

from goldpath_runtime.llm.output import ExtractionOutput
from pydantic import Field

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


class TradeRequest(ExtractionOutput):
    """A client's request as the desk books it. Fields the message does not state are null;
    `needs_review` (from ExtractionOutput, with `confidence` and `refused`) is true when a
    person must read the message (ambiguous, incomplete, refused)."""

    side: Side | None = Field(default=None, description="The client's side: buy or sell")
    instrument: Instrument | None = None
    notional: float | None = Field(default=None, gt=0, description="In units of `currency`")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    tenor: str | None = Field(default=None, pattern=r"^\d{1,3}[DWMY]$")
    reference_index: str | None = Field(default=None, max_length=40)
