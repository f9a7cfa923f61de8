"""The model service (goldpath_runtime.tabular.asgi_service, with this project's settings, model and
features), run by gunicorn (gunicorn.conf.py):

    gunicorn --config gunicorn.conf.py '<package>.serving.fastapi_app:create_app()'
"""

from __future__ import annotations

from collections.abc import Callable

from goldpath_runtime.serving.asgi import ServiceApp
from goldpath_runtime.tabular import asgi_service
from goldpath_runtime.tabular.predictor import Predictor

from .. import __version__
from ..config import Settings, load_settings
from ..schema import SCHEMA
from .core import load_predictor


def create_app(
    settings: Settings | None = None, loader: Callable[[Settings], Predictor] = load_predictor
) -> ServiceApp:
    """The app; `loader` builds the Predictor (tests pass a slow one to see loading)."""
    return asgi_service.create_app(
        settings or load_settings(), loader, SCHEMA, version=__version__,
        description="Scores requests for quote with the registered champion model.",
    )  # fmt: skip
