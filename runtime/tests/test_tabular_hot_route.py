"""`POST /predict` on the ASGI shell is answered by the observability layer directly, not
through FastAPI's router and middleware layers (which cost more per request than scoring a
row: issue #35's profile): the same answers, errors, request ids, metrics and OpenAPI
document, with the router never entered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tabular_models import SCHEMA, Version, fitted_pipeline, sample

from goldpath_runtime.tabular import asgi_service, lean
from goldpath_runtime.tabular.settings import TabularSettings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from tabular_service import load_predictor

    lean.export(Version(fitted_pipeline()), tmp_path, SCHEMA, sample(200, 5, target=False))
    settings = TabularSettings(model_dir=tmp_path, max_body_bytes=4096)
    app = asgi_service.create_app(settings, load_predictor, SCHEMA, version="0.1.0")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert test_client.get("/readyz").status_code in (200, 503)
        for _ in range(100):
            if test_client.get("/readyz").status_code == 200:
                break
        yield test_client


def test_predict_never_enters_the_router(client: TestClient, routed: list[str]) -> None:
    row = sample(1, 11, target=False).to_dict("records")[0]
    answer = client.post("/predict", json=row, headers={"X-Request-ID": "rfq-42"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["prediction"] in (0, 1)
    assert answer.headers["x-request-id"] == "rfq-42"
    batch = client.post("/predict", json={"instances": [row, row]})
    assert len(batch.json()["predictions"]) == 2
    assert [p for p in routed if p.endswith("/predict")] == []
    # The probes are hot routes too; the OpenAPI document goes through FastAPI.
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert "GET /readyz" not in routed
    assert "GET /openapi.json" in routed


def test_its_errors_keep_the_one_shape(client: TestClient) -> None:
    not_json = client.post("/predict", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["detail"][0]["field"] == "body"
    too_large = client.post("/predict", json={"instances": [{"x": "y" * 5000}]})
    assert too_large.status_code == 413
    assert set(too_large.json()) == {"detail"}
    # Other methods on the route are FastAPI's, in the same shape.
    wrong_method = client.get("/predict")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"][0]["field"] == "request"


def test_it_is_counted_and_documented(client: TestClient) -> None:
    row = sample(1, 12, target=False).to_dict("records")[0]
    client.post("/predict", json=row)
    metrics = client.get("/metrics").text
    assert 'route="/predict"' in metrics
    assert "/predict" in client.get("/openapi.json").json()["paths"]


WITHOUT_FASTAPI = """
import asyncio, json, sys
from pathlib import Path
from tabular_models import SCHEMA, Version, fitted_pipeline, sample
from goldpath_runtime.tabular import lean

lean.export(Version(fitted_pipeline()), Path(sys.argv[1]), SCHEMA, sample(200, 5, target=False))
for module in [m for m in sys.modules if m.split(".")[0] in ("fastapi", "starlette")]:
    del sys.modules[module]  # what exporting the model brought in
from goldpath_runtime.tabular import asgi_service
from goldpath_runtime.tabular.settings import TabularSettings
from tabular_service import load_predictor

app = asgi_service.create_app(
    TabularSettings(model_dir=Path(sys.argv[1])), load_predictor, SCHEMA, version="0.1.0"
)
row = json.dumps(sample(1, 11, target=False).to_dict("records")[0]).encode()


async def call(method, path, body=b""):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"application/json")]
    scope = {"type": "http", "method": method, "path": path, "headers": headers,
             "query_string": b"", "root_path": ""}
    await app(scope, receive, send)
    return sent[0]["status"]


async def main():
    queue = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    said = []

    async def send(message):
        said.append(message["type"])

    lifespan = asyncio.create_task(app({"type": "lifespan"}, queue.get, send))
    while await call("GET", "/readyz") != 200:
        await asyncio.sleep(0.05)
    statuses = [await call("POST", "/predict", row), await call("GET", "/healthz"),
                await call("GET", "/metrics")]
    before = sorted({m.split(".")[0] for m in sys.modules} & {"fastapi", "starlette"})
    statuses.append(await call("GET", "/openapi.json"))
    after = "fastapi" in sys.modules
    await queue.put({"type": "lifespan.shutdown"})
    await lifespan
    print(json.dumps({"statuses": statuses, "before": before, "after": after, "said": said}))


asyncio.run(main())
"""


def test_a_worker_that_only_scores_never_imports_fastapi(tmp_path: Path) -> None:
    """Importing FastAPI was most of a cold start: the probes, metrics and /predict are
    answered without it, and it is imported on the first request that needs it."""
    import json
    import os
    import subprocess
    import sys

    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_FASTAPI, str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 200, 200]
    assert result["before"] == [], "FastAPI or Starlette imported by the hot path"
    assert result["after"] is True
    assert result["said"] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
