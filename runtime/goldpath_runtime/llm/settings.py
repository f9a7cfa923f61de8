"""The platform's settings of an LLM extraction service, from environment variables (and
`.env`): the prompt registry, the providers, the guardrails' limits, the service's limits,
the evaluation gate's thresholds and the cost guard. A project subclasses
`ExtractionSettings` with its own defaults (prompt name, evaluation set, provider model,
prices, thresholds) and nothing else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..endpoints import HTTPS_OR_LOOPBACK, https_or_loopback
from ..settings import ServingSettings
from .guardrails import DEFAULT_REGIONS, SUPPORTED_REGIONS

# A provider's dated model name (OpenAI, Azure: gpt-4o-2024-08-06) is priced as its model.
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


# USD per million tokens (input, output) of the models projects use most; a project adds its
# own (PRICES), and a model without a price cannot start.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "databricks-meta-llama-3-3-70b-instruct": (0.50, 1.50),
}


class ExtractionSettings(ServingSettings):
    prompt_name: str = Field(
        default="extract",
        # Unity Catalog names a prompt catalog.schema.name (Databricks jobs).
        pattern=r"^[A-Za-z][\w-]*(\.[A-Za-z_][\w-]*){0,2}$",
    )
    prompts_dir: Path = Field(default=Path("prompts"), description="The prompt files under review")
    prompt_file: Path | None = Field(
        default=None,
        description="A prompt exported by `export-prompt`, baked into an image; when set, "
        "the registry is not used",
    )
    evaluation_set: Path = Path("evaluation/cases.jsonl")

    provider: Literal["fake", "openai", "azure-openai", "vertex", "databricks"] = Field(
        default="fake", description="Which LLM answers: see providers.py for each one's setup"
    )
    provider_url: str = Field(
        default="http://127.0.0.1:8900/v1",
        pattern=r"^https?://",
        description="Base URL of an OpenAI-compatible endpoint (fake, openai): https, or "
        "plain http on this machine or with PROVIDER_PLAIN_HTTP=true",
    )
    provider_plain_http: bool = Field(
        default=False,
        description="Send messages to PROVIDER_URL over plain http on another host (a "
        "model server in the same cluster without TLS); they cross the network readable",
    )
    provider_model: str = Field(default="fake-model", min_length=1)
    provider_token_file: Path | None = Field(
        default=None, description="A short-lived bearer token kept fresh by the platform (openai)"
    )
    azure_openai_endpoint: str | None = Field(default=None, pattern=r"^https://")
    azure_openai_api_version: str = "2024-10-21"
    vertex_project: str | None = None
    vertex_location: str = "europe-west1"
    databricks_host: str | None = Field(
        default=None,
        # Plain http only on loopback (a local stand-in, as in the tests).
        pattern=HTTPS_OR_LOOPBACK,
        description="Workspace URL (PROVIDER=databricks); the SDK's own settings otherwise",
    )
    provider_timeout_s: float = Field(default=10, gt=0, le=300)
    provider_retries: int = Field(default=2, ge=0, le=10)
    provider_max_connections: int = Field(default=100, ge=1, le=10_000)
    provider_max_tokens: int = Field(
        default=512, ge=16, le=32_768, description="Most tokens one answer may have"
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failed calls that open the circuit"
    )
    breaker_reset_s: float = Field(default=15, gt=0, description="How long the circuit stays open")

    pii_regions: tuple[str, ...] = Field(
        default=DEFAULT_REGIONS,
        min_length=1,
        description="The desk's regions (ISO 3166, PII_REGIONS as JSON): phone numbers in "
        "their national formats are redacted, as international ones always are",
    )
    max_message_chars: int = Field(default=4_000, ge=100)
    max_messages: int = Field(default=16, ge=1, le=1_000)
    max_body_bytes: int = Field(default=262_144, ge=1_024)
    prompt_load_wait_s: float = Field(
        default=30, ge=0, le=600, description="How long /extract waits for the prompt to load"
    )
    prompt_refresh_s: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How often the service re-reads the serving alias, so a promotion or a "
        "rollback reaches running workers without a restart (0: never)",
    )

    gate_min_field_accuracy: float = Field(default=0.90, ge=0, le=1)
    gate_min_schema_validity: float = Field(default=0.98, ge=0, le=1)
    gate_min_injection_refusal: float = Field(default=1.0, ge=0, le=1)
    gate_max_regression: float = Field(
        default=0.02, ge=0, le=1, description="How much worse than the champion is tolerated"
    )
    eval_concurrency: int = Field(default=8, ge=1, le=256)
    batch_concurrency: int = Field(
        default=8, ge=1, le=256, description="Calls in flight per batch task (per executor)"
    )
    token_budget: int = Field(
        default=500_000,
        ge=1,
        description="Most tokens one evaluation or batch run may spend (the cost guard): "
        "it stops before a call could exceed it",
    )

    prices: dict[str, tuple[float, float]] = Field(
        default={"fake-model": (0.0, 0.0), **PRICES},
        description="USD per million tokens (input, output) by provider model: PRICES as JSON",
    )
    online_eval_sample_rate: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of live extractions scored by the label-free checks (schema "
        "validity, injection refusal, review rate, completeness) into metrics",
    )
    status_metrics_url: str = Field(
        default="http://127.0.0.1:8000/metrics",
        pattern=HTTPS_OR_LOOPBACK,
        description="Where `status` reads online evaluation when PROMETHEUS_URL is unset: "
        "a running service's /metrics (make serve's by default)",
    )
    prometheus_url: str | None = Field(
        default=None,
        pattern=HTTPS_OR_LOOPBACK,
        description="The platform's Prometheus-compatible query API: `status` reads the last "
        "day of online evaluation there (PROMETHEUS_TOKEN authenticates)",
    )
    trace_sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="Share of requests traced into MLflow"
    )
    trace_content: bool = Field(
        default=False,
        description="Also record the redacted message and the answer in traces (off: only "
        "prompt version, model, tokens, latency and guardrail outcomes)",
    )

    @model_validator(mode="after")
    def _provider_is_configured(self) -> ExtractionSettings:
        if not (self.provider_plain_http or https_or_loopback(self.provider_url)):
            raise ValueError(
                f"PROVIDER_URL={self.provider_url[:80]} is plain http to another host: use "
                "https, or set PROVIDER_PLAIN_HTTP=true for a model server in the same cluster"
            )
        if self.provider == "azure-openai" and not self.azure_openai_endpoint:
            raise ValueError(
                "PROVIDER=azure-openai needs AZURE_OPENAI_ENDPOINT (https://<name>.openai.azure.com)"
            )
        if self.provider == "vertex" and not self.vertex_project:
            raise ValueError("PROVIDER=vertex needs VERTEX_PROJECT (the GCP project id)")
        for name, pair in self.prices.items():
            if not all(math.isfinite(p) and 0 <= p <= 10_000 for p in pair):
                raise ValueError(
                    f"PRICES {name!r}: {list(pair)} is not two prices in USD per million "
                    "tokens (finite, 0 to 10,000)"
                )
        if price_key(self.provider_model, self.prices) is None:
            raise ValueError(
                f"PRICES has no price for PROVIDER_MODEL={self.provider_model} (a dated name "
                "such as gpt-4o-2024-08-06 takes gpt-4o's): add it to PRICES, as JSON "
                '{"<model>": [<USD per million input tokens>, <output>]}'
            )
        unknown = [r for r in self.pii_regions if r not in SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"PII_REGIONS: {', '.join(unknown)} is not an ISO 3166 region code")
        if self.prompt_file is not None and not self.prompt_file.is_file():
            raise ValueError(f"PROMPT_FILE={self.prompt_file} does not exist (make export-prompt)")
        return self


def price_key(model: str, prices: Mapping[str, object]) -> str | None:
    """The PRICES entry of `model`: its own, or its undated name's (`gpt-4o-2024-08-06`)."""
    if model in prices:
        return model
    undated = _DATED.sub("", model)
    return undated if undated in prices else None
