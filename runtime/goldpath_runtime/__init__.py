"""goldpath-runtime: what every goldpath project shares, pinned at its template release."""

__version__ = "0.1.0"
