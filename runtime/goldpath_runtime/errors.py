"""Errors a user can fix. A project's CLI prints them as one line; nothing else escapes."""


class ProjectError(Exception):
    """A problem with input, configuration or registry state that the user can act on."""


class DataValidationError(ProjectError):
    """A data frame does not match the feature schema; `problems` names every bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid data: " + "; ".join(problems))


class GateFailedError(ProjectError):
    """A version did not pass the evaluation gate and must not become champion."""


class ModelNotFoundError(ProjectError):
    """The registry has no model or prompt (or alias) where the settings point."""


class GovernanceError(ProjectError):
    """A decision the governance rules refuse; the message says what is missing."""
