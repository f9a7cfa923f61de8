"""What every LLM project shares: the provider client, the fake provider its tests run
against, and the guardrails text passes before it leaves the service."""
