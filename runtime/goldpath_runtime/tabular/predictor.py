"""A tabular service's request parsing, validation and prediction, independent of the web
framework, for the features a project declares.

A body is either one row of features (a JSON object) or `{"instances": [row, ...]}`.
Every rejected field is named in the error, as `field` = `notional_usd` or
`instances[3].side`, so a client can fix its request without reading our code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..errors import ProjectError
from ..serving.requests import RequestError, is_json, not_json
from . import lean
from .fastpath import FastScorer

if TYPE_CHECKING:
    # Imported where used: a worker serving the lean artifact never loads pandas.
    import pandas as pd

    from .features import FeatureSchema


class FullModel(lean.ExportedModel, Protocol):
    """A registered version loaded with its whole pipeline (MLflow, scikit-learn)."""

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]: ...
    def labels(self, probability: np.ndarray) -> np.ndarray: ...


log = logging.getLogger(__name__)
_INF = float("inf")


def _field(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def openapi_request_schema(schema: FeatureSchema, max_batch_size: int) -> dict[str, Any]:
    """The /predict body as OpenAPI: one row, or a batch of at most `max_batch_size` rows."""
    row = schema.request_row_model().model_json_schema()
    batch = {
        "title": "Batch",
        "type": "object",
        "properties": {
            "instances": {"type": "array", "items": row, "minItems": 1, "maxItems": max_batch_size}
        },
        "required": ["instances"],
        "additionalProperties": False,
    }
    return {"oneOf": [row, batch]}


_ERRORS = {
    "400": {"description": "Body is not JSON"},
    "413": {"description": "Body too large"},
    "415": {"description": "Body is not sent as JSON (Content-Type)"},
    "422": {"description": "A field is invalid"},
    "503": {"description": "Model not loaded yet, or overloaded: retry after Retry-After"},
}


def predict_operation(schema: FeatureSchema, max_batch_size: int) -> dict[str, Any]:
    """POST /predict as an OpenAPI operation (the route is plain: no framework writes it)."""
    return {
        "post": {
            "tags": ["model"],
            "summary": "Score one row or a batch",
            "description": 'One row (an object of features) or a batch: `{"instances": [...]}`.',
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": openapi_request_schema(schema, max_batch_size)}
                },
            },
            "responses": {"200": {"description": "Predictions"}, **_ERRORS},
        }
    }


def openapi_document(
    schema: FeatureSchema, title: str, version: str, max_batch_size: int
) -> dict[str, Any]:
    """The service's OpenAPI 3.1 document, for the frameworks that do not generate one."""
    probe = {"get": {"tags": ["operations"], "responses": {"200": {"description": "OK"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {
            "/predict": predict_operation(schema, max_batch_size),
            "/healthz": probe,
            "/readyz": {
                "get": {
                    **probe["get"],
                    "responses": {"200": {"description": "Ready"}, "503": _ERRORS["503"]},
                }
            },
        },
    }


class Predictor:
    """Validates request bodies against the feature schema and scores them."""

    def __init__(
        self, model: FullModel | lean.LeanModel, max_batch_size: int, schema: FeatureSchema,
        check_rows: Callable[[], pd.DataFrame],
    ) -> None:  # fmt: skip
        """`check_rows` gives the sample a full model's fast path must score exactly as its
        pipeline does before it is used (a lean model was checked at export)."""
        self.model = model
        self.max_batch_size = max_batch_size
        self.schema = schema
        self.row_model: type[BaseModel] = schema.request_row_model()
        # pydantic-core's JSON decoder and validator in one compiled pass, for bodies that
        # are valid (a third of json.loads, model_validate and model_dump); any other body
        # takes `_parse_reference`, which names every error.
        self.batch_model: type[BaseModel] = create_model(
            "FeatureBatch", __config__=ConfigDict(extra="forbid"),
            instances=(list[self.row_model], Field(min_length=1, max_length=max_batch_size)),  # type: ignore[name-defined]
        )  # fmt: skip
        self.version_json = json.dumps(str(model.version))
        self.fast: FastScorer | None = None
        if isinstance(model, lean.LeanModel):
            self.fast = model.scorer
            return
        try:
            scorer = FastScorer(model.pipeline, schema)
            if scorer.check_against(model.pipeline, check_rows()):
                self.fast = scorer
            else:
                log.warning("numpy fast path disagrees with the pipeline; using the pipeline")
        except (AttributeError, KeyError, TypeError):
            log.warning("pipeline layout not recognised; serving with the full pipeline")

    def _validate_rows(self, rows: list[Any], prefix: str) -> list[dict[str, Any]]:
        valid: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        for index, row in enumerate(rows):
            try:
                valid.append(self.row_model.model_validate(row).model_dump())
            except ValidationError as exc:
                where = f"{prefix}[{index}]" if prefix else ""
                for error in exc.errors():
                    errors.append({"field": _field(where, error["loc"]), "message": error["msg"]})
        if errors:
            raise RequestError(422, errors[:20])
        return valid

    def parse(
        self, body: bytes, content_type: str | None = "application/json"
    ) -> tuple[list[dict[str, Any]], bool]:
        """Validated rows and whether the request was a single row."""
        if not is_json(content_type):
            raise not_json()
        try:
            if body[:1] == b"{" and b'"instances"' in body:
                batch = self.batch_model.model_validate_json(body)
                return [row.__dict__ for row in batch.instances], False  # type: ignore[attr-defined]
            return [self.row_model.model_validate_json(body).__dict__], True
        except ValidationError:
            return self._parse_reference(body)

    def _parse_reference(self, body: bytes) -> tuple[list[dict[str, Any]], bool]:
        """Python's JSON parser and the row model, row by row: the errors clients see."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RequestError(
                400, [{"field": "body", "message": "request body is not valid JSON"}]
            ) from None
        except RecursionError:
            # A body nested thousands of levels deep exhausts the parser's stack: a client
            # error, answered as one, not a 500 with a traceback.
            raise RequestError(
                400, [{"field": "body", "message": "JSON is nested too deeply"}]
            ) from None
        if not isinstance(payload, dict):
            raise RequestError(
                422,
                [{"field": "body", "message": "expected a JSON object: one row or {instances}"}],
            )
        if "instances" not in payload:
            return self._validate_rows([payload], ""), True
        extra = sorted(set(payload) - {"instances"})
        if extra:
            raise RequestError(
                422, [{"field": extra[0], "message": "unexpected field next to instances"}]
            )
        instances = payload["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError(
                422, [{"field": "instances", "message": "must be a non-empty list of rows"}]
            )
        if len(instances) > self.max_batch_size:
            raise RequestError(
                422,
                [
                    {
                        "field": "instances",
                        "message": f"at most {self.max_batch_size} rows per request, "
                        f"got {len(instances)}; split the batch",
                    }
                ],
            )
        return self._validate_rows(instances, "instances"), False

    def score(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """Hit probabilities for validated rows, on the numpy fast path when available."""
        if self.fast is not None:
            return self.fast.predict_proba(self.fast.encode(rows))
        import pandas as pd

        if isinstance(self.model, lean.LeanModel):  # never: a lean model always has `fast`
            raise ProjectError("the lean serving model has no scorer")
        frame = pd.DataFrame.from_records(rows, columns=list(self.schema.names))
        return self.model.predict(frame)[1]

    def respond_json(self, probability: np.ndarray, single: bool) -> bytes:
        """`respond` as JSON bytes; a single row's without building the dict (json.dumps
        writes a float as its repr, as here)."""
        if single:
            value = float(probability[0])
            if value != value or value in (_INF, -_INF):
                raise ValueError(f"probability {value} is not a JSON number")
            label = int(value >= self.model.threshold)  # as the model's `labels`
            return (
                f'{{"model_version":{self.version_json},"prediction":{label},'
                f'"probability":{value!r}}}'
            ).encode()
        return json.dumps(
            self.respond(probability, False), allow_nan=False, separators=(",", ":")
        ).encode()

    def respond(self, probability: np.ndarray, single: bool) -> dict[str, Any]:
        labels = self.model.labels(probability)
        if single:
            return {
                "model_version": self.model.version,
                "prediction": int(labels[0]),
                "probability": float(probability[0]),
            }
        return {
            "model_version": self.model.version,
            "predictions": labels.tolist(),
            "probabilities": probability.tolist(),
        }

    def predict(self, rows: list[dict[str, Any]], single: bool) -> dict[str, Any]:
        return self.respond(self.score(rows), single)


def readiness(predictor: Predictor) -> dict[str, Any]:
    """What /readyz says of a loaded model."""
    return {"model_version": predictor.model.version, "model_card": predictor.model.card_id}
