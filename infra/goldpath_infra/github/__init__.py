"""GitHub as the platform configures it for every ML repository."""

from .promotion_gate import PromotionGate

__all__ = ["PromotionGate"]
