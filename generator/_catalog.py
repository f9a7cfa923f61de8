"""`goldpath inventory --format backstage`: the fleet's catalog descriptors in one file a
Backstage catalog ingests (register its URL as a Location), each project's entities as its
own catalog-info.yaml declares them, the registered model's or prompt's Resource carrying
what the inventory knows (in production or not, champion, validation, audit).

A project's descriptor is another team's text: read from inside its repository only,
bounded, shape-checked per document, and written back out by a YAML emitter, never
pasted. Its API document is inlined, since `./openapi.json` means nothing beside the
fleet's file. So is where the portal reads its documentation: `backstage.io/techdocs-ref:
dir:<folder>` means the folder beside the descriptor, which beside the fleet's file is
another repository; it becomes the project repository's own URL (a local checkout has
none a portal could read, so the annotation is left out).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from ._errors import GoldpathError
from ._repofile import read_inside, read_template_file
from ._yaml import decode, loads_all

DESCRIPTOR = "catalog-info.yaml"
KINDS = ("System", "Component", "API", "Resource")
_OWN_FILE = {"$text": "./openapi.json"}
TECHDOCS = "backstage.io/techdocs-ref"


def docs_location(repo: str, folder: str) -> str | None:
    """Where a portal reads the docs in `folder` of the repository at `repo`, as a TechDocs
    `url:` reference; None for a repository the portal cannot reach (a local path)."""
    parts = urlsplit(repo)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return None
    url = f"https://{parts.netloc}{parts.path.removesuffix('.git').rstrip('/')}"
    path = quote(folder)
    host = parts.hostname
    if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        return f"url:{url}?path=/{path}"
    if "gitlab" in host:
        return f"url:{url}/-/tree/HEAD/{path}"
    return f"url:{url}/tree/HEAD/{path}"  # GitHub and GitHub Enterprise Server


def _docs_folder(value: Any, number: int) -> str:
    """The folder of a `dir:` reference, inside the repository; GoldpathError otherwise."""
    text = value if isinstance(value, str) else ""
    folder = posixpath.normpath(text.removeprefix("dir:") or ".")
    if not text.startswith("dir:") or folder.startswith(("/", "..")) or "\\" in folder:
        raise GoldpathError(f"{DESCRIPTOR} entity {number}: {TECHDOCS} {str(value)[:40]!r} is "
                            "not dir:<a folder of the repository>")  # fmt: skip
    return "" if folder == "." else folder


def read_catalog(path: Path, repo: str = "") -> list[dict[str, Any]]:
    """The entities of the repository's descriptor (at `repo`, its fleet entry);
    GoldpathError naming the problem."""
    data = read_template_file(path, DESCRIPTOR, "the developer portal")
    documents = loads_all(decode(data, DESCRIPTOR), DESCRIPTOR)
    entities = [_entity(number, d) for number, d in enumerate(documents, 1) if d is not None]
    for number, entity in enumerate(entities, 1):
        spec = entity.get("spec")
        points_at_own_file = isinstance(spec, dict) and spec.get("definition") == _OWN_FILE
        if entity["kind"] == "API" and points_at_own_file:
            entity["spec"]["definition"] = _api_document(path)
        annotations = entity["metadata"].get("annotations")
        if isinstance(annotations, dict) and TECHDOCS in annotations:
            where = docs_location(repo, _docs_folder(annotations[TECHDOCS], number))
            if where is None:
                del annotations[TECHDOCS]
            else:
                annotations[TECHDOCS] = where
        # Beside the fleet's file, a placeholder would make the catalog read whatever it
        # names (another repository, an internal URL): none passes through.
        found = _placeholder(entity)
        if found:
            raise GoldpathError(f"{DESCRIPTOR} entity {number}: placeholder {found[:40]!r} "
                                "refused (only the API's ./openapi.json is read)")  # fmt: skip
    return entities


def _placeholder(value: Any) -> str | None:
    """The first `$text`-style substitution anywhere in `value` (None: there is none)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and key.startswith("$"):
                    return key
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _api_document(path: Path) -> str:
    try:
        document = json.loads(decode(read_inside(path, "openapi.json"), "openapi.json"))
    except FileNotFoundError:
        raise GoldpathError("openapi.json is missing: the API entity points at it") from None
    except ValueError:
        raise GoldpathError("openapi.json is not JSON: run make openapi") from None
    return json.dumps(document, indent=2, sort_keys=True)


def _entity(number: int, document: Any) -> dict[str, Any]:
    where = f"{DESCRIPTOR} document {number}"
    if not isinstance(document, dict):
        raise GoldpathError(f"{where} is not a mapping")
    if not str(document.get("apiVersion", "")).startswith("backstage.io/"):
        raise GoldpathError(f"{where}: apiVersion is not backstage.io/…")
    if document.get("kind") not in KINDS:
        raise GoldpathError(f"{where}: kind {str(document.get('kind'))[:40]!r} is not one of "
                            f"{', '.join(KINDS)}")  # fmt: skip
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise GoldpathError(f"{where}: metadata.name is missing")
    return document


def with_inventory(entities: list[dict[str, Any]], model: str, facts: dict[str, str]) -> None:
    """The inventory's facts as annotations of the Resource registered as `model`."""
    for entity in entities:
        annotations = entity["metadata"].get("annotations")
        if entity["kind"] != "Resource" or not isinstance(annotations, dict):
            continue
        if annotations.get("goldpath.dev/registered-name") == model:
            annotations.update({f"goldpath.dev/{k}": v for k, v in facts.items() if v})


def render_catalog(catalogs: list[tuple[str, list[dict[str, Any]], str]]) -> str:
    """One multi-document YAML file: each repository's entities, and a comment per
    repository that has none to give, saying why."""
    lines = ["# The fleet's catalog entities, from goldpath inventory --format backstage."]
    for repo, _, problem in catalogs:
        if problem:
            said = " ".join(f"{repo}: {problem}".split())  # one comment line, whatever it held
            lines.append(f"# not listed: {said}")
    entities = [entity for _, found, _ in catalogs for entity in found]
    body = yaml.safe_dump_all(entities, sort_keys=False, allow_unicode=True) if entities else ""
    return "\n".join(lines) + "\n" + body
