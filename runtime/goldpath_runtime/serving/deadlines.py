"""How long a client may take to send its request: CLIENT_TIMEOUT_S (default 10 s).

A client that connects and sends slowly, or not at all (slowloris), must not hold a
connection forever: the workers bound how long a request's headers may take to arrive,
and the shells bound its body the same way (408)."""

from __future__ import annotations

import os

DEFAULT_S = 10.0


def client_timeout() -> float:
    """CLIENT_TIMEOUT_S; a bad value falls back to the default here, and a project's
    settings then stop the app with one line naming the variable."""
    try:
        value = float(os.environ.get("CLIENT_TIMEOUT_S", str(DEFAULT_S)))
    except ValueError:
        return DEFAULT_S
    return value if 0 < value <= 300 else DEFAULT_S
