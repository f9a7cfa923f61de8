"""The feature contract: one declaration drives data validation, the training pipeline
and the serving request schema, so the three can never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .errors import DataValidationError

if TYPE_CHECKING:  # the serving path validates rows, never frames: no pandas import there
    import pandas as pd

TARGET = "hit"


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


def validate_frame(frame: pd.DataFrame, *, require_target: bool = False) -> pd.DataFrame:
    """Return the feature columns (and target) of `frame` in canonical order and dtypes.

    Raises DataValidationError listing every problem, so one run shows the whole fix.
    """
    import pandas as pd

    problems: list[str] = []
    wanted = list(FEATURE_NAMES) + ([TARGET] if require_target else [])
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
        raise DataValidationError(problems)
    if frame.empty:
        raise DataValidationError(["no rows"])

    out = pd.DataFrame(index=frame.index)
    for feature in FEATURES:
        column = frame[feature.name]
        if column.isna().any():
            problems.append(f"{feature.name}: {int(column.isna().sum())} missing value(s)")
            continue
        if feature.is_categorical:
            values = column.astype(str)
            unknown = sorted(set(values.unique()) - set(feature.categories))
            if unknown:
                rows = int((~values.isin(feature.categories)).sum())
                problems.append(
                    f"{feature.name}: unknown value(s) {unknown[:5]} in {rows} row(s), "
                    f"expected one of {list(feature.categories)}"
                )
            out[feature.name] = values
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.isna().any():
            problems.append(f"{feature.name}: {int(numbers.isna().sum())} non-numeric value(s)")
            continue
        numbers = numbers.astype("float64")
        # The rule and how many rows break it: the fix differs for one row and for all.
        if feature.gt is not None and (low := int((numbers <= feature.gt).sum())):
            problems.append(
                f"{feature.name}: values must be greater than {feature.gt:g} ({low} row(s) not)"
            )
        if feature.le is not None and (high := int((numbers > feature.le).sum())):
            problems.append(
                f"{feature.name}: values must be at most {feature.le:g} ({high} row(s) above)"
            )
        out[feature.name] = numbers

    if require_target:
        target = pd.to_numeric(frame[TARGET], errors="coerce")
        if target.isna().any() or not target.isin([0, 1]).all():
            problems.append(f"{TARGET}: target must be 0 or 1")
        else:
            out[TARGET] = target.astype("int64")
            if out[TARGET].nunique() < 2:
                problems.append(f"{TARGET}: both classes (0 and 1) must be present")

    if problems:
        raise DataValidationError(problems)
    return out
