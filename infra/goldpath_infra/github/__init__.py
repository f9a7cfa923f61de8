"""GitHub as the platform configures it for every ML repository."""

from .platform_stages import PlatformStages
from .promotion_gate import PromotionGate

__all__ = ["PlatformStages", "PromotionGate"]
