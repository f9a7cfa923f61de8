"""GitLab as the platform configures it for every ML project."""

from .promotion_gate import PromotionGate

__all__ = ["PromotionGate"]
