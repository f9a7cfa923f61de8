"""A challenger scored in the shadow of live traffic, under the real gunicorn server on
each serving shell: sampled requests are scored by @challenger after their response, the
agreement lands in the metrics and the shadow log, and the evidence read back from the log
is what a promotion can require."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from tabular_models import SCHEMA, Version, fitted_pipeline, sample
from toy_servers import Server, start

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.tabular import lean
from goldpath_runtime.tabular.shadow import Shadow, segment_of
from goldpath_runtime.tabular.shadow_evidence import collect, log_files

APP = "shadow_service:create_app()"
ROWS = sample(40, 21, target=False).to_dict("records")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """@champion v3 and a different @challenger v4, baked as lean artifacts."""
    root = tmp_path_factory.mktemp("models")
    rows = sample(200, 5, target=False)
    for folder in ("champion", "challenger"):
        (root / folder).mkdir()
    lean.export(Version(fitted_pipeline()), root / "champion", SCHEMA, rows)
    other = HistGradientBoostingClassifier(max_iter=5, max_depth=2, random_state=9)
    challenger = Version(fitted_pipeline(other), version="4", card_id="card-4")
    lean.export(challenger, root / "challenger", SCHEMA, rows)
    return root / "champion", root / "challenger"


def serve(shell: str, workdir: Path, models: tuple[Path, Path], rate: str, **extra: str) -> Server:
    env = {
        "TOY_CHAMPION_DIR": str(models[0]),
        "TOY_CHALLENGER_DIR": str(models[1]),
        "SHADOW_SAMPLE_RATE": rate,
        "SHADOW_LOG_DIR": str(workdir / "shadow"),
        **extra,
    }
    server = start(shell, workdir, 2, env, app=APP)
    server.wait_ready()
    return server


def metrics(server: Server) -> str:
    with urllib.request.urlopen(server.url("/metrics"), timeout=5) as response:  # noqa: S310
        return response.read().decode()


def sample_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(check: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture(params=["asgi", "wsgi"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_sampled_request_is_scored_by_the_challenger_and_recorded(
    shell: str, models: tuple[Path, Path], tmp_path: Path
) -> None:
    server = serve(shell, tmp_path, models, "1.0")
    try:
        assert server.wait_ready()["model_version"] == "3"
        for row in ROWS[:30]:
            status, body = server.post("/predict", row)
            assert (status, body["model_version"]) == (200, "3")
        status, _ = server.post("/predict", {"instances": ROWS[30:]})
        assert status == 200
        wait_for(lambda: collect(tmp_path / "shadow", "3", "4").requests == 31)
        text = metrics(server)
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log_text()
    evidence = collect(tmp_path / "shadow", "3", "4")
    assert (evidence.requests, evidence.rows, evidence.skipped) == (31, 40, 0)
    assert set(evidence.segments) == {"buy", "sell"}  # the schema's first categorical
    assert sum(s.rows for s in evidence.segments.values()) == 40
    assert 0 < evidence.mean_abs_diff < 1  # two different models: they differ, within [0, 1]
    assert 0 <= evidence.agreement <= 1
    assert sample_value(text, "shadow_rows_total", challenger="4") == 40
    agreed = sample_value(text, "shadow_agreements_total", challenger="4")
    assert agreed == evidence.agreed
    assert sample_value(text, "shadow_requests_total", challenger="4", outcome="scored") == 31
    assert sample_value(text, "shadow_score_difference_count", challenger="4") == 40


def test_with_shadowing_off_no_challenger_is_loaded(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    server = serve("asgi", tmp_path, models, "0")
    try:
        assert server.wait_ready()["model_version"] == "3"
        assert server.post("/predict", ROWS[0])[0] == 200
        text = metrics(server)
    finally:
        assert server.stop() == 0
    assert "shadow_requests_total{" not in text
    assert "challenger loaded in the shadow" not in server.log_text()
    assert not (tmp_path / "shadow").exists()


def test_the_challenger_never_delays_a_response(
    shell: str, models: tuple[Path, Path], tmp_path: Path
) -> None:
    """A challenger taking 3 s per request: every answer still comes at once, and samples
    beyond the bound are dropped and counted, not waited for."""
    server = serve(shell, tmp_path, models, "1.0", TOY_CHALLENGER_DELAY_S="3")
    try:
        for row in ROWS[:5]:
            started = time.monotonic()
            assert server.post("/predict", row, timeout=2.5)[0] == 200
            assert time.monotonic() - started < 2.5
        wait_for(lambda: collect(tmp_path / "shadow", "3", "4").requests >= 1, timeout=30)
    finally:
        assert server.stop(timeout=60) == 0


def test_a_failing_challenger_is_counted_and_the_service_answers(
    shell: str, models: tuple[Path, Path], tmp_path: Path
) -> None:
    server = serve(shell, tmp_path, models, "1.0", TOY_CHALLENGER_FAILS="1")
    try:
        for row in ROWS[:4]:
            assert server.post("/predict", row)[0] == 200
        wait_for(lambda: sample_value(metrics(server), "shadow_requests_total",
                                      outcome="failed") == 4)  # fmt: skip
    finally:
        assert server.stop() == 0
    assert collect(tmp_path / "shadow", "3", "4").requests == 0


def test_no_challenger_leaves_the_service_serving_unshadowed(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    server = serve("asgi", tmp_path, models, "1.0", TOY_CHALLENGER_DIR="")
    try:
        assert server.post("/predict", ROWS[0])[0] == 200
    finally:
        assert server.stop() == 0
    assert "no challenger to shadow; serving without" in server.log_text()


def test_a_sample_rate_shadows_about_that_share(models: tuple[Path, Path], tmp_path: Path) -> None:
    champion = lean.load(models[0], SCHEMA)
    from goldpath_runtime.tabular.predictor import Predictor

    challenger = Predictor(lean.load(models[1], SCHEMA), 100, SCHEMA, lambda: sample(8, 3))
    shadow = Shadow(challenger, champion.version, rate=0.1, segment="tier",
                    log_dir=tmp_path, seed=4)  # fmt: skip
    sampled = sum(shadow.sampled() for _ in range(10_000))
    assert 850 < sampled < 1150
    probability = champion.scorer.predict_proba(champion.scorer.encode(ROWS[:3]))
    shadow.offer(ROWS[:3], probability, champion.labels(probability))
    shadow.stop()
    evidence = collect(tmp_path, champion.version, "4")
    assert set(evidence.segments) <= {"gold", "silver", "bronze"}
    assert evidence.rows == 3


def test_samples_beyond_the_bound_are_dropped_and_counted(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    from prometheus_client import REGISTRY

    from goldpath_runtime.tabular.predictor import Predictor

    champion = lean.load(models[0], SCHEMA)
    challenger = Predictor(lean.load(models[1], SCHEMA), 100, SCHEMA, lambda: sample(8, 3))
    shadow = Shadow(challenger, "3", rate=1.0, segment=None, log_dir=tmp_path,
                    max_pending=2, interval_s=3600)  # fmt: skip
    labels = {"challenger": "4", "outcome": "dropped"}
    before = REGISTRY.get_sample_value("shadow_requests_total", labels) or 0
    probability = champion.scorer.predict_proba(champion.scorer.encode(ROWS[:1]))
    for _ in range(5):
        shadow.offer(ROWS[:1], probability, champion.labels(probability))
    assert REGISTRY.get_sample_value("shadow_requests_total", labels) == before + 3
    shadow.stop()  # what was pending is scored before the thread ends
    evidence = collect(tmp_path, "3", "4")
    assert (evidence.requests, set(evidence.segments)) == (2, {"all"})


def test_a_segment_must_be_a_categorical_feature() -> None:
    assert segment_of(SCHEMA, None) == "side"
    assert segment_of(SCHEMA, "tier") == "tier"
    with pytest.raises(ProjectError, match="SHADOW_SEGMENT=amount is not a categorical"):
        segment_of(SCHEMA, "amount")


def _line(champion: str = "3", challenger: str = "4", rows: int = 2, agreed: int = 1) -> str:
    return json.dumps({
        "at": "2026-12-05T10:00:00.000+00:00", "champion": champion, "challenger": challenger,
        "rows": rows, "agreed": agreed, "sum_abs_diff": 0.2, "max_abs_diff": 0.15,
        "latency_ms": 0.4, "segments": {"buy": [rows, agreed, 0.2]},
    })  # fmt: skip


def test_only_evidence_against_this_champion_counts(tmp_path: Path) -> None:
    lines = [_line(), _line(champion="2"), _line(challenger="5"), _line()]
    (tmp_path / "shadow-1.jsonl").write_text("\n".join(lines) + "\n")
    evidence = collect(tmp_path, "3", "4")
    assert (evidence.requests, evidence.rows, evidence.agreed) == (2, 4, 2)
    assert evidence.tags()["shadow_agreement"] == "0.5000"
    assert evidence.tags()["shadow_champion"] == "3"


# The shadow log is read back as untrusted text: whatever a file holds, collecting counts
# only whole lines of the writer's shape and never raises.
HOSTILE_LINES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.recursive(
        st.none() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=20,
    ).map(lambda v: json.dumps(v).encode()),
    st.integers(1_000, 200_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.just(b'{"at": 1}' + b" " * 70_000),
    st.builds(
        lambda r, a: _line(rows=r, agreed=a).encode(), st.integers(-2, 3), st.integers(-2, 5)
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(HOSTILE_LINES, max_size=8))
def test_hostile_shadow_logs_are_skipped_never_fatal(
    lines: list[bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "shadow-9.jsonl").write_bytes(b"\n".join([*lines, _line().encode()]) + b"\n")
    evidence = collect(folder, "3", "4")
    assert evidence.requests >= 1
    assert evidence.agreed <= evidence.rows
    assert not np.isnan(evidence.agreement)


def test_logs_are_never_followed_out_of_their_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text(_line() + "\n")
    folder = tmp_path / "shadow"
    folder.mkdir()
    os.symlink(outside, folder / "shadow-1.jsonl")
    (folder / "shadow-2.jsonl").mkdir()
    assert log_files(folder) == []
    assert collect(folder, "3", "4").requests == 0


@pytest.fixture
def no_shadow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHADOW_SAMPLE_RATE", "MODEL_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_a_baked_model_cannot_be_shadowed(
    models: tuple[Path, Path], no_shadow_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goldpath_runtime.settings import load
    from goldpath_runtime.tabular.settings import TabularSettings

    monkeypatch.setenv("MODEL_DIR", str(models[0]))
    monkeypatch.setenv("SHADOW_SAMPLE_RATE", "0.1")
    with pytest.raises(ProjectError, match="SHADOW_SAMPLE_RATE needs the registry"):
        load(TabularSettings)
