"""What every LLM project shares: the guardrails text passes before it leaves the service."""
