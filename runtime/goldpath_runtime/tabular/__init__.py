"""The tabular kind's platform code: the feature schema a project declares, the data
contract derived from it (pandera on pandas and Spark), and the serving fast path (numpy
encoding, compiled trees, the lean artifact a slim image serves)."""

from .features import Feature, FeatureSchema

__all__ = ["Feature", "FeatureSchema"]
