"""The provider client against the fake provider, a real HTTP server: retries with backoff
on 429 and 5xx, per-call timeouts, the circuit breaker, keyless credentials, and answers a
misbehaving provider gives. The cloud credential objects (Entra ID, Google ADC, Databricks
unified auth) are the only stand-ins: they are external."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from local_ports import free_port

from goldpath_runtime.llm.fake_provider import FakeProvider, running
from goldpath_runtime.llm.providers import (
    ChatCompletionsClient,
    CircuitBreaker,
    CircuitOpenError,
    DatabricksToken,
    EntraToken,
    FileToken,
    GoogleToken,
    NoToken,
    ProviderError,
    TokenSource,
    _completion,
    build_provider,
)


def stand_in(system: str, user: str) -> str:
    """A model that answers in JSON when told to, naming the side it reads."""
    if "JSON" not in system:
        return "Sure, happy to help."
    return json.dumps({"side": "sell" if "bid" in user else "buy", "notional": None})


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeProvider]:
    with running(FakeProvider(stand_in), free_port()) as provider:
        yield provider


@pytest.fixture
def fake(shared_fake: FakeProvider) -> Iterator[FakeProvider]:
    yield shared_fake
    shared_fake.reset()


def settings(**values: Any) -> Any:
    """A project's settings as build_provider reads them (its pydantic Settings in use)."""
    defaults = {
        "provider": "fake",
        "provider_model": "fake-trade-extractor",
        "provider_url": "http://127.0.0.1:9/v1",
        "provider_token_file": None,
        "provider_timeout_s": 5.0,
        "provider_retries": 0,
        "provider_max_connections": 10,
        "provider_max_tokens": 512,
        "breaker_failures": 5,
        "breaker_reset_s": 15.0,
        "azure_openai_endpoint": None,
        "azure_openai_api_version": "2024-10-21",
        "databricks_host": None,
        "vertex_project": None,
        "vertex_location": "europe-west1",
    }
    return SimpleNamespace(**{**defaults, **values})


MESSAGES = [
    {"role": "system", "content": "Answer with one JSON object. Keys: `side`, `notional`."},
    {"role": "user", "content": "bid 25mm EUR 5y IRS"},
]


def client(
    url: str,
    *,
    retries: int = 2,
    timeout_s: float = 5,
    breaker: CircuitBreaker | None = None,
    auth: TokenSource | None = None,
) -> ChatCompletionsClient:
    return ChatCompletionsClient(
        url + "/chat/completions",
        "fake-trade-extractor",
        auth or NoToken(),
        timeout_s=timeout_s,
        retries=retries,
        breaker=breaker or CircuitBreaker(failures=5, reset_s=30),
        backoff_s=0.01,
    )


def complete(provider: ChatCompletionsClient) -> Any:
    async def run() -> Any:
        try:
            return await provider.complete(MESSAGES)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_a_completion_carries_text_model_and_token_counts(fake: FakeProvider) -> None:
    completion = complete(client(fake.url))
    assert '"side": "sell"' in completion.text
    assert completion.model == "fake-trade-extractor"
    assert completion.tokens_in > 0
    assert completion.tokens_out > 0


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_failures_are_retried(fake: FakeProvider, status: int) -> None:
    fake.fail_next, fake.fail_status = 2, status
    before = fake.calls
    completion = complete(client(fake.url, retries=2))
    assert completion.tokens_out > 0
    assert fake.calls - before == 3


def test_retries_run_out_with_the_failure_named(fake: FakeProvider) -> None:
    fake.fail_next, fake.fail_status = 5, 503
    with pytest.raises(ProviderError) as failure:
        complete(client(fake.url, retries=1))
    assert failure.value.kind == "server_error"


def test_a_refused_identity_is_not_retried(tmp_path: Path) -> None:
    port = free_port()
    with running(FakeProvider(stand_in, require_token="right"), port) as guarded:  # noqa: S106
        token = tmp_path / "token"
        token.write_text("wrong\n")
        with pytest.raises(ProviderError) as failure:
            complete(client(guarded.url, auth=FileToken(token)))
        assert failure.value.kind == "auth"
        assert guarded.calls == 0
        token.write_text("right\n")  # the platform rotated it: read again
        assert complete(client(guarded.url, auth=FileToken(token))).tokens_out > 0


