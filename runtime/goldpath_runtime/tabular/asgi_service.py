"""A tabular model service on the platform's ASGI shell (goldpath_runtime.serving.asgi:
probes, errors, metrics, logs, background load): `/predict` over the project's features,
run by gunicorn with the project's gunicorn.conf.py. The project's app module hands over
its settings, its loader (the model from MODEL_DIR or the registry) and its schema."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.types import Receive, Scope, Send

from ..serving.asgi import Loaded, create_service, error, read_body, refused
from ..serving.batching import MicroBatcher, Overloaded
from ..serving.loading import retry_delay
from ..serving.model_metrics import MODEL_INFO, PREDICTIONS
from ..serving.requests import RequestError
from .features import FeatureSchema
from .predictor import Predictor, predict_operation, readiness
from .settings import TabularSettings as Settings
from .shadow import Shadow, start_shadow

AnySettings = TypeVar("AnySettings", bound=Settings)


def create_app(
    settings: AnySettings,
    loader: Callable[[AnySettings], Predictor],
    schema: FeatureSchema,
    *,
    version: str,
    description: str = "Scores requests with the registered champion model.",
) -> FastAPI:
    """The ASGI app; `loader` builds the Predictor (tests pass a slow one to see loading)."""
    loaded: Loaded[Predictor] = Loaded("model")
    batcher: MicroBatcher | None = None
    shadow: Shadow | None = None

    async def load() -> Predictor:
        nonlocal batcher, shadow
        predictor = await asyncio.to_thread(loader, settings)
        # Before the worker says it serves: a benchmark's ready worker is a shadowed one.
        shadow = await asyncio.to_thread(start_shadow, settings, loader, predictor, schema)
        if predictor.fast is not None:
            batcher = MicroBatcher(
                predictor.fast.predict_proba, max_batch_rows=settings.max_batch_size
            )
            batcher.start()
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

    async def predict(request: Request) -> Response:
        """Score one row (a JSON object of features) or a batch (`{"instances": [...]}`)."""
        predictor = await loaded.wait(settings.model_load_wait_s)
        if predictor is None:
            return error(503, "model", "still loading, retry shortly", retry_after=1)
        try:
            rows, single = predictor.parse(
                await read_body(request, settings.max_body_bytes, settings.client_timeout_s),
                request.headers.get("content-type"),
            )
        except RequestError as exc:
            return refused(exc)
        if batcher is not None and predictor.fast is not None:
            try:
                probability = await batcher.predict(predictor.fast.encode(rows))
            except Overloaded:
                return error(503, "server", "overloaded, retry shortly", retry_after=1)
        else:
            probability = predictor.score(rows)
        PREDICTIONS.labels(predictor.model.version).inc(len(rows))
        answer = predictor.respond(probability, single)
        if shadow is not None and shadow.sampled():
            # Starlette runs a background task once the response has been sent.
            labels = predictor.model.labels(probability)
            task = BackgroundTask(shadow.offer, rows, probability, labels)
            return JSONResponse(answer, background=task)
        return JSONResponse(answer)

    # A plain Starlette route: FastAPI's per-request dependency solving cost more than
    # scoring the row (the body is read and validated here anyway). Its OpenAPI operation
    # is the one the Flask variant serves, added to FastAPI's document below.
    app.router.add_route("/predict", predict, methods=["POST"])

    async def predict_hot(scope: Scope, receive: Receive, send: Send) -> None:
        response = await predict(Request(scope, receive))
        await response(scope, receive, send)

    app.state.hot_routes[("POST", "/predict")] = predict_hot

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            document["paths"]["/predict"] = predict_operation(schema, settings.max_batch_size)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
