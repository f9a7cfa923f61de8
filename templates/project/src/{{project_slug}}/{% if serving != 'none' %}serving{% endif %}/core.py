"""Request parsing, validation and prediction, independent of the web framework.

A body is either one row of features (a JSON object) or `{"instances": [row, ...]}`.
Every rejected field is named in the error, as `field` = `notional_usd` or
`instances[3].side`, so a client can fix its request without reading our code.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from ..registry import LoadedModel
from ..schema import FEATURE_NAMES, request_row_model


class RequestError(Exception):
    def __init__(self, status: int, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"] if errors else "bad request")
        self.status = status
        self.errors = errors

    @property
    def body(self) -> dict[str, Any]:
        return {"detail": self.errors}


def body_too_large(limit: int) -> RequestError:
    return RequestError(
        413, [{"field": "body", "message": f"request body exceeds {limit} bytes; send fewer rows"}]
    )


def _field(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def openapi_request_schema(max_batch_size: int) -> dict[str, Any]:
    """The /predict body as OpenAPI: one row, or a batch of at most `max_batch_size` rows."""
    row = request_row_model().model_json_schema()
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


class Predictor:
    """Validates request bodies against the feature schema and scores them."""

    def __init__(self, model: LoadedModel, max_batch_size: int) -> None:
        self.model = model
        self.max_batch_size = max_batch_size
        self.row_model: type[BaseModel] = request_row_model()

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

    def parse(self, body: bytes) -> tuple[list[dict[str, Any]], bool]:
        """Validated rows and whether the request was a single row."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RequestError(
                400, [{"field": "body", "message": "request body is not valid JSON"}]
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

    def predict(self, rows: list[dict[str, Any]], single: bool) -> dict[str, Any]:
        frame = pd.DataFrame.from_records(rows, columns=list(FEATURE_NAMES))
        labels, probability = self.model.predict(frame)
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
