"""Train, register, serve, batch-score and monitor one model: the goldpath ML project."""

__version__ = "0.1.0"
