"""An LLM extraction project, as the platform sees it: the parts its team owns, handed over
once (the project's `project.py`), for the platform's command line, service, evaluation
gate, batch run and Databricks jobs to use."""

from __future__ import annotations

from dataclasses import dataclass

from ..project import Project
from .fake_provider import FakeProvider, StandInModel
from .output import ExtractionOutput
from .settings import ExtractionSettings


@dataclass(frozen=True)
class ExtractionProject(Project):
    """`package`: the import name; `package_dir`: its folder (the governance record is found
    from it, and provenance read above it); `settings`: the project's ExtractionSettings;
    `schema`: its output schema (every field with a default); `scored_fields`: the fields
    the gate scores one by one against the labels; `stand_in` and `stand_in_name`: the model
    the fake provider plays (tests, demo, benchmark, the gate with PROVIDER=fake)."""

    settings: type[ExtractionSettings]
    schema: type[ExtractionOutput]
    scored_fields: tuple[str, ...]
    stand_in: StandInModel
    stand_in_name: str
    title: str = "extraction"
    description: str = "Extracts structured fields from free-text messages."

    def fake_provider(
        self, latency_ms: float = 0, require_token: str | None = None
    ) -> FakeProvider:
        return FakeProvider(self.stand_in, latency_ms, require_token, name=self.stand_in_name)
