"""The extraction service (goldpath_runtime.llm.service, with this project's parts), run by
gunicorn (gunicorn.conf.py):

    gunicorn --config gunicorn.conf.py '<package>.serving.extraction_app:create_app()'
"""

from __future__ import annotations

from fastapi import FastAPI
from goldpath_runtime.llm import service

from ..project import PROJECT


def create_app() -> FastAPI:
    return service.create_app(PROJECT)