def test_a_slow_provider_times_out(fake: FakeProvider) -> None:
    fake.latency_s = 1.0
    started = time.monotonic()
    with pytest.raises(ProviderError) as failure:
        complete(client(fake.url, retries=0, timeout_s=0.2))
    assert failure.value.kind == "timeout"
    assert time.monotonic() - started < 0.9


def test_an_unreachable_provider_is_named() -> None:
    with pytest.raises(ProviderError) as failure:
        complete(client(f"http://127.0.0.1:{free_port()}/v1", retries=0))
    assert failure.value.kind == "unreachable"


def test_the_circuit_opens_then_lets_one_trial_through(fake: FakeProvider) -> None:
    now = [1000.0]
    breaker = CircuitBreaker(failures=2, reset_s=10, clock=lambda: now[0])
    fake.fail_next, fake.fail_status = 100, 503

    async def scenario() -> None:
        provider = client(fake.url, retries=0, breaker=breaker)
        for _ in range(2):
            with pytest.raises(ProviderError):
                await provider.complete(MESSAGES)
        assert breaker.state == "open"
        calls = fake.calls
        with pytest.raises(CircuitOpenError) as refused:
            await provider.complete(MESSAGES)
        assert refused.value.retry_after == 10
        assert fake.calls == calls, "an open circuit must not call the provider"
        now[0] += 11
        fake.fail_next = 0
        assert (await provider.complete(MESSAGES)).tokens_out > 0  # the half-open trial
        assert breaker.state == "closed"
        await provider.aclose()

    asyncio.run(scenario())


def test_a_failed_trial_reopens_the_circuit() -> None:
    now = [0.0]
    changes: list[str] = []
    breaker = CircuitBreaker(2, 5, on_change=changes.append, clock=lambda: now[0])
    breaker.failure()
    breaker.failure()
    now[0] = 6
    breaker.before_call()
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # only one trial at a time
    breaker.failure()
    assert changes == ["open", "half_open", "open"]


def two_calls_to_a_provider_requiring(bearer: str, auth: TokenSource) -> None:
    """Two completions, through `auth`, from a provider that answers 401 without `bearer`."""
    with running(FakeProvider(stand_in, require_token=bearer), free_port()) as guarded:
        provider = client(guarded.url, auth=auth)

        async def twice() -> None:
            await provider.complete(MESSAGES)
            await provider.complete(MESSAGES)
            await provider.aclose()

        asyncio.run(twice())


class FakeEntraCredential:
    """Stands in for azure.identity's credential (the Entra ID endpoint is external)."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    async def get_token(self, scope: str) -> Any:
        self.scopes.append(scope)
        return SimpleNamespace(token="entra-token", expires_on=time.time() + 3600)  # noqa: S106


def test_azure_openai_calls_carry_an_entra_token_not_a_key() -> None:
    credential = FakeEntraCredential()
    two_calls_to_a_provider_requiring("entra-token", EntraToken(credential))
    assert credential.scopes == ["https://cognitiveservices.azure.com/.default"]  # cached


class FakeGoogleCredentials:
    """Stands in for google.auth's credentials (Google's token endpoint is external)."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.expiry: datetime | None = None
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = "adc-token"  # noqa: S105
        # Naive UTC, as google-auth keeps it.
        self.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)


def test_vertex_calls_carry_an_application_default_token_not_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # East of UTC, reading the naive expiry as local time puts it hours in the past.
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    credentials = FakeGoogleCredentials()
    two_calls_to_a_provider_requiring("adc-token", GoogleToken(credentials))
    monkeypatch.undo()
    time.tzset()
    assert credentials.refreshes == 1  # cached until five minutes before it expires


