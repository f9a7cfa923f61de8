"""Every generated project's catalog-info.yaml is a set of entities a Backstage catalog
ingests as is: each passes the catalog model's policies and kind validators (the
published @backstage/catalog-model, run by node), every relation names an entity of the
same file, and the CI system's annotation names the project's repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._template import REPO_ROOT, render

from .backstage_catalog import check_entities
from .conftest import Render, option_product

# Every kind × CI system, and each serving answer of the tabular kind.
VARIANTS = [
    ("tabular", ci, serving) for ci, serving in option_product("ci", "serving")
] + [("llm", ci, "fastapi") for (ci,) in option_product("ci")]


def entities(project: Path) -> list[dict[str, Any]]:
    return [e for e in yaml.safe_load_all((project / "catalog-info.yaml").read_text()) if e]


def refs_of(found: list[dict[str, Any]]) -> set[str]:
    return {f"{e['kind'].lower()}:{e['metadata']['name']}" for e in found}


@pytest.mark.parametrize(("kind", "ci", "serving"), VARIANTS)
def test_the_descriptor_is_what_a_catalog_ingests(
    rendered: Render, kind: str, ci: str, serving: str
) -> None:
    answers = {"project_kind": kind, "ci": ci, "owner": "fo-quant-ml"}
    if kind == "tabular":
        answers["serving"] = serving
    project = rendered(**answers)
    found = entities(project)
    problems = check_entities(found)
    assert all(not p for p in problems.values()), problems
    kinds = sorted(e["kind"] for e in found)
    has_service = serving != "none"
    assert kinds == sorted(["System", "Component", "Resource", *(["API"] if has_service else [])])
    by_kind = {e["kind"]: e for e in found}
    component = by_kind["Component"]
    assert component["spec"]["owner"] == "group:default/fo-quant-ml"
    assert component["spec"]["type"] == ("service" if has_service else "job")
    # Every relation names an entity of this file: the catalog shows no dangling edge.
    named = refs_of(found)
    for ref in [*component["spec"].get("providesApis", []), *component["spec"]["dependsOn"]]:
        assert ref in named, ref
    for entity in found:
        if entity["kind"] != "System":
            assert f"system:{entity['spec']['system']}" in named
    resource = by_kind["Resource"]
    assert resource["metadata"]["annotations"]["goldpath.dev/risk-tier"] == "medium"
    assert resource["spec"]["type"] == ("llm-prompt" if kind == "llm" else "ml-model")
    annotations = component["metadata"]["annotations"]
    expected = {
        "github": {"github.com/project-slug"},
        "azure-devops": {"dev.azure.com/project-repo"},
        "both": {"github.com/project-slug", "dev.azure.com/project-repo"},
        "gitlab": {"gitlab.com/project-slug"},
    }[ci]
    assert {k for k in annotations if "/project-" in k} == expected
    if has_service:
        api = by_kind["API"]
        assert api["spec"]["definition"] == {"$text": "./openapi.json"}
        assert (project / "openapi.json").is_file()
    else:
        assert not (project / "openapi.json").exists()


def test_the_repository_answers_are_the_annotations(rendered: Render) -> None:
    project = rendered(ci="both", github_repository="acme-bank/rfq-pricer",
                       azure_devops_repository="markets-ml/rfq-pricer")  # fmt: skip
    annotations = next(e for e in entities(project) if e["kind"] == "Component")["metadata"][
        "annotations"
    ]
    assert annotations["github.com/project-slug"] == "acme-bank/rfq-pricer"
    assert annotations["dev.azure.com/project-repo"] == "markets-ml/rfq-pricer"


names = st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True).filter(
    lambda s: not s.startswith(("test", "src", "import"))
)
owners = st.from_regex(r"[a-z][a-z0-9-]{1,62}", fullmatch=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=names, owner=owners, description=st.text(max_size=300))
def test_any_valid_answers_give_names_the_catalog_accepts(
    tmp_path_factory: pytest.TempPathFactory, slug: str, owner: str, description: str
) -> None:
    """Slugs and owners copier accepts (double and trailing underscores or dashes
    included) and any description: still entities Backstage accepts."""
    destination = tmp_path_factory.mktemp("any") / "p"
    try:
        project = render(destination, template=str(REPO_ROOT), vcs_ref="HEAD",
                         data={"project_slug": slug, "owner": owner, "description": description})  # fmt: skip
    except Exception as exc:  # copier's own validator refused the answers: nothing to check
        assert "project_slug" in str(exc) or "description" in str(exc), exc
        return
    found = entities(project)
    problems = check_entities(found)
    assert all(not p for p in problems.values()), problems
    assert next(e for e in found if e["kind"] == "System")["metadata"]["description"] == description
