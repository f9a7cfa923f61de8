"""An LLM extraction project, as the platform sees it: the parts its team owns, handed over
once (the project's `project.py`), for the platform's command line, service, evaluation
gate, batch run and Databricks jobs to use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..governance import find_record
from ..settings import load
from .fake_provider import FakeProvider, StandInModel
from .output import ExtractionOutput
from .settings import ExtractionSettings


@dataclass(frozen=True)
class ExtractionProject:
    """`package`: the import name; `package_dir`: its folder (the governance record is found
    from it, and provenance read above it); `settings`: the project's ExtractionSettings;
    `schema`: its output schema (every field with a default); `scored_fields`: the fields
    the gate scores one by one against the labels; `stand_in` and `stand_in_name`: the model
    the fake provider plays (tests, demo, benchmark, the gate with PROVIDER=fake)."""

    package: str
    package_dir: Path
    version: str
    settings: type[ExtractionSettings]
    schema: type[ExtractionOutput]
    scored_fields: tuple[str, ...]
    stand_in: StandInModel
    stand_in_name: str
    title: str = "extraction"
    description: str = "Extracts structured fields from free-text messages."

    def load_settings(self, **overrides: object) -> ExtractionSettings:
        """Settings from the environment; a bad variable is one line (ProjectError)."""
        return load(self.settings, **overrides)

    def record(self) -> Path:
        """The project's governance record: its checkout's, or the copy a wheel carries
        (Databricks jobs have no checkout); never a working directory's."""
        return find_record(self.package_dir)

    @property
    def root(self) -> Path:
        """The project's checkout (above src/), for provenance; absent in a wheel."""
        return self.package_dir.parents[1]

    def fake_provider(
        self, latency_ms: float = 0, require_token: str | None = None
    ) -> FakeProvider:
        return FakeProvider(self.stand_in, latency_ms, require_token, name=self.stand_in_name)
