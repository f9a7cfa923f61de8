"""The features: this one declaration drives the data contract (pandera on pandas and
Spark), the training pipeline, the serving fast path and the request schema, so they
never disagree (the platform derives each of them, in goldpath_runtime.tabular).

The serving path imports this module: it must stay free of pandas and pandera."""

from __future__ import annotations

from goldpath_runtime.tabular import Feature, FeatureSchema

TARGET = "hit"
# When each RFQ arrived: not a feature (the model must not learn the calendar), but where
# a table has it, the model card gives the training data's time range from it.
EVENT_TIME = "requested_at"
# The model card gives results per value of this column: the desk reviews the model by
# client tier.
REVIEW_SEGMENT = "client_tier"

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
        "client_hit_rate_30d",
        "Share of the client's RFQs traded over the previous 30 days, smoothed",
        gt=0,
        le=1,
        examples=(0.4,),
    ),
    Feature(
        "instrument",
        "Product type",
        categories=("govt_bond", "corp_bond", "irs", "fx_forward"),
    ),
    Feature("volatility", "Annualised implied volatility of the instrument", gt=0, le=5),
    Feature("time_to_close_s", "Seconds the client gives the desk to answer", gt=0, le=86_400),
)

SCHEMA = FeatureSchema(FEATURES, target=TARGET, event_time=EVENT_TIME)
FEATURE_NAMES = SCHEMA.names
NUMERIC_FEATURES = SCHEMA.numeric
CATEGORICAL_FEATURES = SCHEMA.categorical
request_row_model = SCHEMA.request_row_model
