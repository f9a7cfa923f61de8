"""The serving shell every project's service plugs its routes into: `asgi` (FastAPI) or
`wsgi` (Flask), gunicorn's settings and workers, the access log, metrics, the load policy.
The modules a slim image needs without a web framework are standard library only."""
