"""One message through the guardrails, the prompt and the provider, into the project's
validated output schema. The service, the batch run and the evaluation gate all run
exactly this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .guardrails import DEFAULT_REGIONS, has_content, looks_like_injection, redact
from .output import ExtractionOutput, OutputInvalidError, parse_output
from .prompts import Prompt
from .providers import Completion, Provider, ProviderError

REPAIR_ECHO_CHARS = 4_000
REPAIR = "That answer was not valid ({reason}). Answer again with the JSON object only."


@dataclass
class Outcome:
    request: ExtractionOutput
    model: str
    redacted_text: str
    pii_found: dict[str, int] = field(default_factory=dict)
    injection_screened: bool = False
    repaired: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    provider_latency_s: float = 0.0
    tokens_estimated: bool = False  # a call's usage was missing or unbelievable

    def add(self, completion: Completion) -> None:
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out
        self.provider_latency_s += completion.latency_s
        self.tokens_estimated = self.tokens_estimated or completion.estimated


class Extractor:
    def __init__(
        self,
        provider: Provider,
        prompt: Prompt,
        schema: type[ExtractionOutput],
        regions: Sequence[str] = DEFAULT_REGIONS,
    ) -> None:
        self.provider = provider
        self.prompt = prompt
        self.schema = schema
        self.regions = regions  # the desk's, for national phone formats (PII_REGIONS)

    async def extract(self, message: str) -> Outcome:
        redaction = redact(message, self.regions)
        outcome = Outcome(self.schema(), self.provider.model, redaction.text, dict(redaction.found))
        if not has_content(redaction.text):
            # Only invisible characters: nothing to ask a provider about.
            outcome.request = self.schema(needs_review=True, confidence=0.0)
            return outcome
        if looks_like_injection(redaction.text):
            # Caught before any provider call: nothing of it leaves the service.
            outcome.request = self.schema(needs_review=True, confidence=0.0, refused=True)
            outcome.injection_screened = True
            return outcome
        messages = [
            {"role": "system", "content": self.prompt.text},
            {"role": "user", "content": redaction.text},
        ]
        completion = await self.provider.complete(messages)
        outcome.add(completion)
        outcome.model = completion.model
        try:
            parsed = parse_output(self.schema, completion.text)
        except OutputInvalidError as first:
            # One repair: models usually fix a truncated or chatty answer when told why.
            outcome.repaired = True
            retry = [
                *messages,
                # Bounded: a huge or hostile answer is not sent back whole.
                {"role": "assistant", "content": completion.text[:REPAIR_ECHO_CHARS]},
                {"role": "user", "content": REPAIR.format(reason=first.reason)},
            ]
            try:
                second = await self.provider.complete(retry)
            except ProviderError as exc:
                exc.spent = outcome  # the first answer was paid for: the caller counts it
                raise
            outcome.add(second)
            try:
                parsed = parse_output(self.schema, second.text)
            except OutputInvalidError as exc:
                error = ProviderError(
                    "bad_output", f"the answer did not match the schema twice ({exc.reason})"
                )
                error.spent = outcome
                raise error from None
        if parsed.refused and not parsed.needs_review:
            parsed = parsed.model_copy(update={"needs_review": True})
        outcome.request = parsed
        return outcome

    def with_prompt(self, prompt: Prompt) -> Extractor:
        """The same provider and guardrails with another prompt (a promotion, served)."""
        return Extractor(self.provider, prompt, self.schema, self.regions)
