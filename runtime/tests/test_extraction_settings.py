"""An extraction project's provider settings: what PROVIDER and its fields build, and prices
checked at start-up (the client itself is tested in test_providers)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from trade_project import PROJECT

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.llm.fake_provider import FakeProvider
from goldpath_runtime.llm.providers import build_provider
from goldpath_runtime.llm.settings import price_key


def test_the_settings_build_the_provider_they_name(fake: FakeProvider) -> None:
    settings = PROJECT.load_settings(provider_url=fake.url, provider_retries=0)
    provider = build_provider(settings)
    messages = [
        {"role": "system", "content": "Answer with one JSON object. Keys: `side`, `notional`."},
        {"role": "user", "content": "bid 25mm EUR 5y IRS"},
    ]

    async def once() -> Any:
        try:
            return await provider.complete(messages)
        finally:
            await provider.aclose()

    completion = asyncio.run(once())
    assert '"side": "sell"' in completion.text
    assert completion.model == settings.provider_model
    assert (provider.retries, provider.timeout_s) == (0, settings.provider_timeout_s)


@pytest.mark.parametrize(
    ("prices", "model", "problem"),
    [
        ({"m": [-1.0, 1.0]}, "m", "PRICES 'm'"),
        ({"m": [float("nan"), 1.0]}, "m", "PRICES 'm'"),
        ({"m": [float("inf"), 1.0]}, "m", "PRICES 'm'"),
        ({"gpt-4o": [2.5, 10.0]}, "gpt-5", "no price for PROVIDER_MODEL=gpt-5"),
    ],
    ids=["negative", "nan", "infinite", "unpriced"],
)
def test_prices_are_checked_at_start_up(prices: Any, model: str, problem: str) -> None:
    """A bad PRICES table used to start, then fail every request; an unpriced model cost 0."""
    with pytest.raises(ProjectError, match=re.escape(problem)):
        PROJECT.load_settings(prices=prices, provider_model=model)


def test_a_dated_model_name_is_priced_as_its_model() -> None:
    settings = PROJECT.load_settings(
        prices={"gpt-4o": [2.5, 10.0]}, provider_model="gpt-4o-2024-08-06"
    )
    assert price_key(settings.provider_model, settings.prices) == "gpt-4o"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://models.bank.example/v1", True),
        ("http://127.0.0.1:8900/v1", True),
        ("http://localhost/v1", True),
        ("http://vllm:8000/v1", False),
        ("http://127.0.0.1.attacker.example/v1", False),
        ("http://10.0.0.7/v1", False),
    ],
)
def test_messages_cross_the_network_in_clear_only_when_the_settings_say_so(
    url: str, allowed: bool
) -> None:
    if allowed:
        assert PROJECT.load_settings(provider_url=url).provider_url == url
        return
    with pytest.raises(ProjectError, match=r"PROVIDER_URL=.*PROVIDER_PLAIN_HTTP=true"):
        PROJECT.load_settings(provider_url=url)
    explicit = PROJECT.load_settings(provider_url=url, provider_plain_http=True)
    assert explicit.provider_plain_http
