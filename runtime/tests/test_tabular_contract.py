"""The data contract a project's FeatureSchema declares: every problem named at once, in
one line each (column, rule, failing rows), whatever the frame holds; and the request
schema the same declaration derives for serving."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames
from pydantic import ValidationError
from tabular_models import SCHEMA, sample

from goldpath_runtime.errors import DataValidationError
from goldpath_runtime.tabular.contract import Contract

CONTRACT = Contract(SCHEMA)


def test_a_valid_frame_comes_back_in_contract_order_and_types() -> None:
    frame = sample(50).assign(rfq_id=range(50), at=pd.Timestamp("2026-01-01"))
    frame["spread"] = frame["spread"].round().astype("int64") + 1
    checked = CONTRACT.validate_frame(frame, require_target=True)
    assert list(checked.columns) == [*SCHEMA.names, "won"]
    assert checked["spread"].dtype == "float64"
    assert checked["won"].dtype == "int64"
    assert list(CONTRACT.validate_frame(frame).columns) == list(SCHEMA.names)


def test_missing_columns_are_named_in_contract_order() -> None:
    with pytest.raises(DataValidationError, match=r"missing column\(s\) side, tier$"):
        CONTRACT.validate_frame(sample(20).drop(columns=["tier", "side"]))
    with pytest.raises(DataValidationError, match=r"missing column\(s\) won$"):
        CONTRACT.validate_frame(sample(20, target=False), require_target=True)
    with pytest.raises(DataValidationError, match=r"invalid data: no rows$"):
        CONTRACT.validate_frame(sample(20).head(0))


def test_every_bad_field_is_reported_at_once_with_its_rows() -> None:
    frame = sample(200)
    frame.loc[:9, "spread"] = 5_000.0
    frame.loc[10:12, "spread"] = -500.0
    frame.loc[20:26, "side"] = None
    frame.loc[30:31, "tier"] = ["diamond", "lead"]
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[40, "amount"] = "large"
    with pytest.raises(DataValidationError) as caught:
        CONTRACT.validate_frame(frame)
    assert caught.value.problems == [
        "amount: must be a number (1 row(s) fail: 'large')",
        "side: must have a value (7 row(s) fail)",
        "spread: must be greater than -100 (3 row(s) fail)",
        "spread: must be at most 1000 (10 row(s) fail)",
        "tier: must be one of ['gold', 'silver', 'bronze'] (2 row(s) fail: 'diamond', 'lead')",
    ]


def test_rows_are_counted_even_when_the_index_repeats() -> None:
    once = sample(100)
    twice = pd.concat([once, once])  # two files appended: index 0..99 twice
    twice.iloc[[0, 100], twice.columns.get_loc("spread")] = 5_000.0
    with pytest.raises(DataValidationError) as caught:
        CONTRACT.validate_frame(twice)
    assert caught.value.problems == ["spread: must be at most 1000 (2 row(s) fail)"]


def test_the_target_must_be_binary_with_both_classes() -> None:
    frame = sample(50).assign(won=3)
    with pytest.raises(DataValidationError, match=r"won: must be 0 or 1 \(50 row\(s\) fail\)"):
        CONTRACT.validate_frame(frame, require_target=True)
    with pytest.raises(DataValidationError, match=r"won: both classes \(0 and 1\) must be"):
        CONTRACT.validate_frame(frame.assign(won=1), require_target=True)


# Whatever a file holds: one DataValidationError, one line per problem, never a traceback.
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["buy", "sell", "gold", "silver", "bronze", "1e3"]),
    st.binary(max_size=8), st.datetimes(),
)  # fmt: skip
COLUMNS = [*SCHEMA.names, "won", "extra"]


def _problems(frame: pd.DataFrame, require_target: bool) -> tuple[pd.DataFrame | None, list[str]]:
    try:
        return CONTRACT.validate_frame(frame, require_target=require_target), []
    except DataValidationError as exc:
        return None, exc.problems


@settings(max_examples=100, deadline=None)
@given(
    frame=data_frames([column(name, elements=CELLS, dtype=object) for name in COLUMNS]),
    dropped=st.sets(st.sampled_from(COLUMNS)),
    require_target=st.booleans(),
)
def test_any_frame_is_accepted_or_refused_in_one_line_per_problem(
    frame: pd.DataFrame, dropped: set[str], require_target: bool
) -> None:
    checked, problems = _problems(frame.drop(columns=sorted(dropped)), require_target)
    for problem in problems:
        assert "\n" not in problem
        assert len(problem) < 500
        named = problem.split(":")[0]
        assert (
            problem == "no rows" or problem.startswith("missing column(s) ") or (named in COLUMNS)
        ), problem
    if checked is None:
        assert problems
        return
    assert list(checked.columns) == [*SCHEMA.names, *(["won"] if require_target else [])]
    for name in SCHEMA.numeric:
        feature = SCHEMA.feature(name)
        assert all(feature.gt < v <= feature.le for v in checked[name])  # type: ignore[operator]
        assert not any(math.isnan(v) for v in checked[name])
    for name in SCHEMA.categorical:
        assert set(checked[name]) <= set(SCHEMA.feature(name).categories)


def test_the_request_schema_follows_the_features() -> None:
    row_model = SCHEMA.request_row_model()
    row: dict[str, Any] = {"amount": 5e6, "side": "buy", "spread": 3, "tier": "gold"}
    assert set(row_model.model_fields) == set(SCHEMA.names)
    row_model.model_validate(row)
    with pytest.raises(ValidationError) as caught:
        row_model.model_validate({**row, "side": "hold", "extra": 1})
    assert {error["loc"][0] for error in caught.value.errors()} == {"side", "extra"}
    # Numbers must be JSON numbers, as the published schema says; integers are numbers.
    for not_a_number in (True, "5000000", float("nan"), float("inf"), 0, 2e9):
        with pytest.raises(ValidationError, match="amount"):
            row_model.model_validate({**row, "amount": not_a_number})
