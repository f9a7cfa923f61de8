"""asgi_service's Flask twin, for a project that answered `serving: flask`: the same
`/predict` and documented operation on the WSGI shell (gevent workers), without the
micro-batcher (a gevent worker scores each request as it comes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from flask import Flask, Response, request

from ..serving.loading import retry_delay
from ..serving.model_metrics import MODEL_INFO, PredictionCounter
from ..serving.wsgi import Loaded, create_service, error, read_body
from .features import FeatureSchema
from .predictor import Predictor, openapi_document, readiness
from .settings import TabularSettings as Settings

if TYPE_CHECKING:
    from .shadow import Shadow

JSON = "application/json"
AnySettings = TypeVar("AnySettings", bound=Settings)


def create_app(
    settings: AnySettings,
    loader: Callable[[AnySettings], Predictor],
    schema: FeatureSchema,
    *,
    version: str,
    description: str = "Scores requests with the registered champion model.",
) -> Flask:
    """The WSGI app; `loader` builds the Predictor (tests pass a slow one to see loading)."""
    loaded: Loaded[Predictor] = Loaded("model")
    shadow: Shadow | None = None
    predictions = PredictionCounter()

    def load() -> Predictor:
        nonlocal shadow
        predictor = loader(settings)
        if settings.shadow_sample_rate > 0:
            from .shadow import start_shadow  # an unshadowed worker starts without it

            shadow = start_shadow(settings, loader, predictor, schema)
        MODEL_INFO.labels(predictor.model.name, predictor.model.version).set(1)
        return predictor

    app = create_service(
        __name__,
        loaded=loaded,
        load=load,
        on_failure=lambda exc, attempt: retry_delay(exc, attempt, settings.model_retry_max_s),
        readiness=readiness,
        describe=lambda p: {
            "model": p.model.name,
            "version": p.model.version,
            "shadow": None if shadow is None else shadow.version,
        },
        routes=["/predict"],
        openapi=openapi_document(schema, settings.model_name, version, settings.max_batch_size),
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
        probability = predictor.score(rows)
        predictions.inc(predictor.model.version, len(rows))
        response = Response(predictor.respond_json(probability, single), 200, mimetype=JSON)
        if shadow is not None and shadow.sampled():
            # Called when the server closes the response, after its body has been sent.
            labels = predictor.model.labels(probability)
            offered = shadow
            response.call_on_close(lambda: offered.offer(rows, probability, labels))
        return response, 200

    return app
