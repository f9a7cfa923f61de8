"""LLM providers behind one small interface: every provider goldpath supports speaks
the OpenAI chat-completions protocol, so one async client serves them all and only the URL
and the credential differ.

| PROVIDER       | endpoint                                    | credential (never a key)         |
|----------------|---------------------------------------------|----------------------------------|
| `fake`         | the local fake provider (tests, demo, bench)| none                             |
| `openai`       | any compatible server: vLLM, Databricks     | none, or PROVIDER_TOKEN_FILE     |
| `azure-openai` | an Azure OpenAI deployment                  | Entra ID token (azure-identity)  |
| `vertex`       | Vertex AI's OpenAI-compatible endpoint      | application-default credentials  |
| `databricks`   | a Databricks model-serving endpoint         | Databricks unified auth (OAuth)  |

PROVIDER_TOKEN_FILE holds a short-lived token written by the platform (a workload identity
token, an OAuth token from the CI's OIDC exchange); it is read again when it changes.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import aiohttp

from ..errors import ProjectError

AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class ProviderSettings(Protocol):
    """What `build_provider` reads of a project's settings (its pydantic Settings fit)."""

    @property
    def provider(self) -> str: ...
    @property
    def provider_model(self) -> str: ...
    @property
    def provider_url(self) -> str: ...
    @property
    def provider_token_file(self) -> Path | None: ...
    @property
    def provider_timeout_s(self) -> float: ...
    @property
    def provider_retries(self) -> int: ...
    @property
    def provider_max_connections(self) -> int: ...
    @property
    def provider_max_tokens(self) -> int: ...
    @property
    def breaker_failures(self) -> int: ...
    @property
    def breaker_reset_s(self) -> float: ...
    @property
    def azure_openai_endpoint(self) -> object: ...
    @property
    def azure_openai_api_version(self) -> str: ...
    @property
    def databricks_host(self) -> str | None: ...
    @property
    def vertex_project(self) -> str | None: ...
    @property
    def vertex_location(self) -> str: ...


class ProviderError(Exception):
    """The provider did not give a usable answer. `kind` labels metrics and error bodies:
    timeout, unreachable, rate_limited, server_error, auth, rejected, bad_response."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        # What the failed extraction had already paid for (an Outcome), for the accounts.
        self.spent: Any = None
        super().__init__(f"{kind}: {detail}")


class CircuitOpenError(Exception):
    """The provider has been failing: calls are refused until `retry_after` seconds pass."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"provider circuit open, retry after {retry_after}s")


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the configured deployment: never the provider's free text (a metric label)
    tokens_in: int
    tokens_out: int
    latency_s: float
    estimated: bool = False  # the provider gave no usable usage: counted from the text


# An answer larger than this is refused while it streams in, never read whole.
MAX_ANSWER_BYTES = 1 << 20
# No single call is billed more tokens than this: a reported 1e30 is not believed.
MAX_CALL_TOKENS = 1_000_000


class Provider(Protocol):
    model: str

    async def complete(self, messages: list[dict[str, str]]) -> Completion: ...

    async def aclose(self) -> None: ...


