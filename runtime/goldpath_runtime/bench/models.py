"""Peers serving the same registered scikit-learn model: `mlflow models serve` (the named
baseline of a tabular service) and Seldon's MLServer with its scikit-learn runtime."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from .servers import free_port
from .throughput import Peer

MLSERVER = "1.7.1"


def mlflow_serve(model_uri: str, row: dict[str, Any], workers: int) -> Peer:
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri,
               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    return Peer(command, f"{base}/ping", f"{base}/invocations", {"dataframe_records": [row]})


def mlserver(pipeline: Any, version: str, row: dict[str, Any], workdir: Path, workers: int) -> Peer:
    """MLServer serving the same fitted pipeline with its scikit-learn runtime, in its own
    uv tool environment with this scikit-learn: the model as joblib (what that runtime
    loads) and a V2 inference request asking for probabilities."""
    import joblib
    import sklearn

    folder = workdir / "mlserver"
    folder.mkdir()
    joblib.dump(pipeline, folder / "model.joblib")
    port = free_port()
    settings = {"http_port": port, "grpc_port": free_port(), "metrics_port": free_port(),
                "parallel_workers": workers, "debug": False}  # fmt: skip
    (folder / "settings.json").write_text(json.dumps(settings))
    (folder / "model-settings.json").write_text(json.dumps({
        "name": "model", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": version},
    }))  # fmt: skip
    uv = shutil.which("uv") or sys.exit("uv is not on PATH: pip install uv")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = [uv, "tool", "run", "--python", python, "--from", f"mlserver=={MLSERVER}",
               "--with", f"mlserver-sklearn=={MLSERVER}",
               "--with", f"scikit-learn=={sklearn.__version__}",
               # uvloop 0.22 raises in MLServer 1.7.1's worker processes (get_event_loop).
               "--with", "uvloop<0.22", "mlserver", "start", str(folder)]  # fmt: skip
    inputs = [
        {"name": name, "shape": [1], "datatype": "BYTES" if isinstance(value, str) else "FP64",
         "data": [value]}
        for name, value in row.items()
    ]  # fmt: skip
    body = {"parameters": {"content_type": "pd"}, "inputs": inputs,
            "outputs": [{"name": "predict_proba"}]}  # fmt: skip
    base = f"http://127.0.0.1:{port}/v2/models/model"
    return Peer(command, f"{base}/ready", f"{base}/infer", body)
