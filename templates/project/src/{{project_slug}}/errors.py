"""Errors a user can fix. The CLI prints them as one line; nothing else should escape."""


class ProjectError(Exception):
    """A problem with input, configuration or registry state that the user can act on."""


class DataValidationError(ProjectError):
    """A data frame does not match the feature schema; `problems` names every bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid data: " + "; ".join(problems))


class GateFailedError(ProjectError):
    """A model version did not pass the evaluation gate and must not become champion."""


class ModelNotFoundError(ProjectError):
    """The registry has no model (or alias) where the settings point."""