class CircuitBreaker:
    """Opens after `failures` consecutive failed calls; after `reset_s` one trial call is let
    through (half-open) and its outcome closes or re-opens the circuit."""

    STATES: ClassVar[dict[str, int]] = {"closed": 0, "half_open": 1, "open": 2}

    def __init__(
        self,
        failures: int,
        reset_s: float,
        on_change: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.reset_s = reset_s
        self.on_change = on_change
        self.clock = clock
        self.state = "closed"
        self.consecutive = 0
        self.opened_at = 0.0
        self.trial_in_flight = False

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(state)

    def before_call(self) -> None:
        if self.state == "closed":
            return
        remaining = self.opened_at + self.reset_s - self.clock()
        if self.state == "open" and remaining <= 0:
            self._set("half_open")
        if self.state == "half_open" and not self.trial_in_flight:
            self.trial_in_flight = True
            return
        raise CircuitOpenError(max(1, math.ceil(remaining)))

    def success(self) -> None:
        self.consecutive = 0
        self.trial_in_flight = False
        self._set("closed")

    def failure(self) -> None:
        self.consecutive += 1
        self.trial_in_flight = False
        if self.state == "half_open" or self.consecutive >= self.failures:
            self.opened_at = self.clock()
            self._set("open")


class TokenSource(Protocol):
    async def token(self) -> str | None: ...


class NoToken:
    async def token(self) -> str | None:
        return None


class FileToken:
    """A bearer token the platform keeps fresh in a file (read again when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: tuple[float, str] | None = None

    async def token(self) -> str | None:
        try:
            mtime = self.path.stat().st_mtime
            if self._cached is None or self._cached[0] != mtime:
                self._cached = (mtime, self.path.read_text().strip())
        except OSError as exc:
            raise ProviderError(
                "auth", f"PROVIDER_TOKEN_FILE {self.path}: {exc.strerror}"
            ) from None
        return self._cached[1]


class _ExpiringToken:
    """Caches a token until five minutes before it expires."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> tuple[str, float]:
        raise NotImplementedError

    async def token(self) -> str | None:
        async with self._lock:
            if self._token is None or time.time() > self._expires - 300:
                try:
                    self._token, self._expires = await self._fetch()
                except ProviderError:
                    raise
                except Exception as exc:  # the credential libraries raise many types
                    raise ProviderError("auth", f"{type(exc).__name__}: {exc}") from None
            return self._token


class EntraToken(_ExpiringToken):
    """Entra ID token for Azure OpenAI: managed identity in Azure, the CI's federated
    identity, or `az login` locally (DefaultAzureCredential). No API key."""

    def __init__(self, credential: Any = None) -> None:
        super().__init__()
        self.credential = credential

    async def _fetch(self) -> tuple[str, float]:
        if self.credential is None:
            try:
                from azure.identity.aio import DefaultAzureCredential
            except ImportError:
                raise ProviderError(
                    "auth", "PROVIDER=azure-openai needs azure-identity: uv add azure-identity"
                ) from None
            self.credential = DefaultAzureCredential()
        access = await self.credential.get_token(AZURE_SCOPE)
        return access.token, float(access.expires_on)


class GoogleToken(_ExpiringToken):
    """Application-default credentials for Vertex AI: the Cloud Run service account, the
    CI's workload identity federation, or `gcloud auth application-default login`."""

    def __init__(self, credentials: Any = None) -> None:
        super().__init__()
        self.credentials = credentials

    async def _fetch(self) -> tuple[str, float]:
        try:
            import google.auth
            import google.auth.transport.requests
        except ImportError:
            raise ProviderError(
                "auth", "PROVIDER=vertex needs google-auth: uv add google-auth requests"
            ) from None
        if self.credentials is None:
            self.credentials, _ = google.auth.default(scopes=[GOOGLE_SCOPE])
        credentials = self.credentials
        await asyncio.to_thread(credentials.refresh, google.auth.transport.requests.Request())
        # google-auth keeps `expiry` as a naive UTC datetime: read it as UTC, not local time.
        expiry = (
            calendar.timegm(credentials.expiry.utctimetuple())
            if credentials.expiry
            else time.time() + 3000
        )
        return str(credentials.token), expiry


class DatabricksToken:
    """Databricks unified authentication (databricks-sdk): inside a job, the job's own
    identity; in CI, OAuth from workload identity federation; locally, `databricks auth
    login`. The SDK caches and refreshes the OAuth token; no personal access token is used."""

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def _config(self) -> Any:
        if self.config is None:
            try:
                from databricks.sdk.core import Config
            except ImportError:
                raise ProviderError(
                    "auth", "PROVIDER=databricks needs databricks-sdk: uv add databricks-sdk"
                ) from None
            self.config = Config()
        return self.config

    def host(self) -> str:
        return str(self._config().host).rstrip("/")

    async def token(self) -> str | None:
        headers = await asyncio.to_thread(self._config().authenticate)
        value = str(headers.get("Authorization", ""))
        if not value.startswith("Bearer "):
            raise ProviderError("auth", "Databricks authentication gave no bearer token")
        return value.removeprefix("Bearer ")


# RFC 6750's b64token: all a bearer credential may hold (JWTs, OAuth and PATs do).
BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504})


