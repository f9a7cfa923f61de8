"""An extraction service on the platform's ASGI shell (goldpath_runtime.serving.asgi:
probes, errors, metrics, logs, background load), run by gunicorn with the project's
gunicorn.conf.py; the project's app module hands its parts over:

    def create_app() -> ServiceApp:
        return service.create_app(PROJECT)

Each worker loads the prompt in the background; `/extract` waits for it (up to
PROMPT_LOAD_WAIT_S). A prompt that does not exist ends the service with one log line; a
store that does not answer is retried while the worker stays unready. The serving alias
is re-read every PROMPT_REFRESH_S, so a promotion or a rollback reaches every worker with
no restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from ..serving import hotpath
from ..serving.asgi import Loaded, ServiceApp, create_service
from ..serving.hotpath import Answer, Incoming
from ..serving.loading import retry_unless_missing
from ..serving.metrics import child
from ..serving.requests import RequestError, is_json, not_json
from .extractor import Extractor, Outcome
from .metrics import (
    CIRCUIT,
    COST,
    ERRORS,
    GEN_AI_DURATION,
    GEN_AI_TOKENS,
    GUARDRAILS,
    MESSAGES,
    PROMPT_INFO,
    PROVIDER_LATENCY,
    TOKENS,
)
from .online_eval import OnlineEvaluation
from .project import ExtractionProject
from .prompts import Prompt, load_serving_prompt
from .providers import CircuitBreaker, CircuitOpenError, ProviderError, build_provider
from .settings import ExtractionSettings as Settings
from .settings import price_key
from .tracing import Tracer

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

log = logging.getLogger(__name__)

PROVIDER_STATUS = {"timeout": 504}

# The same test as the schema's `pattern`. An explicit class: `\S` differs between
# Python's and JSON Schema's (ECMA) regexes (e.g. on U+001F), and then they disagree.
VISIBLE = re.compile(r"[^ \t\n\r\f\v]")


def request_schema(settings: Settings) -> dict[str, Any]:
    """The /extract body, with the limits the service enforces (so fuzzers know them)."""
    text = {
        "type": "string",
        "minLength": 1,
        "maxLength": settings.max_message_chars,
        "pattern": VISIBLE.pattern,  # not only whitespace
    }
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"message": text},
                "required": ["message"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "messages": {
                        "type": "array",
                        "items": text,
                        "minItems": 1,
                        "maxItems": settings.max_messages,
                    }
                },
                "required": ["messages"],
                "additionalProperties": False,
            },
        ]
    }


def parse_request(
    body: bytes, content_type: str | None, settings: Settings
) -> tuple[list[str], bool]:
    """The messages in a request body and whether it was a single one; RequestError names
    the field and the fix."""
    if not is_json(content_type):
        raise not_json()
    try:
        payload = json.loads(body)
    except RecursionError:
        raise RequestError.about(400, "body", "JSON nested too deeply") from None
    except ValueError:
        raise RequestError.about(400, "body", "not valid JSON (UTF-8)") from None
    if (
        not isinstance(payload, dict)
        or len(payload) != 1
        or not ({"message", "messages"} & set(payload))
    ):
        raise RequestError.about(
            422, "body", 'send {"message": "..."} or {"messages": ["...", ...]}, nothing else'
        )
    single = "message" in payload
    messages = [payload["message"]] if single else payload["messages"]
    if not isinstance(messages, list) or not messages:
        raise RequestError.about(422, "messages", "a non-empty list of texts")
    if len(messages) > settings.max_messages:
        raise RequestError.about(
            422, "messages", f"at most {settings.max_messages} messages per request (MAX_MESSAGES)"
        )
    for position, message in enumerate(messages):
        field = "message" if single else f"messages[{position}]"
        if not isinstance(message, str) or not VISIBLE.search(message):
            raise RequestError.about(422, field, "a non-empty text")
        if len(message) > settings.max_message_chars:
            raise RequestError.about(
                422, field, f"at most {settings.max_message_chars} characters (MAX_MESSAGE_CHARS)"
            )
    return messages, single


# gen_ai.provider.name: the conventions' well-known values where there is one.
GEN_AI_PROVIDERS = {"fake": "fake", "openai": "openai", "azure-openai": "azure.ai.openai",
                    "vertex": "gcp.vertex_ai", "databricks": "databricks"}  # fmt: skip


def _observe(outcome: Outcome, prompt: Prompt, settings: Settings) -> float:
    """Metrics for one extracted message; returns its estimated cost in USD."""
    version = prompt.version
    for kind, count in outcome.pii_found.items():
        child(GUARDRAILS, f"pii_{kind.lower()}").inc(count)
    if outcome.injection_screened:
        child(GUARDRAILS, "injection").inc()
    if outcome.repaired:
        child(GUARDRAILS, "output_repaired").inc()
    request = outcome.request
    state = "refused" if request.refused else "needs_review" if request.needs_review else "ok"
    child(MESSAGES, version, state).inc()
    return _count_tokens(outcome, prompt, settings)


def _count_tokens(outcome: Outcome, prompt: Prompt, settings: Settings) -> float:
    """The tokens, time and cost of one message's provider calls; returns the cost."""
    version = prompt.version
    if outcome.tokens_in or outcome.tokens_out:
        child(TOKENS, outcome.model, version, "in").inc(outcome.tokens_in)
        child(TOKENS, outcome.model, version, "out").inc(outcome.tokens_out)
        child(PROVIDER_LATENCY, outcome.model).observe(outcome.provider_latency_s)
        gen_ai = ("chat", GEN_AI_PROVIDERS[settings.provider], settings.provider_model)
        child(GEN_AI_TOKENS, *gen_ai, "input").observe(outcome.tokens_in)
        child(GEN_AI_TOKENS, *gen_ai, "output").observe(outcome.tokens_out)
        child(GEN_AI_DURATION, *gen_ai).observe(outcome.provider_latency_s)
    # The configured model's price (checked at start-up: an unpriced model cannot start).
    key = price_key(settings.provider_model, settings.prices)
    price_in, price_out = settings.prices[key] if key else (0.0, 0.0)
    cost = (outcome.tokens_in * price_in + outcome.tokens_out * price_out) / 1_000_000
    if cost:
        child(COST, outcome.model, version).inc(cost)
    return cost


