"""The lifecycle of versioned artifacts (register, promote, rollback, retire, status),
one implementation with an adapter per kind."""

from .core import (
    CHALLENGER,
    SERVING,
    documentation,
    promote,
    retire,
    rollback,
    status,
    unrecorded,
)
from .models import ModelVersions
from .prompts import PromptVersions
from .versions import Version, Versions

__all__ = [
    "CHALLENGER",
    "SERVING",
    "ModelVersions",
    "PromptVersions",
    "Version",
    "Versions",
    "documentation",
    "promote",
    "retire",
    "rollback",
    "status",
    "unrecorded",
]