class ChatCompletionsClient:
    """One pooled async HTTP client per process, with a per-attempt timeout, retries with
    exponential backoff (and the provider's Retry-After) on 429 and 5xx, and a circuit
    breaker so a failing provider gets 503s with Retry-After instead of a queue of waits."""

    def __init__(
        self,
        url: str,
        model: str,
        auth: TokenSource,
        *,
        timeout_s: float,
        retries: int,
        breaker: CircuitBreaker,
        max_connections: int = 100,
        max_tokens: int = 512,
        backoff_s: float = 0.2,
    ) -> None:
        self.url = url
        self.model = model
        self.auth = auth
        self.timeout_s = timeout_s
        self.retries = retries
        self.breaker = breaker
        self.backoff_s = backoff_s
        self.max_connections = max_connections
        self.max_tokens = max_tokens
        # aiohttp, not httpx: at 64 concurrent calls httpx's pool cost ~8 ms of CPU per
        # call here (measured). aiohttp's ~150 µs per call is still the largest part of the
        # service's path under the benchmark's load; a hand-written HTTP/1.1 client on
        # httptools saved ~120 µs and 3-5 ms of p99 (1.045x the provider alone against
        # 1.06x, same run): too little to own TLS, pooling and framing's edge cases.
        # Made in the event loop that uses it.
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                wait = float(retry_after)
            except ValueError:
                wait = math.nan
            if math.isfinite(wait) and wait >= 0:  # not `nan`, `inf` or `-1`
                return min(wait, 10.0)
        return self.backoff_s * (2.0**attempt) * (0.5 + random.random() / 2)  # noqa: S311

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        self.breaker.before_call()
        try:
            completion = await self._with_retries(messages)
        except ProviderError as exc:
            if exc.kind in {"timeout", "unreachable", "rate_limited", "server_error"}:
                self.breaker.failure()
            else:
                self.breaker.success()  # the provider answered: it is up
            raise
        except BaseException:
            self.breaker.trial_in_flight = False
            raise
        self.breaker.success()
        return completion

    async def _with_retries(self, messages: list[dict[str, str]]) -> Completion:
        # Encoded once: the messages' size is counted from the same bytes.
        encoded = _encode(messages)
        payload = b'{"model": %b, "messages": %b, "temperature": 0, "max_tokens": %d}' % (
            json.dumps(self.model).encode(), encoded, self.max_tokens,
        )  # fmt: skip
        attempt = 0
        while True:
            started = time.perf_counter()
            token = await self.auth.token()
            headers = {"Content-Type": "application/json"}
            if token:
                if not BEARER.fullmatch(token):
                    # Never sent, never quoted: a line break in it would end the header.
                    raise ProviderError(
                        "auth", "the credential is not a bearer token (RFC 6750's b64token)"
                    )
                headers["Authorization"] = f"Bearer {token}"
            retry_after = None
            try:
                async with self._client().post(self.url, data=payload, headers=headers) as response:
                    if response.status == 200:
                        body = await _bounded_body(response)
                        sent = len(encoded)
                        latency = time.perf_counter() - started
                        return _completion(body, self.model, latency, sent_bytes=sent)
                    retry_after = response.headers.get("retry-after")
                    error = _status_error(response.status)
                    if response.status not in RETRYABLE:
                        raise error
            except TimeoutError:
                error = ProviderError("timeout", f"no answer within {self.timeout_s:g}s")
            except aiohttp.ClientError as exc:
                error = ProviderError("unreachable", type(exc).__name__)
            if attempt >= self.retries:
                raise error
            await asyncio.sleep(self._delay(attempt, retry_after))
            attempt += 1


