"""A tabular service as a project's image runs it, on either serving shell (TOY_SHELL):
the example model's lean artifact from MODEL_DIR, scored by the platform's predictor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tabular_models import SCHEMA, sample

from goldpath_runtime.tabular import asgi_service, lean, wsgi_service
from goldpath_runtime.tabular.predictor import Predictor
from goldpath_runtime.tabular.settings import TabularSettings


def load_predictor(settings: TabularSettings) -> Predictor:
    assert settings.model_dir is not None, "MODEL_DIR names the baked model"
    model = lean.load(settings.model_dir, SCHEMA)
    return Predictor(model, settings.max_batch_size, SCHEMA, lambda: sample(64, 3, target=False))


def create_app() -> Any:
    settings = TabularSettings(model_dir=Path(os.environ["MODEL_DIR"]))
    shell = wsgi_service if os.environ.get("TOY_SHELL") == "wsgi" else asgi_service
    return shell.create_app(settings, load_predictor, SCHEMA, version="0.1.0")
