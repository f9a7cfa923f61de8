"""The features: one declaration drives the data contract (`contract`, pandera on pandas
and Spark), the training pipeline and the serving request schema, so they never disagree.

The serving path imports this module: it must stay free of pandas and pandera."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

TARGET = "hit"
# When each RFQ arrived: not a feature (the model must not learn the calendar), but where
# a table has it, the model card gives the training data's time range from it.
EVENT_TIME = "requested_at"


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    categories: tuple[str, ...] = ()
    # Numeric bounds are exclusive below (gt) and inclusive above (le): a notional or a
    # time-to-close of zero is a data error, not an edge case.
    gt: float | None = None
    le: float | None = None
    examples: tuple[Any, ...] = field(default=())

    @property
    def is_categorical(self) -> bool:
        return bool(self.categories)


FEATURES: tuple[Feature, ...] = (
    Feature("notional_usd", "RFQ notional in USD", gt=0, le=1e10, examples=(5_000_000.0,)),
    Feature("spread_bps", "Quoted spread over mid, in basis points", gt=-100, le=1_000),
    Feature("side", "Client side of the trade", categories=("buy", "sell")),
    Feature(
        "client_tier",
        "Commercial tier of the client",
        categories=("platinum", "gold", "silver", "bronze"),
    ),
    Feature(
        "instrument",
        "Product type",
        categories=("govt_bond", "corp_bond", "irs", "fx_forward"),
    ),
    Feature("volatility", "Annualised implied volatility of the instrument", gt=0, le=5),
    Feature("time_to_close_s", "Seconds the client gives the desk to answer", gt=0, le=86_400),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
NUMERIC_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if not f.is_categorical)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.is_categorical)


def _field_type(feature: Feature) -> Any:
    if feature.is_categorical:
        return Annotated[
            Literal[feature.categories],  # type: ignore[valid-type]
            Field(description=feature.description),
        ]
    return Annotated[
        float,
        Field(
            description=feature.description,
            gt=feature.gt,
            le=feature.le,
            allow_inf_nan=False,
            # JSON numbers only: true or "5e6" would be scored as 1.0 or parsed silently,
            # and the published schema (type: number) would not be the contract served.
            strict=True,
        ),
    ]


def request_row_model() -> type[BaseModel]:
    """A pydantic model of one scoring row, derived from FEATURES (extra fields rejected)."""
    fields: dict[str, Any] = {f.name: (_field_type(f), ...) for f in FEATURES}
    return create_model(  # type: ignore[call-overload,no-any-return]
        "FeatureRow",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
