"""Every generated project's catalog-info.yaml is a set of entities a Backstage catalog
ingests as is: each passes the catalog model's policies and kind validators (the
published @backstage/catalog-model, run by node), every relation names an entity of the
same file, and the CI system's annotation names the project's repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator._catalog import read_catalog
from generator._cli import main
from generator._errors import GoldpathError
from generator._template import REPO_ROOT, render

from .backstage_catalog import check_entities, resolve_text
from .conftest import Render, option_product
from .git_helpers import commit_all, git
from .hostile import hostile_catalogs

# Every kind and CI system, and each serving answer of the tabular kind.
VARIANTS = [("tabular", ci, serving) for ci, serving in option_product("ci", "serving")] + [
    ("llm", ci, "fastapi") for (ci,) in option_product("ci")
]


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
    problems = check_entities(resolve_text(found, project))
    assert all(not p for p in problems.values()), problems
    kinds = sorted(e["kind"] for e in found)
    has_service = serving != "none"
    assert kinds == sorted(["System", "Component", "Resource", *(["API"] if has_service else [])])
    by_kind = {e["kind"]: e for e in found}
    component = by_kind["Component"]
    # TechDocs reads the project's own mkdocs.yml and docs/, beside this file.
    assert component["metadata"]["annotations"]["backstage.io/techdocs-ref"] == "dir:."
    assert (project / "mkdocs.yml").is_file()
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


# Slugs and owners copier accepts: double and trailing underscores or dashes included.
RESERVED = {"pass", "pandas", "pyspark", "pydantic", "pulumi"}
names = st.from_regex(r"p[a-z0-9_]{0,30}", fullmatch=True).filter(lambda s: s not in RESERVED)
owners = st.from_regex(r"[a-z][a-z0-9-]{1,62}", fullmatch=True)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(slug=names, owner=owners, description=st.text(max_size=300))
@example(slug="p0", owner="j0222pbx6voxy-th92h800000000000000000000", description="")
def test_any_valid_answers_give_names_the_catalog_accepts(
    tmp_path_factory: pytest.TempPathFactory, slug: str, owner: str, description: str
) -> None:
    """Any answers copier accepts, any description: entities Backstage accepts, the
    description as written."""
    destination = tmp_path_factory.mktemp("any") / "p"
    answers = {"project_slug": slug, "owner": owner, "description": description}
    if len(owner) > 39:  # a GitHub org's longest name: the repository is then answered
        answers["github_repository"] = f"{owner[:39]}/{slug}"
    project = render(destination, template=str(REPO_ROOT), vcs_ref="HEAD", data=answers)
    found = entities(project)
    problems = check_entities(resolve_text(found, project))
    assert all(not p for p in problems.values()), problems
    system = next(e for e in found if e["kind"] == "System")
    assert system["metadata"]["description"] == description


def fleet_project(root: Path, name: str, **answers: str) -> Path:
    destination = render(root / name, template=str(REPO_ROOT), data=answers, vcs_ref="HEAD")
    git(destination, "init", "--quiet", "-b", "main")
    commit_all(destination, "Start from goldpath")
    return destination


def test_the_inventory_populates_a_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rfq = fleet_project(tmp_path, "rfq-model", owner="markets-ml", risk_tier="high")
    llm = fleet_project(tmp_path, "trade-extractor", project_kind="llm", owner="markets-ml")
    record = llm / "governance.yml"
    record.write_text(record.read_text().replace(
        "latest: {}", "latest:\n  champion: '3'\n  validated: '2026-11-20T09:00:00+00:00'"))  # fmt: skip
    commit_all(llm, "Promote v3")
    old = fleet_project(tmp_path, "credit-limit")
    (old / "catalog-info.yaml").unlink()
    commit_all(old, "A project from before the catalog")
    sneaky = fleet_project(tmp_path, "fx-hedge")
    descriptor = sneaky / "catalog-info.yaml"
    descriptor.write_text(descriptor.read_text().replace(
        "goldpath.dev/kind: tabular", "goldpath.dev/kind: {$text: https://metadata.internal/}"))  # fmt: skip
    commit_all(sneaky, "Point the catalog elsewhere")
    repos = [str(rfq), f"file://{llm}", str(old), str(sneaky)]
    assert main(["inventory", *repos, "--format", "backstage"]) == 1
    out = capsys.readouterr().out
    found = [e for e in yaml.safe_load_all(out) if e]
    problems = check_entities(found)
    assert all(not p for p in problems.values()), problems
    assert refs_of(found) == {
        "system:rfq-model", "component:rfq-model", "api:rfq-model", "resource:rfq-model-model",
        "system:trade-extractor", "component:trade-extractor", "api:trade-extractor",
        "resource:trade-extractor-prompt",
    }  # fmt: skip
    prompt = next(e for e in found if e["metadata"]["name"] == "trade-extractor-prompt")
    annotations = prompt["metadata"]["annotations"]
    assert annotations["goldpath.dev/champion"] == "3"
    assert annotations["goldpath.dev/status"] == "in production"
    assert annotations["goldpath.dev/audit-verified"] == "local"
    model = next(e for e in found if e["metadata"]["name"] == "rfq-model-model")
    assert model["metadata"]["annotations"]["goldpath.dev/risk-tier"] == "high"
    # The API document travels inline: `./openapi.json` means nothing beside the fleet's file.
    api = next(e for e in found if e["kind"] == "API" and e["metadata"]["name"] == "rfq-model")
    assert json.loads(api["spec"]["definition"])["paths"].keys() >= {"/predict"}
    # A local checkout has no URL a portal could read its docs from.
    assert all("backstage.io/techdocs-ref" not in e["metadata"].get("annotations", {})
               for e in found)  # fmt: skip
    assert f"# not listed: {old}: no catalog-info.yaml" in out
    assert f"# not listed: {sneaky}: catalog-info.yaml entity 2: placeholder '$text'" in out
    assert "metadata.internal" not in out.replace(f"# not listed: {sneaky}", "")


@pytest.mark.parametrize(
    ("repo", "folder", "location"),
    [
        ("https://github.com/acme-bank/rfq-model.git", "",
         "url:https://github.com/acme-bank/rfq-model/tree/HEAD/"),
        ("https://ghe.acme-bank.example/ml/rfq-model", "docs site",
         "url:https://ghe.acme-bank.example/ml/rfq-model/tree/HEAD/docs%20site"),
        ("https://gitlab.acme-bank.example/ml/desk/rfq-model.git", "",
         "url:https://gitlab.acme-bank.example/ml/desk/rfq-model/-/tree/HEAD/"),
        ("https://dev.azure.com/acme-bank/markets/_git/rfq-model", "",
         "url:https://dev.azure.com/acme-bank/markets/_git/rfq-model?path=/"),
        ("/srv/repos/rfq-model", "", None),
        ("file:///srv/repos/rfq-model", "", None),
        ("git@github.com:acme-bank/rfq-model.git", "", None),
        ("https://github.com/acme-bank/rfq-model?x=1", "", None),
    ],
)  # fmt: skip
def test_the_fleet_file_points_techdocs_at_the_project_s_repository(
    tmp_path: Path, repo: str, folder: str, location: str | None
) -> None:
    (tmp_path / "catalog-info.yaml").write_text(yaml.safe_dump({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "rfq-model",
                     "annotations": {"backstage.io/techdocs-ref": f"dir:{folder or '.'}"}},
        "spec": {"type": "service", "lifecycle": "experimental", "owner": "group:default/a"},
    }))  # fmt: skip
    (entity,) = read_catalog(tmp_path, repo)
    assert entity["metadata"]["annotations"].get("backstage.io/techdocs-ref") == location


@pytest.mark.parametrize(
    "reference", ["dir:../other-repo", "dir:/srv/docs", "url:https://docs.internal/", "docs"]
)
def test_a_techdocs_reference_outside_the_repository_is_refused(
    tmp_path: Path, reference: str
) -> None:
    (tmp_path / "catalog-info.yaml").write_text(yaml.safe_dump({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "a", "annotations": {"backstage.io/techdocs-ref": reference}},
    }))  # fmt: skip
    with pytest.raises(GoldpathError, match="is not dir:<a folder of the repository>"):
        read_catalog(tmp_path, "https://github.com/acme-bank/a")


@settings(max_examples=60, deadline=None)
@given(descriptor=hostile_catalogs)
def test_a_hostile_descriptor_is_one_problem_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, descriptor: bytes
) -> None:
    repo = tmp_path_factory.mktemp("hostile")
    (repo / "catalog-info.yaml").write_bytes(descriptor)
    said = ""
    try:
        found = read_catalog(repo)
    except GoldpathError as exc:
        said, found = str(exc), []
    assert "\n" not in said  # one line in the fleet's file and the terminal
    assert all(e["kind"] in ("System", "Component", "API", "Resource") for e in found)
