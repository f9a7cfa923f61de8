"""The cost guard: calls in flight together never take a run over its token budget, a
call that timed out is counted at its worst case (it may have been billed), a refused one
not at all, and the refusal is one line naming what to change."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldpath_runtime.llm.budget import (
    BUDGET_REACHED,
    BudgetedProvider,
    BudgetExceededError,
    TokenBudget,
    worst_case,
)
from goldpath_runtime.llm.providers import Completion, ProviderError


class Billed:
    """A provider stand-in that bills each call a random share of its worst case."""

    model = "stand-in"

    def __init__(self, seed: int, failure: str | None = None) -> None:
        self.random = random.Random(seed)  # noqa: S311 - billing noise, not a secret
        self.failure = failure
        self.billed = 0

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        await asyncio.sleep(self.random.random() / 1000)
        if self.failure is not None:
            raise ProviderError(self.failure, "stand-in failure")
        tokens = self.random.randint(1, worst_case(messages, 50))
        self.billed += tokens
        return Completion("{}", self.model, tokens - min(tokens, 20), min(tokens, 20), 0.001)

    async def aclose(self) -> None:
        pass


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(1, 5_000),
    messages=st.lists(st.text(max_size=200), min_size=1, max_size=40),
    seed=st.integers(0, 1000),
)
def test_calls_in_flight_never_take_the_run_over_its_budget(
    limit: int, messages: list[str], seed: int
) -> None:
    budget = TokenBudget(limit)
    inner = Billed(seed)
    provider = BudgetedProvider(inner, budget, max_tokens=50)  # type: ignore[arg-type]

    async def call(text: str) -> str:
        try:
            await provider.complete([{"role": "user", "content": text}])
        except BudgetExceededError as refused:
            return str(refused)
        return ""

    async def run() -> list[str]:
        return await asyncio.gather(*(call(text) for text in messages))

    refusals = asyncio.run(run())
    for refusal in filter(None, refusals):
        assert refusal.startswith(BUDGET_REACHED)
        assert "\n" not in refusal
    done = [not refusal for refusal in refusals]
    assert inner.billed == budget.spent <= limit
    assert budget.reserved == 0
    assert budget.calls == sum(done)


@pytest.mark.parametrize(("failure", "counted"), [("timeout", True), ("rejected", False)])
def test_a_timed_out_call_counts_its_worst_case_a_refused_one_nothing(
    failure: str, counted: bool
) -> None:
    budget = TokenBudget(10_000)
    provider = BudgetedProvider(Billed(1, failure), budget, max_tokens=50)  # type: ignore[arg-type]
    messages = [{"role": "user", "content": "bid 5mm EUR 2y IRS"}]
    with pytest.raises(ProviderError):
        asyncio.run(provider.complete(messages))
    assert budget.spent == (worst_case(messages, 50) if counted else 0)
    assert budget.reserved == 0


def test_a_task_share_names_the_whole_budget() -> None:
    share = TokenBudget(100, total=400)
    with pytest.raises(
        BudgetExceededError, match=r"this task's 100-token share of TOKEN_BUDGET=400"
    ):
        share.reserve(101)
