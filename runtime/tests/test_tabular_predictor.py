"""The tabular predictor: any body is scored or refused with a 4xx naming its fields
(never another exception), rows score on the fast path exactly as the pipeline does, a
fast path that disagrees is not used, and the OpenAPI document describes what is parsed."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tabular_models import SCHEMA, Version, fitted_pipeline, sample

from goldpath_runtime.serving.requests import RequestError
from goldpath_runtime.tabular.fastpath import FastScorer
from goldpath_runtime.tabular.predictor import Predictor, openapi_document

PIPELINE = fitted_pipeline()
ROW: dict[str, Any] = {"amount": 5e5, "side": "buy", "spread": 12.0, "tier": "gold"}


class Model(Version):
    def predict(self, frame: Any) -> tuple[np.ndarray, np.ndarray]:
        probability = self.pipeline.predict_proba(frame)[:, 1]
        return self.labels(probability), probability

    def labels(self, probability: np.ndarray) -> np.ndarray:
        return (probability >= self.threshold).astype("int64")


def predictor(max_batch: int = 5) -> Predictor:
    return Predictor(Model(PIPELINE), max_batch, SCHEMA, lambda: sample(200, 7, target=False))


def refused(body: bytes, content_type: str | None = "application/json") -> RequestError:
    with pytest.raises(RequestError) as caught:
        predictor().parse(body, content_type)
    return caught.value


def test_one_row_and_a_batch_score_as_the_pipeline() -> None:
    scoring = predictor()
    assert scoring.fast is not None, "the fast path passed its check"
    rows, single = scoring.parse(json.dumps(ROW).encode())
    answer = scoring.predict(rows, single)
    expected = PIPELINE.predict_proba(pd.DataFrame([ROW])[list(SCHEMA.names)])
    assert answer["probability"] == pytest.approx(float(expected[0, 1]), abs=1e-12)
    assert answer["model_version"] == "3"
    rows, single = scoring.parse(json.dumps({"instances": [ROW, ROW]}).encode())
    batch = scoring.predict(rows, single)
    assert batch["predictions"] == [answer["prediction"]] * 2


def test_every_bad_field_is_named_where_it_is() -> None:
    bad = {"instances": [ROW, {**ROW, "side": "hold", "extra": 1}]}
    error = refused(json.dumps(bad).encode())
    assert error.status == 422
    assert {e["field"] for e in error.errors} == {"instances[1].side", "instances[1].extra"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b"{", "application/json", 400, "body"),
        (b"[" * 100_000, "application/json", 400, "body"),
        (b"[1]", "application/json", 422, "body"),
        (json.dumps({"instances": []}).encode(), "application/json", 422, "instances"),
        (json.dumps({"instances": [ROW] * 6}).encode(), "application/json", 422, "instances"),
        (json.dumps({"instances": [ROW], "x": 1}).encode(), "application/json", 422, "x"),
        (json.dumps(ROW).encode(), "text/plain", 415, None),
    ],
)
def test_a_body_that_is_not_rows_is_one_clear_refusal(
    body: bytes, content_type: str, status: int, field: str | None
) -> None:
    error = refused(body, content_type)
    assert error.status == status
    if field is not None:
        assert error.errors[0]["field"] == field


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(payload=JSON | st.fixed_dictionaries({}, optional={k: JSON for k in ROW}),
       raw=st.binary(max_size=64))  # fmt: skip
def test_any_body_is_rows_or_a_4xx(payload: Any, raw: bytes) -> None:
    scoring = predictor()
    for body in (json.dumps(payload).encode(), raw):
        try:
            rows, single = scoring.parse(body)
        except RequestError as error:
            status, errors = error.status, error.errors
        else:
            assert scoring.predict(rows, single)["model_version"] == "3"
            continue
        assert 400 <= status < 500
        assert len(errors) <= 20


def test_a_fast_path_that_disagrees_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    honest = FastScorer.predict_proba
    monkeypatch.setattr(FastScorer, "predict_proba", lambda self, m: honest(self, m) + 0.5)
    scoring = predictor()
    assert scoring.fast is None
    rows, single = scoring.parse(json.dumps(ROW).encode())
    assert 0 <= scoring.predict(rows, single)["probability"] <= 1


def test_the_openapi_document_describes_one_row_or_a_bounded_batch() -> None:
    document = openapi_document(SCHEMA, "rfq_model", "1.0", 7)
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    row, batch = body["schema"]["oneOf"]
    assert set(row["properties"]) == set(SCHEMA.names)
    assert batch["properties"]["instances"]["maxItems"] == 7
    assert {"/healthz", "/readyz"} <= set(document["paths"])


def reference(scoring: Predictor, body: bytes) -> tuple[Any, ...]:
    try:
        return scoring._parse_reference(body)
    except RequestError as error:
        return (error.status, error.errors)


def near_rows(draw: st.DrawFn) -> Any:
    """Rows a client might send: valid ones, and ones a field away from valid."""
    row: dict[str, Any] = {
        "amount": draw(st.floats(-10.0, 1e7) | st.integers(-5, 10**7) | st.booleans()),
        "side": draw(st.sampled_from(["buy", "sell", "hold", "BUY", ""]) | st.integers(0, 1)),
        "spread": draw(st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=4)),
        "tier": draw(st.sampled_from(["gold", "silver", "platinum", None])),
    }
    for name in draw(st.sets(st.sampled_from(sorted(row)), max_size=1)):
        del row[name]
    if draw(st.booleans()):
        row[draw(st.sampled_from(["extra", "instances", "amount"]))] = 1
    return row


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    rows = st.composite(lambda d: near_rows(d))()
    payload = draw(rows | st.builds(lambda r: {"instances": r}, st.lists(rows, max_size=7)) | JSON)
    text = json.dumps(payload, allow_nan=True)
    # Python's parser and pydantic-core's differ at the edges: NaN, duplicate keys,
    # whitespace and a byte-order mark.
    text = draw(
        st.sampled_from(
            [text, f" {text}\n", "\ufeff" + text, text.replace("}", ', "side": "buy"}', 1)]
        )
    )
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16"])))


@settings(max_examples=400, deadline=None)
@given(body=bodies())
def test_the_compiled_decoder_accepts_only_what_the_reference_accepts(body: bytes) -> None:
    """Valid bodies are decoded and validated by pydantic-core in one pass; every other
    body is answered by the reference parser. Whatever the body, the answer (rows, or
    status and named fields) is the reference's."""
    scoring = predictor()
    try:
        got: tuple[Any, ...] = scoring.parse(body)
    except RequestError as error:
        got = (error.status, error.errors)
    assert got == reference(scoring, body)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=5), st.booleans())
def test_the_answer_is_written_as_the_json_encoder_would(values: list[float], single: bool) -> None:
    scoring = predictor()
    probability = np.array(values[:1] if single else values)
    written = scoring.respond_json(probability, single)
    assert json.loads(written) == scoring.respond(probability, single)
    assert (
        written == json.dumps(scoring.respond(probability, single), separators=(",", ":")).encode()
    )
