"""This project's parts, handed to the platform (goldpath_runtime.llm): the command line,
the service, the evaluation gate, batch extraction and the jobs all take them from here."""

from __future__ import annotations

from pathlib import Path

from goldpath_runtime.llm.project import ExtractionProject

from . import __version__
from .config import PACKAGE, Settings
from .extraction import SCORED_FIELDS, TradeRequest
from .fake_provider import MODEL, answer

PROJECT = ExtractionProject(
    package=PACKAGE,
    package_dir=Path(__file__).resolve().parent,
    version=__version__,
    settings=Settings,
    schema=TradeRequest,
    scored_fields=SCORED_FIELDS,
    stand_in=answer,
    stand_in_name=MODEL,
    title="extraction",
    description="Extracts structured trade requests from clients' free-text messages.",
)
