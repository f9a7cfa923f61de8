"""A tabular model service under the real gunicorn server, on each serving shell, fuzzed
with requests generated from the OpenAPI document its features publish: valid rows are
scored, invalid ones refused with a documented 4xx, and nothing gets a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from schemathesis.generation import GenerationMode
from tabular_models import SCHEMA, Version, fitted_pipeline, sample
from toy_servers import Server, fuzz, start

from goldpath_runtime.tabular import lean

APP = "tabular_service:create_app()"


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MODEL_DIR as `make export-model` leaves it: the lean artifact of a fitted pipeline."""
    folder = tmp_path_factory.mktemp("baked")
    lean.export(Version(fitted_pipeline()), folder, SCHEMA, sample(200, 5, target=False))
    return folder


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def live_server(
    request: pytest.FixtureRequest, baked: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {"MODEL_DIR": str(baked)}
    server = start(request.param, tmp_path_factory.mktemp("fuzz"), 1, env, app=APP)
    server.wait_ready()
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log_text()


def test_one_request_is_scored_by_the_baked_model(live_server: Server) -> None:
    row = sample(1, 11, target=False).to_dict("records")[0]
    status, body = live_server.post("/predict", row)
    assert status == 200, body
    assert body["model_version"] == "3"
    assert body["prediction"] in (0, 1)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_fuzzed_requests_never_get_a_server_error(
    live_server: Server, mode: GenerationMode
) -> None:
    fuzz(live_server, mode)