class FakeDatabricksConfig:
    """Stands in for databricks-sdk's Config (the workspace's OAuth endpoint is external)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.calls = 0

    def authenticate(self) -> dict[str, str]:
        self.calls += 1
        return {"Authorization": "Bearer databricks-oauth"}


def test_databricks_serving_is_called_on_its_workspace_with_an_oauth_token() -> None:
    """PROVIDER=databricks: the workspace's /serving-endpoints/chat/completions, the serving
    endpoint as the model, and the bearer token of Databricks unified auth (no PAT)."""
    port = free_port()
    with running(FakeProvider(stand_in, require_token="databricks-oauth"), port) as guarded:  # noqa: S106
        workspace = guarded.url.removesuffix("/v1")
        provider = build_provider(
            settings(
                provider="databricks",
                databricks_host=workspace,
                provider_model="databricks-meta-llama-3-3-70b-instruct",
            )
        )
        assert provider.url == f"{workspace}/serving-endpoints/chat/completions"
        assert isinstance(provider.auth, DatabricksToken)
        provider.auth.config = FakeDatabricksConfig(workspace)
        completion = complete(provider)
    assert completion.model == "databricks-meta-llama-3-3-70b-instruct"
    assert provider.auth.config.calls == 1


def test_databricks_without_a_bearer_token_is_an_auth_error() -> None:
    class NoBearer(FakeDatabricksConfig):
        def authenticate(self) -> dict[str, str]:
            return {}

    with pytest.raises(ProviderError, match="no bearer token"):
        asyncio.run(DatabricksToken(NoBearer("https://adb-1.azuredatabricks.net")).token())


@pytest.mark.parametrize(
    "answer",
    [
        {"choices": "{quoted}"},
        {"choices": [{"message": {"content": ["{quoted}"]}}]},
        {"{quoted}": "no choices"},
    ],
    ids=["choices", "content", "shape"],
)
def test_a_malformed_answer_is_named_without_quoting_it(answer: dict[str, Any]) -> None:
    """What the provider says can echo the client's message: the error that reaches the
    502 body and the log names what was wrong, never the text."""
    quoted = "anna.berg@client.example +44 20 7946 0958"
    raw = json.dumps(answer).replace("{quoted}", quoted).encode()
    with pytest.raises(ProviderError) as caught:
        _completion(raw, "fake-trade-extractor", 0.1)
    assert caught.value.kind == "bad_response"
    assert "anna.berg" not in str(caught.value)
    assert "7946" not in str(caught.value)


def _answer(content: str = '{"side": "buy"}', **extra: Any) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "content": content}}], **extra}


@pytest.mark.parametrize(
    "usage",
    [None, {}, {"prompt_tokens": -5, "completion_tokens": 3}, {"prompt_tokens": 1e30},
     {"prompt_tokens": 2.5, "completion_tokens": 1}, {"prompt_tokens": "12"},
     {"prompt_tokens": True, "completion_tokens": 1}, [1, 2]],
    ids=["none", "empty", "negative", "huge", "fraction", "text", "bool", "list"],
)  # fmt: skip
def test_usage_the_provider_omits_or_garbles_is_estimated_never_zero(
    fake: FakeProvider, usage: Any
) -> None:
    """Without believable usage the call is counted as the most its text can cost (a token
    covers at least one byte), marked estimated: a budget always runs out."""
    fake.scripted.append((200, _answer(usage=usage, model="gpt-4o-2024-08-06"), []))
    completion = complete(client(fake.url))
    assert completion.estimated
    assert completion.tokens_in >= len(MESSAGES[1]["content"])
    assert 0 < completion.tokens_out <= 1_000_000
    assert completion.model == "fake-trade-extractor"  # the configured deployment


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=200))
@example("\ud800 bid 25mm \u20ac")  # a lone surrogate, as JSON's "\ud800" decodes
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_message_reaches_the_provider_as_written_and_is_counted_once(
    fake: FakeProvider, text: str
) -> None:
    """The chat is encoded once, as UTF-8 (escaped when it holds a lone surrogate, which
    UTF-8 cannot carry): what the provider reads is the message, and an answer without
    usage is counted from those very bytes."""
    fake.scripted.append((200, _answer(usage=None), []))
    messages = [MESSAGES[0], {"role": "user", "content": text}]
    provider = client(fake.url)

    async def run() -> Any:
        try:
            return await provider.complete(messages)
        finally:
            await provider.aclose()

    completion = asyncio.run(run())
    assert fake.received[-1] == text
    try:
        sent = json.dumps(messages, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        sent = json.dumps(messages).encode()
    assert completion.tokens_in == len(sent)


def test_believable_usage_is_taken_as_reported(fake: FakeProvider) -> None:
    usage = {"prompt_tokens": 120.0, "completion_tokens": 7}
    fake.scripted.append((200, _answer(usage=usage, model="x" * 100_000), []))
    completion = complete(client(fake.url))
    assert (completion.tokens_in, completion.tokens_out, completion.estimated) == (120, 7, False)
    assert completion.model == "fake-trade-extractor"  # never the provider's 100 KB string


def test_an_oversized_answer_is_refused_while_it_streams(fake: FakeProvider) -> None:
    fake.scripted.append((200, _answer("x" * (2 << 20)), []))
    with pytest.raises(ProviderError, match="an answer larger than 1024 KiB") as caught:
        complete(client(fake.url, retries=0))
    assert caught.value.kind == "bad_response"


@pytest.mark.parametrize("retry_after", ["nan", "inf", "-1", "soon", "1e309"])
def test_a_garbled_retry_after_falls_back_to_backoff(fake: FakeProvider, retry_after: str) -> None:
    """Retry-After: nan used to raise out of the retry loop (a 500, the breaker not told)."""
    fake.scripted.append((503, {"error": {}}, [(b"retry-after", retry_after.encode())]))
    completion = complete(client(fake.url, retries=1))
    assert completion.text


def test_each_provider_is_called_where_its_cloud_serves_chat_completions() -> None:
    """The URL and the keyless credential each PROVIDER gets (no call leaves the machine)."""
    azure = build_provider(
        settings(provider="azure-openai", azure_openai_endpoint="https://bank.openai.azure.com/",
                 provider_model="gpt-4o")
    )  # fmt: skip
    assert azure.url == (
        "https://bank.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-10-21"
    )
    assert isinstance(azure.auth, EntraToken)
    vertex = build_provider(settings(provider="vertex", vertex_project="risk-prod"))
    assert vertex.url == (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/risk-prod"
        "/locations/europe-west1/endpoints/openapi/chat/completions"
    )
    assert isinstance(vertex.auth, GoogleToken)
    local = build_provider(
        settings(provider="openai", provider_url="http://vllm:8000/v1/", provider_plain_http=True)
    )
    assert local.url == "http://vllm:8000/v1/chat/completions"
    assert isinstance(local.auth, NoToken)


def test_a_token_file_that_cannot_be_read_is_an_auth_error(tmp_path: Path) -> None:
    provider = build_provider(settings(provider_token_file=tmp_path / "absent"))
    assert isinstance(provider.auth, FileToken)
    with pytest.raises(ProviderError, match="PROVIDER_TOKEN_FILE") as caught:
        asyncio.run(provider.auth.token())
    assert caught.value.kind == "auth"


@pytest.fixture(scope="module")
def guarded_fake() -> Iterator[FakeProvider]:
    with running(FakeProvider(stand_in, require_token="set-per-case"), free_port()) as guarded:  # noqa: S106
        yield guarded


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written=st.text(st.characters(blacklist_categories=["Cs"]), max_size=60))
@example("abc\nX-Injected: 1")
@example("t\x00ken")
@example("tök3n")
@example("two words")
@example("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl_-")
@example("ya29.a0AfB_byC+/x==")
def test_a_token_file_is_sent_as_its_bearer_or_refused_in_one_line_without_quoting_it(
    guarded_fake: FakeProvider, tmp_path: Path, written: str
) -> None:
    """Whatever the token file holds: sent as written when it is a bearer token (the
    provider checks the header), otherwise an auth error that neither sends nor quotes it
    (a line break in a header would start another: header injection)."""
    path = tmp_path / "token"
    path.write_text(written, encoding="utf-8")
    token = path.read_text().strip()  # what the platform's file reads as
    guarded_fake.require_token = token or None
    calls = guarded_fake.calls
    if not token or re.fullmatch(r"[A-Za-z0-9\-._~+/]+=*", token):  # RFC 6750's b64token
        assert complete(client(guarded_fake.url, retries=0, auth=FileToken(path))).tokens_out > 0
        return
    with pytest.raises(ProviderError) as refused:
        complete(client(guarded_fake.url, retries=0, auth=FileToken(path)))
    assert refused.value.kind == "auth"
    assert str(refused.value) == "auth: the credential is not a bearer token (RFC 6750's b64token)"
    assert guarded_fake.calls == calls  # refused before sending: a 401 names HTTP 401
