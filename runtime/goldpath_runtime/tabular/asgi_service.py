"""A tabular model service on the platform's ASGI shell (goldpath_runtime.serving.asgi:
probes, errors, metrics, logs, background load): `/predict` over the project's features,
run by gunicorn with the project's gunicorn.conf.py. The project's app module hands over
its settings, its loader (the model from MODEL_DIR or the registry) and its schema."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..serving.asgi import Loaded, ServiceApp, create_service
from ..serving.batching import MicroBatcher, Overloaded
from ..serving.hotpath import Answer, Incoming, error, read_body, refused, through_fastapi
from ..serving.loading import retry_delay
from ..serving.model_metrics import MODEL_INFO, PredictionCounter
from ..serving.requests import RequestError
from .features import FeatureSchema
from .predictor import Predictor, predict_operation, readiness
from .settings import TabularSettings as Settings

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from starlette.types import Receive, Scope

    from .shadow import Shadow

AnySettings = TypeVar("AnySettings", bound=Settings)


def create_app(
    settings: AnySettings,
    loader: Callable[[AnySettings], Predictor],
    schema: FeatureSchema,
    *,
    version: str,
    description: str = "Scores requests with the registered champion model.",
) -> ServiceApp:
    """The ASGI app; `loader` builds the Predictor (tests pass a slow one to see loading)."""
    loaded: Loaded[Predictor] = Loaded("model")
    batcher: MicroBatcher | None = None
    predictions = PredictionCounter()
    shadow: Shadow | None = None

    async def load() -> Predictor:
        nonlocal batcher, shadow
        predictor = await asyncio.to_thread(loader, settings)
        if settings.shadow_sample_rate > 0:
            # Imported here: an unshadowed worker (most are) starts without it. Before the
            # worker says it serves: a benchmark's ready worker is a shadowed one.
            from .shadow import start_shadow

            shadow = await asyncio.to_thread(start_shadow, settings, loader, predictor, schema)
        if predictor.fast is not None:
            batcher = MicroBatcher(
                predictor.fast.predict_proba, max_batch_rows=settings.max_batch_size
            )
        MODEL_INFO.labels(predictor.model.name, predictor.model.version).set(1)
        return predictor

    async def stop(_: Predictor) -> None:
        if batcher is not None:
            await batcher.stop()
        if shadow is not None:
            await asyncio.to_thread(shadow.stop)

    app = create_service(
        title=settings.model_name,
        version=version,
        description=description,
        loaded=loaded,
        load=load,
        on_failure=lambda exc, attempt: retry_delay(exc, attempt, settings.model_retry_max_s),
        readiness=readiness,
        describe=lambda p: {
            "model": p.model.name,
            "version": p.model.version,
            "batching": batcher is not None,
            "shadow": None if shadow is None else shadow.version,
        },
        routes=["/predict"],
        log_level=settings.log_level,
        access_log_flush_s=settings.access_log_flush_s,
        stop=stop,
    )

    async def predict(scope: Scope, receive: Receive, incoming: Incoming) -> Answer:
        """Score one row (a JSON object of features) or a batch (`{"instances": [...]}`)."""
        predictor = await loaded.wait(settings.model_load_wait_s)
        if predictor is None:
            return error(503, "model", "still loading, retry shortly", retry_after=1)
        try:
            body = await read_body(
                receive, incoming.content_length, settings.max_body_bytes,
                settings.client_timeout_s,
            )  # fmt: skip
            rows, single = predictor.parse(body, incoming.content_type)
        except RequestError as exc:
            return refused(exc)
        if batcher is not None and predictor.fast is not None:
            try:
                probability = await batcher.predict([predictor.fast.encode_row(r) for r in rows])
            except Overloaded:
                return error(503, "server", "overloaded, retry shortly", retry_after=1)
        else:
            probability = predictor.score(rows)
        predictions.inc(predictor.model.version, len(rows))
        answer = predictor.respond_json(probability, single)
        if shadow is not None and shadow.sampled():
            labels = predictor.model.labels(probability)
            offer = shadow.offer

            async def after() -> None:
                offer(rows, probability, labels)

            return Answer(200, answer, (), after)
        return Answer(200, answer)

    # A hot route (goldpath_runtime.serving.hotpath): answered before FastAPI's layers.
    app.hot_routes[("POST", "/predict")] = predict

    def add_routes(api: FastAPI) -> None:
        """The route through FastAPI, for the OpenAPI document (the Flask variant's
        operation) and for what reaches FastAPI: other methods (405), or the app mounted
        under another."""
        from fastapi.openapi.utils import get_openapi

        async def predict_routed(request: Request) -> Response:
            return await through_fastapi(predict, request)

        api.router.add_route("/predict", predict_routed, methods=["POST"])

        def openapi() -> dict[str, Any]:
            if api.openapi_schema is None:
                document = get_openapi(
                    title=api.title, version=api.version, description=api.description,
                    routes=api.routes,
                )  # fmt: skip
                document["paths"]["/predict"] = predict_operation(schema, settings.max_batch_size)
                api.openapi_schema = document
            return api.openapi_schema

        api.openapi = openapi  # type: ignore[method-assign]

    app.extend(add_routes)
    return app