def create_app(
    project: ExtractionProject,
    settings: Settings | None = None,
    loader: Callable[[Settings], Prompt] = load_serving_prompt,
) -> ServiceApp:
    """The ASGI app; `loader` returns the prompt (tests pass a slow one to see loading)."""
    settings = settings or project.load_settings()
    tracer = Tracer(settings)
    online = OnlineEvaluation(settings.online_eval_sample_rate)
    loaded: Loaded[Extractor] = Loaded("prompt")

    async def load() -> Extractor:
        prompt = await asyncio.to_thread(loader, settings)
        await asyncio.to_thread(tracer.start)
        provider = build_provider(
            settings, on_circuit_change=lambda s: CIRCUIT.set(CircuitBreaker.STATES[s])
        )
        CIRCUIT.set(0)
        PROMPT_INFO.labels(prompt.name, prompt.version).set(1)
        return Extractor(provider, prompt, project.schema, settings.pii_regions)

    async def follow(extractor: Extractor) -> None:
        """Re-read the serving alias; a failed read keeps the prompt being served."""
        if settings.prompt_refresh_s <= 0 or settings.prompt_file is not None:
            return
        while True:
            await asyncio.sleep(settings.prompt_refresh_s)
            current = (loaded.value or extractor).prompt
            try:
                latest = await asyncio.to_thread(loader, settings)
            except Exception as exc:  # store down, alias gone: keep serving what we have
                log.warning(
                    "prompt not re-read, serving the loaded one",
                    extra={"version": current.version, "error": type(exc).__name__},
                )
                continue
            if latest.version == current.version:
                continue
            # One assignment: a request in flight keeps the extractor it started with.
            loaded.value = extractor.with_prompt(latest)
            PROMPT_INFO.labels(current.name, current.version).set(0)
            PROMPT_INFO.labels(latest.name, latest.version).set(1)
            log.info(
                "prompt changed",
                extra={"prompt": latest.name, "from": current.version, "version": latest.version},
            )

    async def stop(extractor: Extractor) -> None:
        await extractor.provider.aclose()

    app = create_service(
        title=f"{settings.experiment_name} {project.title}",
        version=project.version,
        description=project.description,
        loaded=loaded,
        load=load,
        on_failure=retry_unless_missing,
        readiness=lambda e: {"prompt": {"name": e.prompt.name, "version": e.prompt.version}},
        describe=lambda e: {
            "prompt": e.prompt.name,
            "version": e.prompt.version,
            "provider": settings.provider,
        },
        routes=["/extract"],
        log_level=settings.log_level,
        access_log_flush_s=settings.access_log_flush_s,
        then=follow,
        stop=stop,
    )

    async def extract_answer(scope: Scope, receive: Receive, incoming: Incoming) -> Answer:
        try:
            sent = await hotpath.read_body(
                receive, incoming.content_length, settings.max_body_bytes,
                settings.client_timeout_s,
            )  # fmt: skip
            messages, single = parse_request(sent, incoming.content_type, settings)
        except RequestError as exc:
            return hotpath.refused(exc)
        extractor = await loaded.wait(settings.prompt_load_wait_s)
        if extractor is None:
            return hotpath.error(503, "prompt", "still loading, retry shortly", retry_after=1)
        prompt = extractor.prompt
        with tracer.request("extract") as root:
            settled = await asyncio.gather(
                *(_traced(extractor, message, root) for message in messages),
                return_exceptions=True,
            )
            outcomes = [outcome for outcome in settled if isinstance(outcome, Outcome)]
            # What the messages that succeeded spent is counted even when another failed,
            # and so is what a failed message paid before it failed (a repaired answer).
            failed = [f for f in settled if isinstance(f, ProviderError)]
            paid = [f.spent for f in failed if isinstance(f.spent, Outcome)]
            cost = sum(_observe(outcome, prompt, settings) for outcome in outcomes)
            for outcome in outcomes:
                online.observe(outcome, prompt.version)
            for refusal in failed:
                if refusal.kind == "bad_output":
                    online.observe_bad_output(prompt.version)
            for outcome in paid:
                _count_tokens(outcome, prompt, settings)
            failure = next((f for f in settled if isinstance(f, BaseException)), None)
            if isinstance(failure, CircuitOpenError):
                ERRORS.labels("circuit_open").inc()
                return hotpath.error(
                    503, "provider", "failing, calls paused: retry after", failure.retry_after
                )
            if isinstance(failure, ProviderError):
                ERRORS.labels(failure.kind).inc()
                log.warning(
                    "provider error", extra={"kind": failure.kind, "detail": failure.detail}
                )
                return hotpath.error(
                    PROVIDER_STATUS.get(failure.kind, 502), "provider", str(failure)
                )
            if failure is not None:
                raise failure
            if root is not None:
                root.set_attributes(
                    {
                        "prompt.name": prompt.name,
                        "prompt.version": prompt.version,
                        "messages": len(messages),
                    }
                )
        results = [outcome.request.model_dump() for outcome in outcomes]
        body: dict[str, Any] = {"result": results[0]} if single else {"results": results}
        body.update(
            prompt={"name": prompt.name, "version": prompt.version},
            model=outcomes[0].model,
            usage={
                "tokens_in": sum(o.tokens_in for o in outcomes),
                "tokens_out": sum(o.tokens_out for o in outcomes),
                "cost_usd": round(cost, 8),
            },
        )
        return Answer(200, hotpath.encode(body))

    # A hot route (goldpath_runtime.serving.hotpath): FastAPI's layers cost a tenth of this
    # route's CPU, and under a burst of requests that CPU is the tail's queue. Written
    # against ASGI itself: Starlette's Request and JSONResponse objects were 4 % of its
    # samples in a profile under the benchmark's load.
    app.hot_routes[("POST", "/extract")] = extract_answer

    def add_routes(api: FastAPI) -> None:
        """The route FastAPI documents, and answers for what reaches it (405)."""

        async def extract(request: Request) -> Any:  # a Response (FastAPI reads no model)
            """Extract one message (`{"message": "..."}`) or several (`{"messages": [...]}`)."""
            return await hotpath.through_fastapi(extract_answer, request)

        api.add_api_route(
            "/extract", extract, methods=["POST"], tags=["extraction"],
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request_schema(settings)}},
                }
            },
            responses={
                400: {"description": "Body is not JSON"},
                413: {"description": "Body too large"},
                415: {"description": "Body is not sent as JSON (Content-Type)"},
                422: {"description": "A field is invalid"},
                502: {"description": "The provider failed or answered outside the schema"},
                503: {"description": "Prompt loading, or provider circuit open: retry after"},
                504: {"description": "The provider did not answer in time"},
            },
        )  # fmt: skip

    app.extend(add_routes)

    async def _traced(extractor: Extractor, message: str, root: Any) -> Outcome:
        attributes: dict[str, Any] = {"prompt.version": extractor.prompt.version}
        with tracer.message(root, attributes):
            outcome = await extractor.extract(message)
            request = outcome.request
            attributes.update(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": GEN_AI_PROVIDERS[settings.provider],
                    "gen_ai.request.model": settings.provider_model,
                    "gen_ai.response.model": outcome.model,
                    "gen_ai.usage.input_tokens": outcome.tokens_in,
                    "gen_ai.usage.output_tokens": outcome.tokens_out,
                    "model": outcome.model,
                    "tokens.in": outcome.tokens_in,
                    "tokens.out": outcome.tokens_out,
                    "provider.latency_ms": round(outcome.provider_latency_s * 1000, 2),
                    "guardrails.pii": ",".join(sorted(outcome.pii_found)) or "none",
                    "guardrails.injection_screened": outcome.injection_screened,
                    "output.repaired": outcome.repaired,
                    "needs_review": request.needs_review,
                    "refused": request.refused,
                    "input": outcome.redacted_text,
                    "output": request.model_dump(),
                }
            )
        return outcome

    return app
