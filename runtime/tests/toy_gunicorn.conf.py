"""gunicorn settings for the toy service, as a project's gunicorn.conf.py sets them."""

import os

from goldpath_runtime.serving.gunicorn import *  # noqa: F403

if os.environ.get("TOY_SHELL") == "wsgi":
    worker_class = "goldpath_runtime.serving.gevent_worker.Worker"
    keepalive = 0
else:
    worker_class = "goldpath_runtime.serving.uvicorn_worker.Worker"
