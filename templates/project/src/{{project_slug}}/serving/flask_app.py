"""The model service on the platform's WSGI shell (goldpath_runtime.serving.wsgi: probes,
errors, metrics, logs, background load), run by gunicorn (gunicorn.conf.py):

    gunicorn --config gunicorn.conf.py '<package>.serving.flask_app:create_app()'

What is this service's own: the model it loads and the /predict route.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from goldpath_runtime.serving.loading import retry_delay
from goldpath_runtime.serving.model_metrics import MODEL_INFO, PREDICTIONS
from goldpath_runtime.serving.wsgi import Loaded, create_service, error, read_body
from goldpath_runtime.tabular.predictor import Predictor, openapi_document, readiness

from .. import __version__
from ..config import Settings, load_settings
from ..schema import SCHEMA
from .core import load_predictor


def create_app(
    settings: Settings | None = None, loader: Callable[[Settings], Predictor] = load_predictor
) -> Flask:
    """The WSGI app; `loader` builds the Predictor (tests pass a slow one to see loading)."""
    settings = settings or load_settings()
    loaded: Loaded[Predictor] = Loaded("model")

    def load() -> Predictor:
        predictor = loader(settings)
        MODEL_INFO.labels(predictor.model.name, predictor.model.version).set(1)
        return predictor

    app = create_service(
        __name__,
        loaded=loaded,
        load=load,
        on_failure=lambda exc, attempt: retry_delay(exc, attempt, settings.model_retry_max_s),
        readiness=readiness,
        describe=lambda p: {"model": p.model.name, "version": p.model.version},
        routes=["/predict"],
        openapi=openapi_document(SCHEMA, settings.model_name, __version__, settings.max_batch_size),
        max_body_bytes=settings.max_body_bytes,
        log_level=settings.log_level,
        access_log_flush_s=settings.access_log_flush_s,
    )

    @app.post("/predict")
    def predict() -> tuple[Response, int]:
        """Score one row (a JSON object of features) or a batch (`{"instances": [...]}`)."""
        predictor = loaded.wait(settings.model_load_wait_s)
        if predictor is None:
            return error(503, "model", "still loading, retry shortly", retry_after=1)
        rows, single = predictor.parse(read_body(settings.client_timeout_s), request.content_type)
        result = predictor.predict(rows, single)
        PREDICTIONS.labels(predictor.model.version).inc(len(rows))
        return jsonify(result), 200

    return app
