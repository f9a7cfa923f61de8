"""Azure DevOps as the platform configures it for every ML project's pipelines."""

from .promotion_gate import PromotionGate

__all__ = ["PromotionGate"]
