"""The metrics of an LLM service, beside the serving shell's HTTP ones: messages by
outcome, tokens and estimated cost per model and prompt version, provider latency,
guardrail catches, the provider circuit, and OpenTelemetry's GenAI client metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PROMPT_INFO = Gauge(
    "prompt_info", "The prompt this process serves", ["name", "version"], multiprocess_mode="max"
)
MESSAGES = Counter("llm_messages_total", "Messages extracted", ["prompt_version", "outcome"])
TOKENS = Counter(
    "llm_tokens_total", "Tokens sent and received", ["model", "prompt_version", "direction"]
)
COST = Counter(
    "llm_cost_usd_total", "Estimated provider cost (PRICES table)", ["model", "prompt_version"]
)
PROVIDER_LATENCY = Histogram(
    "llm_provider_latency_seconds",
    "Provider call latency, retries included",
    ["model"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0),
)
# OpenTelemetry's GenAI semantic conventions (gen_ai.client.token.usage and
# gen_ai.client.operation.duration, their attributes as labels, their bucket boundaries):
# one observation per extracted message, the provider calls it took together.
GEN_AI_LABELS = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"]
GEN_AI_TOKENS = Histogram(
    "gen_ai_client_token_usage",
    "Tokens used per operation (OpenTelemetry GenAI semantic conventions)",
    [*GEN_AI_LABELS, "gen_ai_token_type"],
    buckets=tuple(4.0**n for n in range(14)),
)
GEN_AI_DURATION = Histogram(
    "gen_ai_client_operation_duration_seconds",
    "Provider time per operation (OpenTelemetry GenAI semantic conventions)",
    GEN_AI_LABELS,
    buckets=tuple(0.01 * 2**n for n in range(14)),
)
ERRORS = Counter("llm_errors_total", "Failed extractions by kind", ["kind"])
GUARDRAILS = Counter("llm_guardrail_triggers_total", "Guardrail catches by kind", ["kind"])
# 0 closed, 1 half-open, 2 open: the worst worker's state.
CIRCUIT = Gauge("llm_provider_circuit_state", "Provider circuit", multiprocess_mode="livemax")
