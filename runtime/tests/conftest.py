"""A real MLflow store on SQLite per test, a governance record, and the two kinds of
versioned artifact the lifecycle serves (registered models, prompts), registered the cheap
way: a model version needs no trained model to carry aliases and tags."""

from __future__ import annotations

import itertools
import os
import shutil
import socketserver
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from local_ports import free_port
from mlflow.tracking import MlflowClient
from trade_project import Settings as TradeSettings
from trade_project import evaluate, fake_running, promote, working_prompt

from goldpath_runtime.governance import AuditTrail
from goldpath_runtime.lifecycle import CHALLENGER, ModelVersions, PromptVersions, Versions
from goldpath_runtime.llm.fake_provider import FakeProvider
from goldpath_runtime.llm.prompts import Prompt, register
from goldpath_runtime.store import StoreConfig, connect, ensure_experiment

RECORD = """\
# The team's record: comments and order are theirs.
model: rfq_model
kind: tabular
owner: markets-ml
owner_email: markets-ml@bank.example
risk_tier: {tier}
purpose: Predicts whether an RFQ is won.
intended_use: Decision support.
limitations: Past requests only.
latest: {{}}
"""


def Store(
    uri: str, artifacts: str, experiment: str = "rfq_model", registry: str | None = None
) -> StoreConfig:
    return StoreConfig(uri, artifacts, experiment, registry)


# A local stand-in server (a fake forge, a collector) whose handler thread fails after its
# test has ended would print the traceback into whichever test then holds stderr: a
# handler's failure is kept here instead, as (client address, exception) pairs.
FAKE_SERVER_ERRORS: list[tuple[object, BaseException | None]] = []


def _keep_handler_error(self: socketserver.BaseServer, request: object, address: object) -> None:
    FAKE_SERVER_ERRORS.append((address, sys.exc_info()[1]))


socketserver.BaseServer.handle_error = _keep_handler_error  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _own_environment() -> Iterator[None]:
    """The process's environment as it was before each test, after it. MLflow exports
    the store a test connects to (MLFLOW_TRACKING_URI), a bundle job sets MODEL_NAME and
    points MLflow at Databricks: left behind, they reach every later test of this worker,
    and the projects it starts (a generated project's make test trained "rfq_desk")."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite database with its tables made, once: each test copies it (MLflow's
    migrations take a second or two per new database)."""
    database = tmp_path_factory.mktemp("empty") / "mlflow.db"
    connect(Store(f"sqlite:///{database}", "file:///unused")).search_experiments()
    return database


