"""The example project the LLM platform's tests drive: the template's own trade-request
extraction (its output schema and stand-in model, loaded from templates/project), bound the
way a generated project binds it (`project.py`), with helpers of the signatures a project's
modules had before its platform moved here."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import Field

from goldpath_runtime.llm import batch, cli, gate, prompts, service
from goldpath_runtime.llm import extractor as extractor_module
from goldpath_runtime.llm.fake_provider import FakeProvider, running
from goldpath_runtime.llm.guardrails import DEFAULT_REGIONS
from goldpath_runtime.llm.project import ExtractionProject
from goldpath_runtime.llm.prompts import Prompt, load_serving_prompt
from goldpath_runtime.llm.providers import Provider
from goldpath_runtime.llm.settings import PRICES, ExtractionSettings
from goldpath_runtime.store import AliasMove

# The LLM kind's own files: its folder of the template (copier.yml's llm_layer).
TEMPLATE = Path(__file__).parents[2] / "templates" / "project" / "{{ llm_layer }}"
PACKAGE_SOURCE = TEMPLATE / "src" / "{{project_slug}}"
PROMPTS_DIR = TEMPLATE / "prompts"
EVALUATION_SET = TEMPLATE / "evaluation" / "trade_requests.jsonl"
HOLDOUT_SET = TEMPLATE / "evaluation" / "personal_data_holdout.jsonl"

RECORD = """\
model: trade_desk
kind: llm
owner: markets-ml
owner_email: markets-ml@bank.example
risk_tier: medium
purpose: Extracts trade requests from client messages.
intended_use: Drafts a request for a trader to check.
limitations: Only the fields in its schema.
developer: markets-ml
materiality: medium
validity_months: 12
exceptions: []
latest: {}
"""


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"trade_desk_{name}", PACKAGE_SOURCE / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the schema's annotations through it
    spec.loader.exec_module(module)
    return module


extraction = _load("extraction")
stand_in = _load("fake_provider")
TradeRequest = extraction.TradeRequest
SCORED_FIELDS: tuple[str, ...] = extraction.SCORED_FIELDS
MODEL: str = stand_in.MODEL


class Settings(ExtractionSettings):
    experiment_name: str = "trade_desk"
    prompt_name: str = "extract_trade"
    prompts_dir: Path = PROMPTS_DIR
    evaluation_set: Path = EVALUATION_SET
    provider_model: str = MODEL
    prices: dict[str, tuple[float, float]] = Field(default={MODEL: (0.0, 0.0), **PRICES})


# A wheel's layout: the package folder carries governance.yml (no checkout above it).
PACKAGE_DIR = Path(tempfile.mkdtemp(prefix="trade_desk-")) / "trade_desk"
PACKAGE_DIR.mkdir()
(PACKAGE_DIR / "governance.yml").write_text(RECORD)

PROJECT = ExtractionProject(
    package="trade_desk",
    package_dir=PACKAGE_DIR,
    version="0.1.0",
    settings=Settings,
    schema=TradeRequest,
    scored_fields=SCORED_FIELDS,
    stand_in=stand_in.answer,
    stand_in_name=MODEL,
)


def fake_running(port: int, latency_ms: float = 0, require_token: str | None = None) -> Any:
    return running(PROJECT.fake_provider(latency_ms, require_token), port)


def working_prompt(settings: ExtractionSettings) -> Prompt:
    return prompts.working_prompt(settings)


def evaluate(
    settings: ExtractionSettings, prompt: Prompt, provider: Provider | None = None
) -> gate.GateReport:
    return gate.evaluate(PROJECT, settings, prompt, provider)


def promote(settings: ExtractionSettings, version: str | None = None) -> AliasMove:
    return prompts.promote(settings, PROJECT.record(), version)


def rollback(settings: ExtractionSettings) -> AliasMove:
    return prompts.rollback(settings, PROJECT.record())


def lifecycle_status(settings: ExtractionSettings) -> list[dict[str, str]]:
    return prompts.lifecycle_status(settings, PROJECT.record())


def create_app(
    settings: ExtractionSettings | None = None, loader: Any = load_serving_prompt
) -> Any:
    return service.create_app(PROJECT, settings, loader)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(PROJECT, argv)


def Extractor(
    provider: Provider, prompt: Prompt, regions: Sequence[str] = DEFAULT_REGIONS
) -> extractor_module.Extractor:
    return extractor_module.Extractor(provider, prompt, TradeRequest, regions)


def extract_frame(frame: Any, settings: ExtractionSettings, prompt: Prompt, **options: Any) -> Any:
    return batch.extract_frame(frame, settings, prompt, TradeRequest, **options)


__all__ = ["FakeProvider", "Prompt", "load_serving_prompt"]
