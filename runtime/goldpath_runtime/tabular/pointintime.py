"""A training table built from raw tables, point-in-time correct: one definition, run by
pandas here and by Spark in `pointintime_spark`, with the same output.

A definition names the base table (one output row per base row, at the base row's time),
the columns it carries as they are, the as-of features and the label. An as-of feature is
the last value of a column of another table for the row's key that the desk *knew*
strictly before the row's time: each raw table declares the column that says when a row
became known (its ingestion time: a late-arriving row counts from when it arrived, not
from the time it describes). A trailing feature aggregates a column over the rows of the
row's key known in a window before the row's time (a client's hit rate over 30 days). The
label is an outcome, and is allowed to lie in the future.

`leaky_features` checks a definition the hard way, by time travel: for a sample of rows it
rebuilds each row's features from the raw tables cut at that row's time, using each
table's declared knowledge time, and names every feature whose value changes. A feature
that reads a table by the wrong clock (the observation time of late-arriving rows) or
without one is caught there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ProjectError


@dataclass(frozen=True)
class RawTable:
    """A raw table as the desk's systems land it, and the column saying when each row
    became known (a feature may only use rows known before the base row's time)."""

    name: str
    known_at: str


@dataclass(frozen=True)
class AsOf:
    """Feature `name`: the last `column` of `table` for the base row's `key`, among rows
    whose `clock` is strictly before the base row's time (`clock` defaults to the table's
    known_at; anything else is what `leaky_features` is for)."""

    name: str
    table: str
    key: str
    column: str
    clock: str | None = None


@dataclass(frozen=True)
class Trailing:
    """Feature `name`: `agg` of `column` over the rows of `table` for the base row's `key`
    known at or after `days` before the base row's time and strictly before it.

    `agg` is "count" (rows), "sum" or "mean" (of non-null values). A mean starts from
    `prior` (pseudo-sum, pseudo-count), so a key with few or no rows in the window has a
    defined value that leans to the prior: (sum + prior[0]) / (count + prior[1]). Sums of
    integer columns are exact on both engines; a float column's may differ in the last
    bits between them."""

    name: str
    table: str
    key: str
    column: str
    days: float
    agg: str = "mean"
    prior: tuple[float, float] = (0.0, 0.0)
    clock: str | None = None

    def __post_init__(self) -> None:
        if self.agg not in AGGREGATES:
            raise ProjectError(
                f"trailing feature {self.name!r}: agg must be one of {', '.join(AGGREGATES)}"
            )
        if not self.days > 0:
            raise ProjectError(f"trailing feature {self.name!r}: days must be above 0")
        if self.agg == "mean" and not self.prior[1] > 0:
            # An empty window would divide by zero: a mean needs a pseudo-count.
            raise ProjectError(
                f"trailing feature {self.name!r}: a mean needs prior=(sum, count > 0)"
            )

    @property
    def window(self) -> pd.Timedelta:
        return pd.Timedelta(days=self.days)

    def combine(self, total: Any, count: Any) -> Any:
        """The feature from a window's sum and count of non-null values."""
        if self.agg == "count":
            return count
        if self.agg == "sum":
            return total
        return (total + self.prior[0]) / (count + self.prior[1])


AGGREGATES = ("count", "sum", "mean")
FeatureKind = AsOf | Trailing


@dataclass(frozen=True)
class Outcome:
    """The label `name`: 1 when `table` holds a row for the base row's `key`, else 0."""

    name: str
    table: str
    key: str


@dataclass(frozen=True)
class Definition:
    base: str
    row_id: str
    time: str
    carried: tuple[str, ...]
    features: tuple[FeatureKind, ...]
    label: Outcome
    tables: Mapping[str, RawTable] = field(default_factory=dict)

    def clock(self, feature: FeatureKind) -> str:
        return feature.clock or self.tables[feature.table].known_at

    @property
    def columns(self) -> list[str]:
        """The output's columns, in order."""
        return [self.row_id, self.time, *self.carried, *(f.name for f in self.features),
                self.label.name]  # fmt: skip

    def check_inputs(self, frames: Mapping[str, pd.DataFrame]) -> None:
        """Every table and column the definition reads is there (one line if not)."""
        needed: dict[str, set[str]] = {self.base: {self.row_id, self.time, *self.carried}}
        for feature in self.features:
            needed[self.base].add(feature.key)
            needed.setdefault(feature.table, set()).update(
                {feature.key, feature.column, self.clock(feature)}
            )
        needed.setdefault(self.label.table, set()).add(self.label.key)
        needed[self.base].add(self.label.key)
        for table, columns in needed.items():
            if table not in frames:
                raise ProjectError(f"raw table {table!r} is missing: the dataset reads it")
            missing = sorted(columns - set(frames[table].columns))
            if missing:
                raise ProjectError(f"raw table {table!r} has no column {', '.join(missing)}")


def instants(values: pd.Series) -> pd.Series:
    """Timestamps as UTC nanoseconds, whatever unit and zone a file stored them in."""
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")


def build_pandas(definition: Definition, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The training table on pandas: one row per base row, ordered by row id."""
    definition.check_inputs(frames)
    base = frames[definition.base]
    keys = sorted({f.key for f in definition.features} - {definition.row_id, definition.time})
    # (A feature keyed by the row id itself reads the row's own records.)
    out = base[[definition.row_id, definition.time, *definition.carried]].copy()
    out[definition.time] = instants(out[definition.time])
    anchor = base[[definition.row_id, definition.time, *keys]].assign(
        **{definition.time: out[definition.time]}
    )
    anchor = anchor.sort_values([definition.time, definition.row_id], kind="mergesort")
    for feature in definition.features:
        if isinstance(feature, Trailing):
            values = _trailing(definition, feature, anchor, frames[feature.table])
            out = out.merge(values, on=definition.row_id)
            continue
        clock = definition.clock(feature)
        table = frames[feature.table]
        # Built column by column: the clock may be the value itself (a leaky definition).
        source = pd.concat(
            [table[feature.key].rename(feature.key), instants(table[clock]).rename("_known"),
             table[feature.column].rename(feature.name)], axis=1,
        ).reset_index(drop=True)  # fmt: skip
        # Ties on the clock are broken by the value, as the Spark engine breaks them.
        source = _typed_keys(source.dropna(subset=[feature.key, "_known"]), anchor, feature.key)
        source = source.sort_values(["_known", feature.name], kind="mergesort",
                                    na_position="first")  # fmt: skip
        joined = pd.merge_asof(
            anchor[list(dict.fromkeys([definition.row_id, definition.time, feature.key]))],
            source,
            left_on=definition.time, right_on="_known", by=feature.key,
            allow_exact_matches=False, direction="backward",
        )  # fmt: skip
        out = out.merge(joined[[definition.row_id, feature.name]], on=definition.row_id)
    label = definition.label
    outcomes = set(frames[label.table][label.key].dropna())
    out[label.name] = base[label.key].isin(outcomes).astype("int64").to_numpy()
    return out.sort_values(definition.row_id, kind="mergesort").reset_index(drop=True)[
        definition.columns
    ]


def _typed_keys(source: pd.DataFrame, anchor: pd.DataFrame, key: str) -> pd.DataFrame:
    """An empty table's key column has no type to join on: it takes the base's."""
    return source.astype({key: anchor[key].dtype}) if source.empty else source


def _trailing(
    definition: Definition, feature: Trailing, anchor: pd.DataFrame, table: pd.DataFrame
) -> pd.DataFrame:
    """(row id, feature) for every base row: running totals per key, read just before the
    row's time and just before the window's start; the window is their difference."""
    source = pd.concat(
        [table[feature.key].rename(feature.key),
         instants(table[definition.clock(feature)]).rename("_known"),
         pd.to_numeric(table[feature.column]).rename("_value")], axis=1,
    ).dropna(subset=[feature.key, "_known"])  # fmt: skip
    source = _typed_keys(source, anchor, feature.key)
    # One row per key and instant, so the running total at an instant counts all of it.
    per_instant = (
        source.assign(_n=source["_value"].notna().astype("int64"))
        .groupby([feature.key, "_known"], sort=True)
        .agg(_sum=("_value", "sum"), _n=("_n", "sum"))
        .reset_index()
        .sort_values(["_known", feature.key], kind="mergesort")
    )
    running = per_instant.groupby(feature.key, sort=False)[["_sum", "_n"]].cumsum()
    per_instant[["_sum", "_n"]] = running
    rows = anchor[list(dict.fromkeys([definition.row_id, definition.time, feature.key]))]
    rows = rows.assign(_start=rows[definition.time] - feature.window)
    totals = []
    for at in (definition.time, "_start"):
        # Strictly before `at`: the total at the row's time less the one before the window.
        joined = pd.merge_asof(
            rows.sort_values(at, kind="mergesort"), per_instant,
            left_on=at, right_on="_known", by=feature.key,
            allow_exact_matches=False, direction="backward",
        ).set_index(definition.row_id)  # fmt: skip
        totals.append(joined[["_sum", "_n"]].astype("float64").fillna(0.0))
    window = totals[0] - totals[1].reindex(totals[0].index)
    value = feature.combine(window["_sum"], window["_n"].astype("int64"))
    return pd.DataFrame({definition.row_id: window.index, feature.name: value.to_numpy()})


def leaky_features(
    definition: Definition, frames: Mapping[str, pd.DataFrame], sample: int = 100, seed: int = 0
) -> list[str]:
    """The features whose value for a row changes when the raw tables are cut at that
    row's time (by each table's declared knowledge time): they read the future."""
    built = build_pandas(definition, frames).set_index(definition.row_id)
    base = frames[definition.base]
    rows = base.sample(min(sample, len(base)), random_state=seed)
    cut_by = {
        name: instants(frame[definition.tables[name].known_at])
        for name, frame in frames.items()
        if name in definition.tables and name != definition.base
    }
    leaky: set[str] = set()
    for _, row in rows.iterrows():
        at = instants(pd.Series([row[definition.time]])).iloc[0]
        known = {
            name: frame[(cut_by[name] < at).to_numpy()] if name in cut_by else frame
            for name, frame in frames.items()
        }
        for feature in definition.features:  # only this row's keys: a small build
            source = known[feature.table]
            known[feature.table] = source[source[feature.key] == row[feature.key]]
        known[definition.base] = base[base[definition.row_id] == row[definition.row_id]]
        alone = build_pandas(definition, known).set_index(definition.row_id)
        for feature in definition.features:
            full: Any = built.at[row[definition.row_id], feature.name]
            cut: Any = alone.iloc[0][feature.name]
            if not (pd.isna(full) and pd.isna(cut)) and full != cut:
                leaky.add(feature.name)
    return sorted(leaky)
