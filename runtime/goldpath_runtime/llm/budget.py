"""The cost guard: a run (the evaluation gate, a batch extraction) may spend at most
TOKEN_BUDGET tokens, and stops with one clear line before a call could exceed it.

Each call reserves its worst case before it is made and settles to the provider's reported
usage after. The worst case is the request's UTF-8 bytes plus a per-message overhead plus
`max_tokens`: a byte-level BPE token covers at least one byte, so no tokenizer can count
more, and calls in flight at the same time can never together overshoot the budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..errors import ProjectError
from .providers import Completion, Provider, ProviderError, ProviderSettings, build_provider

# The start of the cost guard's message: a Spark job finds it in a failed task's text.
BUDGET_REACHED = "token budget reached"
# Chat formats wrap each message in a few tokens (role, separators); 8 is above all of them.
PER_MESSAGE_TOKENS = 8


class BudgetExceededError(ProjectError):
    """The next call could take the run over its token budget: stopped before it."""


def worst_case(messages: list[dict[str, str]], max_tokens: int) -> int:
    """The most tokens this call can be billed, whatever the model's tokenizer."""
    sent = sum(len(m["content"].encode("utf-8")) + PER_MESSAGE_TOKENS for m in messages)
    return sent + max_tokens


@dataclass
class TokenBudget:
    limit: int
    # Set when this budget is one task's share of a run's TOKEN_BUDGET (Spark).
    total: int | None = None
    spent: int = 0
    reserved: int = 0
    calls: int = 0

    def _what(self) -> str:
        if self.total is None:
            return f"TOKEN_BUDGET={self.limit} tokens"
        return f"this task's {self.limit}-token share of TOKEN_BUDGET={self.total}"

    def reserve(self, tokens: int) -> None:
        if self.spent + self.reserved + tokens > self.limit:
            raise BudgetExceededError(
                f"{BUDGET_REACHED}: {self.spent} of {self._what()} spent "
                f"in {self.calls} call(s), and the next call may need up to {tokens}; stopped "
                "before exceeding it (raise TOKEN_BUDGET, or run on fewer messages)"
            )
        self.reserved += tokens

    def settle(self, reserved: int, used: int) -> None:
        self.reserved -= reserved
        self.spent += used
        self.calls += 1

    def release(self, reserved: int) -> None:
        self.reserved -= reserved

    @property
    def remaining(self) -> int:
        return self.limit - self.spent - self.reserved


class BudgetedProvider:
    """Any provider, with every call reserved against a TokenBudget first."""

    def __init__(self, inner: Provider, budget: TokenBudget, max_tokens: int) -> None:
        self.inner = inner
        self.budget = budget
        self.max_tokens = max_tokens
        self.model = inner.model

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        estimate = worst_case(messages, self.max_tokens)
        self.budget.reserve(estimate)
        try:
            completion = await self.inner.complete(messages)
        except ProviderError as exc:
            # A call that timed out may still have been generated and billed: count its
            # worst case. Refused or failed calls are not billed.
            if exc.kind == "timeout":
                self.budget.settle(estimate, estimate)
            else:
                self.budget.release(estimate)
            raise
        except BaseException:
            self.budget.release(estimate)
            raise
        self.budget.settle(estimate, completion.tokens_in + completion.tokens_out)
        return completion

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def budgeted(
    settings: ProviderSettings, budget: TokenBudget, provider: Provider | None = None
) -> AsyncIterator[BudgetedProvider]:
    """The settings' provider (or `provider`, left open for its owner), behind `budget`."""
    inner = provider or build_provider(settings)
    try:
        yield BudgetedProvider(inner, budget, settings.provider_max_tokens)
    finally:
        if provider is None:
            await inner.aclose()
