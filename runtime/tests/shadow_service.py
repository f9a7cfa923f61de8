"""A tabular service with a challenger in its shadow, on either serving shell (TOY_SHELL):
the champion and the challenger are lean artifacts in TOY_CHAMPION_DIR and
TOY_CHALLENGER_DIR, standing in for the registry's two aliases. TOY_CHALLENGER_DELAY_S
slows the challenger's scoring and TOY_CHALLENGER_FAILS makes it raise; without
TOY_CHALLENGER_DIR there is no @challenger."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from tabular_models import SCHEMA, sample

from goldpath_runtime.errors import ModelNotFoundError
from goldpath_runtime.tabular import asgi_service, lean, wsgi_service
from goldpath_runtime.tabular.predictor import Predictor
from goldpath_runtime.tabular.settings import TabularSettings


class SlowPredictor(Predictor):
    def score(self, rows: list[dict[str, Any]]) -> np.ndarray:
        if os.environ.get("TOY_CHALLENGER_FAILS"):
            raise RuntimeError("the challenger broke")
        time.sleep(float(os.environ.get("TOY_CHALLENGER_DELAY_S", "0")))
        return super().score(rows)


def load_predictor(settings: TabularSettings) -> Predictor:
    if settings.serving_alias == "challenger":
        if not os.environ.get("TOY_CHALLENGER_DIR"):
            raise ModelNotFoundError("model 'rfq_model' has no version with alias @challenger")
        model = lean.load(Path(os.environ["TOY_CHALLENGER_DIR"]), SCHEMA)
        return SlowPredictor(model, settings.max_batch_size, SCHEMA, lambda: sample(8, 3))
    model = lean.load(Path(os.environ["TOY_CHAMPION_DIR"]), SCHEMA)
    return Predictor(model, settings.max_batch_size, SCHEMA, lambda: sample(8, 3))


def create_app() -> Any:
    settings = TabularSettings()
    shell = wsgi_service if os.environ.get("TOY_SHELL") == "wsgi" else asgi_service
    return shell.create_app(settings, load_predictor, SCHEMA, version="0.1.0")
