"""Drift that acts: the example project's monitor, on shifted data, raises the alert and
starts the configured training pipeline (GitHub, Azure DevOps, Databricks: recorded at the
boundary, fake_pipelines.py); the run that starts registers a new @challenger and nothing
moves @champion. On unshifted data nothing is called."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fake_pipelines import TOKEN, FakePipelines, pipelines_running
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rfq_project import PROJECT, Settings

from goldpath_runtime.retraining import TriggerError, start_training
from goldpath_runtime.store import connect
from goldpath_runtime.tabular.cli import main
from goldpath_runtime.tabular.registry import alias_version, promote
from goldpath_runtime.tabular.training import train

GITHUB = {"RETRAIN_TRIGGER": "github", "RETRAIN_PIPELINE": "acme-bank/rfq-model/train.yml"}


@pytest.fixture
def fake() -> Iterator[FakePipelines]:
    with pipelines_running() as running:
        yield running
    assert running.violations == []


@pytest.fixture
def store(tmp_path: Path, empty_store: Path, people: pytest.MonkeyPatch) -> Settings:
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    for name, value in {"APPROVER": "alice", "REASON": "test"}.items():
        people.setenv(name, value)
    uri, artifacts = f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "artifacts").as_uri()
    people.setenv("MLFLOW_TRACKING_URI", uri)
    people.setenv("MLFLOW_ARTIFACT_ROOT", artifacts)
    return Settings(mlflow_tracking_uri=uri, mlflow_artifact_root=artifacts)


def samples(folder: Path, *, shifted: bool) -> list[str]:
    """The training reference and recent inputs (their wider spreads, when `shifted`)."""
    reference = PROJECT.sample(3_000, 1).drop(columns=[PROJECT.schema.target])
    current = PROJECT.sample(6_000, 2).drop(columns=[PROJECT.schema.target])
    if shifted:
        current = current[current["spread_bps"] > current["spread_bps"].median()]
    reference.to_csv(folder / "reference.csv", index=False)
    current.head(3_000).to_csv(folder / "current.csv", index=False)
    return ["--reference", str(folder / "reference.csv"), "--current",
            str(folder / "current.csv"), "--output-dir", str(folder / "drift")]  # fmt: skip


def configure(monkeypatch: pytest.MonkeyPatch, fake: FakePipelines, **env: str) -> None:
    for name, value in {"RETRAIN_API_URL": fake.url, "GITHUB_TOKEN": TOKEN,
                        "ALERT_WEBHOOK_URL": f"{fake.url}/webhook", **env}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


def test_shifted_inputs_start_training_that_registers_only_a_challenger(
    store: Settings, fake: FakePipelines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    train(PROJECT, store)
    promote(store, PROJECT.record())
    configure(monkeypatch, fake, **GITHUB)

    with pytest.raises(SystemExit) as ended:
        main(PROJECT, ["monitor", *samples(tmp_path, shifted=True)])
    assert ended.value.code == 3
    said = capsys.readouterr().err
    assert "drift detected: spread_bps (PSI" in said
    assert "training started through github acme-bank/rfq-model/train.yml" in said
    report = json.loads((tmp_path / "drift" / "drift.json").read_text())
    assert "spread_bps" in report["drifted"]
    assert "score" in [f["feature"] for f in report["features"]]  # the champion's scores too

    webhook, dispatch = fake.calls
    assert webhook.system == "webhook"
    assert webhook.body["text"].startswith("drift in rfq_desk: spread_bps (PSI ")
    assert (dispatch.system, dispatch.path) == (
        "github",
        "/repos/acme-bank/rfq-model/actions/workflows/train.yml/dispatches",
    )
    assert dispatch.body["ref"] == "main"
    assert dispatch.body["inputs"] == {"trigger": webhook.body["text"]}

    # The dispatched workflow's job, as train.yml runs it: the reason reaches the version.
    monkeypatch.setenv("TRAINING_TRIGGER", dispatch.body["inputs"]["trigger"])
    assert main(PROJECT, ["train", "--json"]) == 0
    client = connect(store)
    challenger = alias_version(client, store.model_name, "challenger")
    champion = alias_version(client, store.model_name, "champion")
    assert challenger is not None
    assert champion is not None
    assert (str(challenger.version), str(champion.version)) == ("2", "1")  # nothing promoted
    assert challenger.tags["training_trigger"] == webhook.body["text"]


def test_unshifted_inputs_call_nothing(
    store: Settings, fake: FakePipelines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    configure(monkeypatch, fake, **GITHUB)
    assert main(PROJECT, ["monitor", *samples(tmp_path, shifted=False)]) == 0
    out = capsys.readouterr().out
    assert "no drift detected" in out
    assert "scores not compared: no serving model" in out  # nothing promoted in this store
    assert fake.calls == []


@pytest.mark.parametrize(
    ("env", "system", "path", "expected"),
    [
        ({"RETRAIN_TRIGGER": "azure-devops", "RETRAIN_PIPELINE": "Markets ML/12",
          "SYSTEM_ACCESSTOKEN": TOKEN},
         "azure-devops", "/Markets%20ML/_apis/pipelines/12/runs",
         {"resources": {"repositories": {"self": {"refName": "refs/heads/main"}}},
          "templateParameters": {"trigger": "REASON"}}),
        ({"RETRAIN_TRIGGER": "databricks", "RETRAIN_PIPELINE": "5120",
          "DATABRICKS_TOKEN": TOKEN},
         "databricks", "/api/2.2/jobs/run-now",
         {"job_id": 5120, "job_parameters": {"trigger": "REASON"}}),
    ],
)  # fmt: skip
def test_each_trigger_calls_its_system_with_the_breach(
    store: Settings, fake: FakePipelines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str], system: str, path: str, expected: dict[str, object],
) -> None:  # fmt: skip
    configure(monkeypatch, fake, **env)
    monkeypatch.setenv("DATABRICKS_HOST", fake.url)
    monkeypatch.delenv("ALERT_WEBHOOK_URL")
    with pytest.raises(SystemExit):
        main(PROJECT, ["monitor", *samples(tmp_path, shifted=True)])
    [call] = fake.calls
    parameters = call.body.get("templateParameters") or call.body["job_parameters"]
    reason = parameters["trigger"]
    assert reason.startswith("drift in rfq_desk: spread_bps (PSI ")
    assert (call.system, call.path) == (system, path)
    assert json.loads(json.dumps(call.body).replace(json.dumps(reason), '"REASON"')) == expected


def test_a_trigger_that_fails_is_one_line_and_the_breach_still_fails_the_run(
    store: Settings, fake: FakePipelines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    configure(monkeypatch, fake, **GITHUB)
    fake.status = 403
    with pytest.raises(SystemExit) as ended:
        main(PROJECT, ["monitor", *samples(tmp_path, shifted=True)])
    assert ended.value.code == 3
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: training not started: 127.0.0.1 refused to start training (HTTP 403): check "
        "the token's permission to run the training pipeline"
    ]
    assert (tmp_path / "drift" / "drift.html").exists()
    assert "Traceback" not in capsys.readouterr().err


def test_an_unreachable_channel_never_hides_the_breach(
    fake: FakePipelines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from goldpath_runtime.retraining import alert

    closed = SimpleNamespace(alert_webhook_url="http://127.0.0.1:9/webhook")
    assert alert(closed, "drift in rfq_desk: x") is False
    assert alert(SimpleNamespace(alert_webhook_url=f"{fake.url}/webhook"), "drift: y") is True
    assert [c.body for c in fake.calls] == [{"text": "drift: y"}]


# Settings a team writes (RETRAIN_PIPELINE, RETRAIN_REF, RETRAIN_API_URL) reach a URL and a
# JSON body: whatever they hold, the call goes to the configured API at the one path its
# contract names, or nowhere with one line naming the variable.
TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
PIPELINES = st.one_of(
    TEXT,
    st.builds("/".join, st.lists(TEXT, min_size=3, max_size=3)),
    st.sampled_from(["../../x/train.yml", "a/b/../../c.yml", "a/b/c.yml?x=1", "a/b/%2e%2e.yml",
                     "--upload-pack=x/b/c.yml", "a/b/c.yml#f", "a/b/c.yml\nHost: evil"]),
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(pipeline=PIPELINES, ref=st.one_of(TEXT, st.just("../main")), reason=TEXT)
def test_hostile_trigger_settings_reach_one_documented_path_or_nothing(
    fake: FakePipelines, pipeline: str, ref: str, reason: str
) -> None:
    before = len(fake.calls)
    configured = SimpleNamespace(retrain_trigger="github", retrain_pipeline=pipeline,
                                 retrain_ref=ref, retrain_api_url=fake.url)  # fmt: skip
    refused: TriggerError | None = None
    try:
        start_training(configured, reason, {"GITHUB_TOKEN": TOKEN})
    except TriggerError as exc:
        refused = exc
    if refused is not None:
        assert "\n" not in str(refused)
        assert str(refused).split("=")[0].split()[0] in {"RETRAIN_PIPELINE", "RETRAIN_REF"}
        assert len(fake.calls) == before
        return
    [call] = fake.calls[before:]
    owner, repo, workflow = pipeline.split("/")
    assert call.path == f"/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"
    assert call.body["ref"] == ref
    assert call.body["inputs"]["trigger"] == " ".join(reason.split())
