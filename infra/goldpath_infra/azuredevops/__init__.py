"""Azure DevOps as the platform configures it for every ML project's pipelines."""

from .platform_stages import PlatformStages
from .promotion_gate import PromotionGate

__all__ = ["PlatformStages", "PromotionGate"]
