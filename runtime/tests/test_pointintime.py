"""The point-in-time engine's feature kinds on pandas, against their definition computed
the slow way, row by row: an as-of value is the last one known strictly before the row's
time; a trailing aggregate reads exactly the rows known in [time - window, time)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.tabular.pointintime import (
    AsOf,
    Definition,
    Outcome,
    RawTable,
    Trailing,
    build_pandas,
    leaky_features,
)

T0 = pd.Timestamp("2026-01-05", tz="UTC")
HIT_RATE = Trailing("hit_rate", table="quotes", key="client", column="done", days=2,
                    prior=(1, 2))  # fmt: skip
COUNT = Trailing("quotes_2d", table="quotes", key="client", column="done", days=2, agg="count")
TOTAL = Trailing("done_2d", table="quotes", key="client", column="done", days=2, agg="sum")
LAST = AsOf("last_done", table="quotes", key="client", column="done")


def definition(*features: AsOf | Trailing) -> Definition:
    return Definition(
        base="rfqs", row_id="rfq", time="at", carried=(), features=features,
        label=Outcome("won", table="trades", key="rfq"),
        tables={"quotes": RawTable("quotes", known_at="known_at")},
    )  # fmt: skip


hours = st.integers(min_value=0, max_value=24 * 6)
quotes = st.lists(
    st.tuples(st.sampled_from("ab"), hours, st.one_of(st.none(), st.integers(0, 1))),
    max_size=40,
)
rfqs = st.lists(st.tuples(st.sampled_from("abc"), hours), min_size=1, max_size=20)


def frames(
    quote_rows: list[tuple[str, int, int | None]], rfq_rows: list[tuple[str, int]]
) -> dict[str, pd.DataFrame]:
    return {
        "rfqs": pd.DataFrame(
            {"rfq": [f"r{n}" for n in range(len(rfq_rows))],
             "client": [c for c, _ in rfq_rows],
             "at": [T0 + pd.Timedelta(hours=h) for _, h in rfq_rows]}
        ),
        "quotes": pd.DataFrame(
            {"client": [c for c, _, _ in quote_rows],
             "known_at": [T0 + pd.Timedelta(hours=h) for _, h, _ in quote_rows],
             "done": pd.array([d for _, _, d in quote_rows], dtype="Int64")}
        ),
        "trades": pd.DataFrame({"rfq": ["r0"]}),
    }  # fmt: skip


def slow(
    feature: Trailing, quote_rows: list[tuple[str, int, int | None]], client: str, hour: int
) -> float:
    """The definition, read literally: the client's non-null values known in the window."""
    seen = [d for c, h, d in quote_rows
            if c == client and hour - 24 * feature.days <= h < hour and d is not None]  # fmt: skip
    if feature.agg == "count":
        return len(seen)
    if feature.agg == "sum":
        return float(sum(seen))
    return (sum(seen) + feature.prior[0]) / (len(seen) + feature.prior[1])


@settings(max_examples=150, deadline=None)
@given(quote_rows=quotes, rfq_rows=rfqs)
def test_a_trailing_aggregate_reads_exactly_the_window_before_the_row(
    quote_rows: list[tuple[str, int, int | None]], rfq_rows: list[tuple[str, int]]
) -> None:
    built = build_pandas(definition(HIT_RATE, COUNT, TOTAL), frames(quote_rows, rfq_rows))
    for n, (client, hour) in enumerate(rfq_rows):
        row = built.loc[built["rfq"] == f"r{n}"].iloc[0]
        for feature in (HIT_RATE, COUNT, TOTAL):
            assert math.isclose(row[feature.name], slow(feature, quote_rows, client, hour)), (
                feature.name, client, hour,
            )  # fmt: skip


def test_the_window_holds_its_start_and_not_the_row_s_own_instant() -> None:
    rows = [("a", 0, 1), ("a", 48, 0), ("a", 96, 1)]
    built = build_pandas(definition(COUNT), frames(rows, [("a", 96), ("a", 97)]))
    # At hour 96: the rows of hours 48 (the window's start) and not 96 (the row's instant);
    # at 97: 48 is now outside, 96 inside.
    assert built["quotes_2d"].tolist() == [1, 1]


def test_a_trailing_feature_read_by_its_observation_clock_is_caught_as_leaky() -> None:
    rows = [("a", h, h % 2) for h in range(0, 100, 3)]
    data = frames(rows, [("a", h) for h in range(5, 100, 7)])
    # Quotes are observed two hours before they are known: reading them by observation
    # time sees outcomes the desk did not have yet.
    data["quotes"]["observed_at"] = data["quotes"]["known_at"] - pd.Timedelta(hours=2)
    honest = definition(HIT_RATE)
    leaky = definition(Trailing("hit_rate", table="quotes", key="client", column="done",
                                days=2, prior=(1, 2), clock="observed_at"))  # fmt: skip
    assert leaky_features(honest, data) == []
    assert leaky_features(leaky, data) == ["hit_rate"]


def test_as_of_and_trailing_features_build_side_by_side() -> None:
    rows = [("a", 1, 1), ("a", 2, 0), ("b", 3, 1)]
    built = build_pandas(definition(LAST, HIT_RATE), frames(rows, [("a", 3), ("b", 3), ("c", 9)]))
    assert built["last_done"].iloc[0] == 0
    assert built["last_done"].iloc[1:].isna().all()  # b's only row is at its own instant
    assert built["hit_rate"].tolist() == [(1 + 1) / (2 + 2), 0.5, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"agg": "median"}, "agg"), ({"days": 0}, "days"), ({"prior": (0, 0)}, "prior")],
)
def test_a_trailing_feature_that_cannot_be_built_is_one_line(
    kwargs: dict[str, object], word: str
) -> None:
    arguments: dict[str, object] = {
        "name": "f",
        "table": "t",
        "key": "k",
        "column": "c",
        "days": 30,
    }
    with pytest.raises(ProjectError, match=word):
        Trailing(**{**arguments, **kwargs})  # type: ignore[arg-type]


def test_an_empty_source_table_gives_every_row_its_empty_value() -> None:
    built = build_pandas(definition(LAST, HIT_RATE, COUNT), frames([], [("a", 3), ("b", 5)]))
    assert built["last_done"].isna().all()
    assert built["hit_rate"].tolist() == [0.5, 0.5]
    assert built["quotes_2d"].tolist() == [0, 0]
