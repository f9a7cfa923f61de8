"""Where the runtime may send a request: https anywhere, plain http only to this machine
(a local stand-in, as in the tests). One rule for every setting and client taking a URL."""

from __future__ import annotations

import urllib.parse

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The same rule as a settings field's pattern (pydantic checks it before any code runs).
HTTPS_OR_LOOPBACK = r"^(https://|http://(127\.0\.0\.1|localhost)(:\d+)?(/|$))"


def https_or_loopback(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https":
        return True
    return parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS
