"""The extraction service (goldpath_runtime.llm.service, with this project's parts), run by
gunicorn (gunicorn.conf.py):

    gunicorn --config gunicorn.conf.py '<package>.serving.extraction_app:create_app()'
"""

from __future__ import annotations

from goldpath_runtime.llm import service
from goldpath_runtime.serving.asgi import ServiceApp

from ..project import PROJECT


def create_app() -> ServiceApp:
    return service.create_app(PROJECT)
