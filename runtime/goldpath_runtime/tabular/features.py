"""One declaration of a project's features: the data contract, the training pipeline,
the fast path and the serving request schema are all derived from it, so they never
disagree.

The serving path imports this module: it stays free of pandas and pandera."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


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


@dataclass(frozen=True)
class FeatureSchema:
    """The features in model order, the binary target, and (where a table has one) the
    column saying when each row happened: not a feature, but the card's time range."""

    features: tuple[Feature, ...]
    target: str
    event_time: str | None = None

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @cached_property
    def numeric(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if not f.is_categorical)

    @cached_property
    def categorical(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.is_categorical)

    def feature(self, name: str) -> Feature:
        return next(f for f in self.features if f.name == name)

    def layout(self) -> dict[str, list[str]]:
        """What a compiled model depends on (which columns, in which order): saved with
        the lean artifact, which is refused when the code's schema no longer matches."""
        return {"categorical": list(self.categorical), "numeric": list(self.numeric)}

    def request_row_model(self) -> type[BaseModel]:
        """A pydantic model of one scoring row (extra fields rejected)."""
        fields: dict[str, Any] = {f.name: (_field_type(f), ...) for f in self.features}
        return create_model("FeatureRow", __config__=ConfigDict(extra="forbid"), **fields)


def _field_type(feature: Feature) -> Any:
    if feature.is_categorical:
        return Annotated[
            Literal[feature.categories],
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
