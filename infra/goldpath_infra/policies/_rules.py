"""What the per-cloud policies share: reading wire properties, the public-ingress marker
and the ownership labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation

from .._base import PUBLIC_MARKER

REQUIRED_LABELS = ("owner", "project", "env")
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}


def get(props: Mapping[str, Any], *path: str) -> Any:
    node: Any = props
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def public_allowed(labels: Any) -> bool:
    return isinstance(labels, Mapping) and labels.get(PUBLIC_MARKER) == "allowed"


def missing_labels(labels: Any, report: ReportViolation) -> None:
    missing = [key for key in REQUIRED_LABELS if not (labels or {}).get(key)]
    if missing:
        report(f"missing ownership label(s)/tag(s) {missing}", None)