def _encode(messages: list[dict[str, str]]) -> bytes:
    """As UTF-8; a lone surrogate (what JSON's "\\ud800" decodes to) has no UTF-8 form,
    so a chat holding one is sent escaped."""
    try:
        return json.dumps(messages, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(messages).encode("ascii")


def _status_error(status: int) -> ProviderError:
    if status == 429:
        return ProviderError("rate_limited", "HTTP 429 from the provider")
    if status >= 500:
        return ProviderError("server_error", f"HTTP {status} from the provider")
    if status in (401, 403):
        return ProviderError("auth", f"HTTP {status}: the provider refused our identity")
    return ProviderError("rejected", f"HTTP {status}: the provider rejected the request")


async def _bounded_body(response: aiohttp.ClientResponse) -> bytes:
    """The answer's bytes, streamed, refused as soon as it passes MAX_ANSWER_BYTES."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ProviderError(
                "bad_response", f"an answer larger than {MAX_ANSWER_BYTES // 1024} KiB"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _count(value: object) -> int | None:
    """A usage count the provider reported, if it is one: a whole, non-negative, sane
    number (not 1e30, -5, 2.5, "12" or true)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if 0 <= value <= MAX_CALL_TOKENS else None


def _completion(raw: bytes, model: str, latency_s: float, *, sent_bytes: int = 0) -> Completion:
    try:
        body = json.loads(raw)
        text = body["choices"][0]["message"]["content"]
        usage = body.get("usage")
        if not isinstance(text, str):
            raise TypeError("content is not text")
        usage = usage if isinstance(usage, dict) else {}
        tokens_in = _count(usage.get("prompt_tokens"))
        tokens_out = _count(usage.get("completion_tokens"))
        estimated = tokens_in is None or tokens_out is None
        return Completion(
            text=text,
            model=model,
            # Missing or unbelievable usage is counted as the most the text can cost (a
            # token covers at least one byte), so the budget and the bill never see 0.
            tokens_in=sent_bytes if tokens_in is None else tokens_in,
            tokens_out=len(text.encode("utf-8")) if tokens_out is None else tokens_out,
            latency_s=latency_s,
            estimated=estimated,
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # Only the kind: the exception can quote the answer (`int('…')`), and the answer
        # can quote the message, which must reach neither the client's 502 nor the logs.
        raise ProviderError(
            "bad_response", f"not a chat completion ({type(exc).__name__})"
        ) from None


def build_provider(
    settings: ProviderSettings, on_circuit_change: Callable[[str], None] | None = None
) -> ChatCompletionsClient:
    """The provider the settings choose (PROVIDER), with its keyless credential."""
    auth: TokenSource
    model = settings.provider_model
    if settings.provider in ("fake", "openai"):
        url = settings.provider_url.rstrip("/") + "/chat/completions"
        file = settings.provider_token_file
        auth = FileToken(file) if file is not None else NoToken()
    elif settings.provider == "azure-openai":
        endpoint = str(settings.azure_openai_endpoint).rstrip("/")
        url = (
            f"{endpoint}/openai/deployments/{model}/chat/completions"
            f"?api-version={settings.azure_openai_api_version}"
        )
        auth = EntraToken()
    elif settings.provider == "databricks":
        databricks = DatabricksToken()
        host = (settings.databricks_host or databricks.host()).rstrip("/")
        # Model serving speaks chat completions; the model is the serving endpoint's name.
        url = f"{host}/serving-endpoints/chat/completions"
        auth = databricks
    elif settings.provider == "vertex":
        location = settings.vertex_location
        url = (
            f"https://{location}-aiplatform.googleapis.com/v1/projects/{settings.vertex_project}"
            f"/locations/{location}/endpoints/openapi/chat/completions"
        )
        auth = GoogleToken()
    else:  # pragma: no cover - a project's Settings admit only the values above
        raise ProjectError(f"PROVIDER={settings.provider} is not supported")
    return ChatCompletionsClient(
        url,
        model,
        auth,
        timeout_s=settings.provider_timeout_s,
        retries=settings.provider_retries,
        breaker=CircuitBreaker(
            settings.breaker_failures, settings.breaker_reset_s, on_change=on_circuit_change
        ),
        max_connections=settings.provider_max_connections,
        max_tokens=settings.provider_max_tokens,
    )