@pytest.fixture
def store(tmp_path: Path, empty_store: Path) -> StoreConfig:
    database = tmp_path / "mlflow" / "mlflow.db"
    database.parent.mkdir()
    shutil.copy(empty_store, database)
    return Store(f"sqlite:///{database}", (tmp_path / "artifacts").as_uri())


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No approver, reason, validator or CI identity unless a test sets one."""
    for name in ("APPROVER", "REASON", "VALIDATOR", "TRAINER", "GITHUB_ACTIONS", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def write_record(path: Path, tier: str = "medium") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RECORD.format(tier=tier))
    return path


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return write_record(tmp_path / "project" / "governance.yml")


@dataclass
class Subject:
    """One versioned artifact under test, and how to register a candidate for it."""

    versions: Versions
    trail: AuditTrail
    register: Callable[..., str]


_counter = itertools.count()


def _register_model(client: MlflowClient, name: str, gate: str, trained_by: str) -> str:
    if not ModelVersions(client, name).registered():
        client.create_registered_model(name)
    version = client.create_model_version(
        name, source=f"file:///nowhere/{next(_counter)}",
        tags={"gate": gate, "trained_by": trained_by, "gate_reason": "ROC AUC 0.61 < 0.70"},
    )  # fmt: skip
    client.set_registered_model_alias(name, CHALLENGER, str(version.version))
    return str(version.version)


def _register_prompt(client: MlflowClient, name: str, gate: str, trained_by: str) -> str:
    registered = mlflow.genai.register_prompt(
        name=name, template=f"Extract the trade ({next(_counter)}).",
        tags={"gate": gate, "trained_by": trained_by},
    )  # fmt: skip
    mlflow.genai.set_prompt_alias(name, alias=CHALLENGER, version=int(registered.version))
    return str(registered.version)


@pytest.fixture(params=["model", "prompt"])
def subject(request: pytest.FixtureRequest, store: StoreConfig, record: Path) -> Subject:
    client = connect(store)
    experiment = ensure_experiment(client, store)
    if request.param == "model":
        versions: Versions = ModelVersions(client, "rfq_model")
        make = _register_model
    else:
        versions = PromptVersions(client, "extract_trade")
        make = _register_prompt

    def register(gate: str = "passed", trained_by: str = "trainer-tom") -> str:
        return make(client, versions.name, gate, trained_by)

    return Subject(versions, AuditTrail(client, experiment, versions.name, record), register)


Decide = Callable[..., None]


@pytest.fixture
def decide(people: pytest.MonkeyPatch) -> Decide:
    """decide(approver=..., reason=..., validator=...): who decides the next move."""

    def set_people(**named: str) -> None:
        for name, value in named.items():
            people.setenv(name.upper(), value)

    return set_people


@pytest.fixture
def settings_for() -> type[StoreConfig]:
    """The settings class, to point at other stores."""
    return StoreConfig


# The LLM extraction platform's fixtures, on the template's trade-request project
# (trade_project.py): its fake provider for the session, a store per test, a served prompt.


@pytest.fixture(scope="session")
def trade_provider() -> Iterator[FakeProvider]:
    with fake_running(free_port()) as provider:
        yield provider


@pytest.fixture
def fake(trade_provider: FakeProvider) -> Iterator[FakeProvider]:
    """The session's fake provider, healthy and with its counts at zero after each test."""
    yield trade_provider
    trade_provider.reset()


@contextmanager
def deciding() -> Iterator[None]:
    """The suite's own identities for a promotion (a high tier wants an independent
    validator), put back after it."""
    people = {"APPROVER": "test-approver", "REASON": "test suite", "VALIDATOR": "validator-vic"}
    saved = {name: os.environ.get(name) for name in people}
    os.environ.update(people)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def store_settings(root: Path, provider_url: str, **overrides: object) -> TradeSettings:
    return TradeSettings(
        mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        mlflow_artifact_root=(root / "artifacts").as_uri(),
        provider_url=provider_url,
        # Apps served in-process write access lines at once, into pytest's capture.
        **{"access_log_flush_s": 0, **overrides},  # type: ignore[arg-type]
    )


@pytest.fixture
def fresh_store(
    tmp_path: Path, fake: FakeProvider, empty_store: Path, monkeypatch: pytest.MonkeyPatch
) -> TradeSettings:
    """Settings pointing at an empty MLflow store of this test's own; promotions allowed."""
    for name, value in (("APPROVER", "test-approver"), ("REASON", "test suite"),
                        ("VALIDATOR", "validator-vic")):  # fmt: skip
        monkeypatch.setenv(name, value)
    root = tmp_path / "mlflow"
    root.mkdir()
    shutil.copy(empty_store, root / "mlflow.db")
    return store_settings(root, fake.url)


@pytest.fixture
def decision_store(fresh_store: TradeSettings) -> TradeSettings:
    """This test's own store with v1 of the prompt registered and no decision yet."""
    register(fresh_store, Prompt(fresh_store.prompt_name, "working", "one"), {})
    return fresh_store


@pytest.fixture(scope="session")
def served_settings(
    tmp_path_factory: pytest.TempPathFactory, trade_provider: FakeProvider, empty_store: Path
) -> TradeSettings:
    """A store whose prompt passed the gate once and holds @champion."""
    root = tmp_path_factory.mktemp("served")
    shutil.copy(empty_store, root / "mlflow.db")
    settings = store_settings(root, trade_provider.url)
    report = evaluate(settings, working_prompt(settings))
    assert report.passed, report.checks
    with deciding():
        promote(settings)
    return settings


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAPI's router was entered for (a hot route never enters it)."""
    from starlette.routing import Router

    entered: list[str] = []
    original = Router.__call__

    async def counting(self: Router, scope: object, receive: object, send: object) -> None:
        entered.append(f"{scope.get('method')} {scope.get('path')}")
        await original(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", counting)
    return entered
