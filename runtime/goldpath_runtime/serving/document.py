"""The OpenAPI document a project's service serves, written to a file the developer portal
reads (`make openapi` writes `openapi.json`; `catalog-info.yaml`'s API entity points at it).

It is taken from the app itself, without loading a model or starting a server, so it is
exactly what `/openapi.json` answers; the project's tests say when the file is stale.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def served_document(app: Any) -> dict[str, Any]:
    """The document the app serves at /openapi.json: FastAPI builds it, Flask serves the
    shell's."""
    if callable(getattr(app, "openapi", None)):
        return dict(app.openapi())
    answer = app.test_client().get("/openapi.json")
    return dict(answer.get_json())


def shape(document: dict[str, Any]) -> dict[str, Any]:
    """What a client of the API relies on: each path's methods, and each schema's
    properties with the required ones. Descriptions and how a library version spells a
    schema are left out, so a patch release of FastAPI or pydantic changes nothing here."""
    paths = {path: sorted(item) for path, item in (document.get("paths") or {}).items()}
    schemas = {
        name: {"properties": sorted(schema.get("properties") or {}),
               "required": sorted(schema.get("required") or [])}
        for name, schema in ((document.get("components") or {}).get("schemas") or {}).items()
    }  # fmt: skip
    return {"paths": paths, "schemas": schemas}


def render(document: dict[str, Any]) -> str:
    """One text per document: keys sorted, two-space indents, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m goldpath_runtime.serving.document", description=__doc__
    )
    parser.add_argument("app_module", help="the module with create_app (pkg.serving.…_app)")
    parser.add_argument("output", type=Path, help="the file to write (openapi.json)")
    args = parser.parse_args(argv)
    try:
        module = importlib.import_module(args.app_module)
    except ImportError as exc:
        print(f"error: {args.app_module} cannot be imported ({exc}): run make setup",
              file=sys.stderr)  # fmt: skip
        return 1
    text = render(served_document(module.create_app()))
    if args.output.exists() and args.output.read_text(encoding="utf-8") == text:
        print(f"{args.output} is current")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: the API entity in catalog-info.yaml points at it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
