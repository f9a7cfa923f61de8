"""Generated CI/CD on the combinations `goldpath check --matrix pairwise` renders (every
kind x CI x cloud, every pair of the other answers), held to structural rules: one build,
the same digest promoted, approvals before prod, OIDC only, least privilege, pinned actions.
The linters a platform team trusts (zizmor, check-jsonschema, shellcheck, yamllint) run on
the same combinations in test_matrix."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from generator._options import Combination
from generator._template import REPO_ROOT, render

from .conftest import MATRIX, Render, derived, matrix, named, option_values
from .pipeline_checks import (
    assert_actions_pinned,
    load,
    triggers,
    workflows,
)

# Not in the quick subset (-m "not slow"): renders the pairwise matrix.
pytestmark = pytest.mark.slow

GITHUB = matrix(uses_github=True)
ADO = matrix(uses_azure_devops=True)
GITLAB = matrix(uses_gitlab=True)
LOGIN_ACTIONS = ("google-github-actions/auth", "azure/login")


# The platform's deploy stage, by reference at a full commit (templates/includes/github/refs.jinja).
PLATFORM_DEPLOY = r"ml-platform/goldpath/\.github/workflows/deploy\.yml@[0-9a-f]{40}"
PLATFORM_STAGE = r"ml-platform/goldpath/\.github/workflows/(deploy|promote)\.yml@[0-9a-f]{40}"


def deploy_stage(answers: Combination) -> str:
    """What cd.yml and rollback.yml call to deploy: the platform's stage at the commit the
    project was rendered from (goldpath on github.com, the default), or on GitHub Enterprise
    Server the project's own deploy.yml."""
    if answers.get("github_enterprise"):
        return r"\./\.github/workflows/deploy\.yml"
    return PLATFORM_DEPLOY


def promotion_stage(project: Path) -> dict[str, Any]:
    """The promotion stage train.yml calls: goldpath's promote.yml by reference, or the
    project's verbatim copy of it; checked to be the one the call names."""
    call = workflows(project)["train.yml"]["jobs"]["promote"]["uses"]
    copy = project / ".github" / "workflows" / "promote.yml"
    if copy.is_file():
        assert call in ("./.github/workflows/promote.yml", "$/.github/workflows/promote.yml")
        return load(copy)
    assert re.fullmatch(r"[\w.-]+/goldpath/\.github/workflows/promote\.yml@[0-9a-f]{40}", call)
    return workflows(REPO_ROOT)["promote.yml"]


def ado_training(project: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The project's training pipeline, its own stages (Train), and the platform's Promote
    stage from the template it extends (goldpath's, or the project's verbatim copy)."""
    pipeline = load(project / ".azure-pipelines" / "train.yml")
    extends = pipeline["extends"]
    own = load(project / extends["parameters"]["train"])["stages"]
    name = extends["template"].removesuffix("@goldpath").lstrip("/")
    root = REPO_ROOT if extends["template"].endswith("@goldpath") else project
    promote = next(s for s in load(root / name)["stages"] if s.get("stage") == "Promote")
    return pipeline, own, promote


def self_repository(answers: Combination) -> str:
    """How a workflow names its own repository's reusable workflows: `$/` on github.com,
    `.` on GitHub Enterprise Server (which lacks the `$/` form)."""
    return "." if answers.get("github_enterprise") else "$"


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_files_follow_the_ci_answer(rendered: Render, answers: Combination) -> None:
    project = rendered(**answers)
    ci, cloud = answers["ci"], answers["cloud"]
    github, ado = derived("uses_github", ci=ci), derived("uses_azure_devops", ci=ci)
    for name in ["ci.yml", "cd.yml", "rollback.yml", "train.yml", "registry-audit.yml"]:
        assert (project / ".github" / "workflows" / name).is_file() is github, name
    # goldpath on github.com (the default): the platform's deploy stage is called by
    # reference; on GitHub Enterprise Server the project keeps its own copy.
    own_deploy = github and bool(answers.get("github_enterprise"))
    assert (project / ".github" / "workflows" / "deploy.yml").is_file() is own_deploy
    for name in ["dependabot.yml", "CODEOWNERS", "pull_request_template.md"]:
        assert (project / ".github" / name).is_file() is github, name
    assert (project / "azure-pipelines.yml").is_file() is ado
    assert (project / ".azure-pipelines" / "train.yml").is_file() is ado
    assert (project / ".azure-pipelines" / "registry-audit.yml").is_file() is ado
    assert (project / ".azure-pipelines" / "rollback.yml").is_file() is ado
    gitlab = derived("uses_gitlab", ci=ci)
    for name in [".gitlab-ci.yml", ".gitlab/CODEOWNERS", ".gitlab/ci/login.yml",
                 ".gitlab/ci/checks.yml", ".gitlab/ci/deploy.yml", ".gitlab/ci/train.yml"]:  # fmt: skip
        assert (project / name).is_file() is gitlab, name
    assert (project / "renovate.json").is_file() is (ci in ("azure-devops", "gitlab"))
    # The cloud operations and the pipelines hold the path to production: the platform
    # team reviews every change to them (with the forge stacks' code-owner rules).
    for owners in [project / ".github" / "CODEOWNERS", project / ".gitlab" / "CODEOWNERS"]:
        if owners.is_file():
            rules = dict(line.split(None, 1) for line in owners.read_text().splitlines()
                         if line.strip() and not line.startswith("#"))  # fmt: skip
            for path in ("/scripts/", "/infra/", "/Dockerfile"):
                assert "/platform-team" in rules[path], (owners, path)
    # Each cloud's operations are scripts of its own, called the same way by every CI.
    for each in option_values("cloud"):
        assert (project / "scripts" / each / "login.sh").is_file() is (each == cloud), each
    shape = "job" if answers.get("serving") == "none" else "service"
    deploys = {p.name for p in (project / "scripts" / cloud).glob("deploy-*.sh")}
    assert deploys == {f"deploy-{shape}.sh"}
    assert (project / ".yamllint.yml").is_file()


@pytest.mark.parametrize("answers", GITHUB, ids=named)
def test_actions_pinned_to_full_shas_with_version_comment(
    rendered: Render, answers: Combination
) -> None:
    assert_actions_pinned(rendered(**answers))


@pytest.mark.parametrize("answers", GITHUB, ids=named)
def test_least_privilege_and_only_login_jobs_get_id_tokens(
    rendered: Render, answers: Combination
) -> None:
    project, here = rendered(**answers), self_repository(answers)
    for name, workflow in workflows(project).items():
        assert workflow["permissions"] == {}, f"{name}: default permissions must be empty"
        assert "pull_request_target" not in (triggers(workflow) or {}), name
        for job_name, job in workflow["jobs"].items():
            where = f"{name}:{job_name}"
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{where}: no job permissions"
            assert set(permissions.values()) <= {"read", "write"}
            writes = {k for k, v in permissions.items() if v == "write"}
            # The one contents write: the promotion and the registry audit publish the
            # governance record to its own branch (scripts/publish-record.sh), tested below.
            # train.yml's call of the promotion stage grants what its publish job needs.
            publishes = {"train.yml:promote", "promote.yml:publish", "registry-audit.yml:audit"}
            allowed = {"id-token", "contents"} if where in publishes else {"id-token"}
            assert writes <= allowed, f"{where}: writes {writes}"
            steps = job.get("steps", [])
            # Databricks on Google Cloud takes the job's own OIDC token (databricks-auth.sh).
            logs_in = any(s.get("uses", "").startswith(LOGIN_ACTIONS) for s in steps) or any(
                "/databricks-auth.sh" in s.get("run", "") for s in steps
            )
            calls_login_workflow = (
                job.get("uses")
                in {
                    f"{here}/.github/workflows/deploy.yml",
                    f"{here}/.github/workflows/promote.yml",
                    f"{here}/.github/workflows/bundle.yml",
                }
                or re.fullmatch(PLATFORM_STAGE, job.get("uses", "")) is not None
            )
            assert ("id-token" in writes) is (logs_in or calls_login_workflow), where
            if "steps" in job:
                assert job["timeout-minutes"] <= 60, f"{where}: no timeout"
                for step in job["steps"]:
                    if step.get("uses", "").startswith("actions/checkout@"):
                        assert step["with"]["persist-credentials"] is False, where
        assert "concurrency" in workflow or all(
            "concurrency" in job for job in workflow["jobs"].values()
        ), name


@pytest.mark.parametrize("answers", matrix(uses_github=True, has_service=True), ids=named)
def test_one_build_one_digest_promoted_through_gated_environments(
    rendered: Render, answers: Combination
) -> None:
    project = rendered(**answers)
    flows = workflows(project)
    cd = flows["cd.yml"]["jobs"]
    assert cd["build"]["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"
    push = next(s for s in cd["build"]["steps"] if s.get("id") == "push")
    cloud = answers["cloud"]
    assert push["run"] == f'bash scripts/{cloud}/build-push.sh "$GITHUB_SHA" >> "$GITHUB_OUTPUT"'
    order = ["dev", "staging", "prod"]
    for index, env in enumerate(order):
        job = cd[f"deploy-{env}"]
        assert re.fullmatch(deploy_stage(answers), job["uses"]), job["uses"]
        assert job["with"] == {
            "environment": env,
            "digest": "${{ needs.build.outputs.digest }}",
        }
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert "build" in needs
        if index:
            assert f"deploy-{order[index - 1]}" in needs, f"{env} must wait for the previous"
    # Only cd builds images; every deploy goes through the environment-gated job: the
    # platform's (this repository's .github/workflows/deploy.yml) or the project's copy.
    by_reference = not answers.get("github_enterprise")
    stage = workflows(REPO_ROOT if by_reference else project)["deploy.yml"]
    if not by_reference:  # the platform's, verbatim: one source for every project
        original = (REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text()
        copy = (project / ".github" / "workflows" / "deploy.yml").read_text()
        assert copy == original.replace("{% raw %}", "").replace("{% endraw %}", "")
    deploy = stage["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "${{ inputs.environment }}"
    run = next(s["run"] for s in deploy["steps"] if s.get("id") == "deploy")
    # The project's own scripts: its cloud and shape as its scripts/project.sh says.
    assert run == 'bash "scripts/$CLOUD/deploy-$SHAPE.sh" "$DIGEST" >> "$GITHUB_OUTPUT"'
    detect = next(s["run"] for s in deploy["steps"] if s.get("id") == "project")
    found = subprocess.run(
        ["bash", "-c", detect.replace('"$GITHUB_OUTPUT"', "/dev/stdout")],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert found == [f"cloud={cloud}", "shape=service"]
    assert set(triggers(stage)["workflow_call"]["inputs"]) == {"environment", "digest"}
    refs = {j["uses"] for j in cd.values() if "deploy" in j.get("uses", "")}
    refs |= {j["uses"] for j in flows["rollback.yml"]["jobs"].values()}
    assert len(refs) == 1, "one platform release (or copy) for every deploy"
    assert "/readyz" in (project / "scripts" / "smoke-test.sh").read_text(), "smoke test"
    assert "smoke-test.sh" in (project / "scripts" / cloud / "deploy-service.sh").read_text()
    rollback = flows["rollback.yml"]
    assert triggers(rollback)["workflow_dispatch"]["inputs"]["digest"]["required"] is True
    train = flows["train.yml"]["jobs"]
    assert train["promote"]["needs"] == "train"
    assert train["promote"]["with"] == {"version": "${{ needs.train.outputs.version }}"}
    assert promotion_stage(project)["jobs"]["promote"]["environment"] == "model-promotion"


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_no_long_lived_cloud_keys_anywhere(rendered: Render, answers: Combination) -> None:
    project = rendered(**answers)
    forbidden = re.compile(
        r"secrets\.|credentials_json|client-secret|clientSecret|creds:|"
        r"GOOGLE_CREDENTIALS|AZURE_CREDENTIALS|servicePrincipalKey|password:\s*\$\(",
    )
    pipeline_files = [*project.glob(".github/**/*.yml"), *project.glob("*.yml")]
    pipeline_files += list(project.glob(".azure-pipelines/**/*"))
    for path in pipeline_files:
        if path.is_file():
            for number, line in enumerate(path.read_text().splitlines(), 1):
                assert not forbidden.search(line), f"{path.name}:{number}: {line.strip()}"


@pytest.mark.parametrize("answers", ADO, ids=named)
def test_azure_devops_promotes_one_digest_through_environments(
    rendered: Render, answers: Combination
) -> None:
    """azure-pipelines.yml extends the platform's pipeline template: goldpath's, at the
    commit the project was rendered from (goldpath on github.com, the default, through the
    `goldpath` service connection), or the project's copy of it where Azure DevOps cannot
    reach goldpath. The platform's stages build once and deploy that digest through the
    gated environments; the project's own stages come first."""
    project = rendered(**answers)
    root = load(project / "azure-pipelines.yml")
    extends = root["extends"]
    (repository,) = root["resources"]["repositories"]
    assert repository["repository"] == "goldpath"
    assert (repository["type"], repository["name"]) == ("github", "ml-platform/goldpath")
    assert repository["endpoint"] == "goldpath"
    assert re.fullmatch(r"[0-9a-f]{40}", repository["ref"]), "a full commit, or a release tag"
    assert extends["template"] == ".azure-pipelines/stages/pipeline.yml@goldpath"
    assert not (project / ".azure-pipelines" / "stages").exists(), "by reference, not a copy"
    parameters = extends["parameters"]
    kind = answers["project_kind"]
    # An LLM service is built only when its prompt also passed the offline gate.
    assert parameters["buildDependsOn"] == {"tabular": ["CI"], "llm": ["CI", "Gate"]}[kind]
    own = load(project / parameters["stages"])["stages"]
    assert {s["stage"] for s in own} >= set(parameters["buildDependsOn"])
    platform = REPO_ROOT / ".azure-pipelines" / "stages"
    pipeline = load(platform / "pipeline.yml")["stages"]
    assert pipeline[0] == {"template": "${{ parameters.stages }}@self"}
    build = next(s for s in pipeline if s.get("stage") == "Build")
    assert build["dependsOn"] == "${{ parameters.buildDependsOn }}"
    assert "refs/heads/main" in build["condition"]
    deploys = [s for s in pipeline if s.get("template") == "deploy.yml"]
    assert [d["parameters"]["environment"] for d in deploys] == ["dev", "staging", "prod"]
    assert deploys[1]["parameters"]["dependsOn"] == ["Build", "Deploy_dev"]
    assert deploys[2]["parameters"]["dependsOn"] == ["Build", "Deploy_staging"]

    stage = load(platform / "deploy.yml")["stages"][0]
    (built,) = stage["variables"][1]["${{ if eq(parameters.digest, '') }}"]
    assert built["value"] == "$[ stageDependencies.Build.BuildPush.outputs['build.digest'] ]"
    job = stage["jobs"][0]
    assert job["environment"] == "${{ parameters.project }}-${{ parameters.environment }}"
    assert "deploy" in job["strategy"]["runOnce"]

    # A rollback redeploys a given digest through the same deploy stage and approvals.
    rollback = load(project / ".azure-pipelines" / "rollback.yml")
    assert rollback["trigger"] == "none"
    assert {p["name"] for p in rollback["parameters"]} == {"environment", "digest"}
    assert rollback["extends"]["parameters"]["digest"] == "${{ parameters.digest }}"
    (again,) = load(platform / "rollback.yml")["stages"]
    assert again["template"] == "deploy.yml"
    assert again["parameters"]["digest"] == "${{ parameters.digest }}"
    digests = stage["variables"][1:]
    assert [list(d) for d in digests] == [["${{ if eq(parameters.digest, '') }}"], ["${{ else }}"]]
    assert digests[1]["${{ else }}"] == [{"name": "digest", "value": "${{ parameters.digest }}"}]

    build_template = load(platform / "build.yml")
    step = next(s for s in build_template["jobs"][0]["steps"] if s.get("name") == "build")
    assert step["task"] == "AzureCLI@2"
    assert "variable=digest;isOutput=true" in step["inputs"]["inlineScript"]
    # What the platform's templates read about the project, from the project.
    cloud = subprocess.run(
        ["bash", "-c", 'source scripts/project.sh && echo "$CLOUD $SHAPE"'],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert cloud == [answers["cloud"], "service" if derived("has_service", **answers) else "job"]

    _, own, promote = ado_training(project)
    assert [s["stage"] for s in own] == ["Train"]
    assert promote["jobs"][0]["environment"] == "${{ parameters.project }}-model-promotion"
    assert promote["dependsOn"] == "Train"
    groups = [v["group"] for v in root["variables"] if "group" in v]
    assert groups, "settings come from variable groups"


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_readme_documents_every_variable_the_pipelines_read(
    rendered: Render, answers: Combination
) -> None:
    project = rendered(**answers)
    readme = (project / "README.md").read_text()
    # The platform's stages (goldpath's, or the project's verbatim copies) are written for
    # every cloud: of theirs, the variables of this project's cloud and of none.
    github, ado = (derived(n, ci=answers["ci"]) for n in ("uses_github", "uses_azure_devops"))
    stages = [REPO_ROOT / ".github/workflows" / n for n in ("deploy.yml", "promote.yml") if github]
    stages += [p for p in REPO_ROOT.glob(".azure-pipelines/stages/*.yml") if ado and (
        answers.get("databricks") or not p.name.startswith("bundle"))]  # fmt: skip
    copies = {project / ".github/workflows/promote.yml", *project.glob(".azure-pipelines/stages/*")}
    files = [
        *project.glob(".github/workflows/*.yml"),
        *project.glob("*.yml"),
        *project.glob(".azure-pipelines/**/*"),
    ]
    text = "\n".join(p.read_text() for p in [*files, *stages] if p.is_file() and p not in copies)
    other_cloud = {"gcp": "AZURE_", "azure": "GCP_"}[answers["cloud"]]
    github_vars = set(re.findall(r"\bvars\.([A-Z][A-Z0-9_]+)", text))
    github_vars = {name for name in github_vars if not name.startswith(other_cloud)}
    ado_macros = set(re.findall(r"\$\(([A-Z][A-Z0-9_]+)\)", text))
    # Variables the pipeline YAML defines itself need no setup.
    defined = set(re.findall(r"- name: ([A-Z][A-Z0-9_]+)\n\s+value:", text))
    used = (github_vars | ado_macros) - defined
    # GitLab's are its own test's (test_gitlab_promotes_one_digest_...).
    assert used or answers["ci"] == "gitlab", "no pipeline variables found"
    undocumented = sorted(name for name in used if f"`{name}`" not in readme)
    assert not undocumented, f"README lacks setup for {undocumented}"


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_databricks_bundle_is_validated_and_deployed_behind_approvals(
    rendered: Render, cloud: str
) -> None:
    project = rendered(ci="both", cloud=cloud, databricks=True)
    flows = workflows(project)
    validate = flows["ci.yml"]["jobs"]["bundle-validate"]
    assert validate["if"] == "github.event_name == 'pull_request'"
    assert any(s.get("uses", "").startswith("databricks/setup-cli@") for s in validate["steps"])
    cd = flows["cd.yml"]["jobs"]
    assert cd["bundle-staging"]["needs"] == "deploy-dev"
    assert set(cd["bundle-prod"]["needs"]) == {"bundle-staging", "deploy-staging"}
    assert cd["bundle-prod"]["with"] == {"target": "prod"}
    bundle = flows["bundle.yml"]["jobs"]["deploy"]
    assert bundle["environment"] == "${{ inputs.target }}"
    auth = next(s for s in bundle["steps"] if s.get("name") == "databricks bundle deploy")
    assert f"source scripts/{cloud}/databricks-auth.sh" in auth["run"]
    # With no OIDC_TOKEN handed over (GitHub), Databricks on Google Cloud asks GitHub.
    exported = subprocess.run(
        ["bash", "-c", f'source scripts/{cloud}/databricks-auth.sh && echo "$DATABRICKS_AUTH_TYPE"'],
        cwd=project, env={"PATH": os.environ["PATH"], "DATABRICKS_SERVICE_PRINCIPAL": "sp"},
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert exported == ("azure-cli" if cloud == "azure" else "github-oidc")
    extends = load(project / "azure-pipelines.yml")["extends"]["parameters"]
    assert extends["databricks"] is True
    assert "BundleValidate" in {s["stage"] for s in load(project / extends["stages"])["stages"]}
    platform = load(REPO_ROOT / ".azure-pipelines" / "stages" / "pipeline.yml")["stages"]
    (bundles,) = [s["${{ if parameters.databricks }}"] for s in platform
                  if "${{ if parameters.databricks }}" in s]  # fmt: skip
    assert bundles[1]["parameters"]["dependsOn"] == ["Bundle_staging", "Deploy_staging"]
    text = "\n".join(p.read_text() for p in project.rglob("*.yml"))
    assert "DATABRICKS_TOKEN" not in text, "no personal access tokens"


@pytest.mark.parametrize("answers", matrix(serving="none"), ids=named)
def test_batch_only_pipelines_deploy_and_run_a_job(rendered: Render, answers: Combination) -> None:
    """A batch-only project has no endpoint: its pipelines roll the digest out to a job and
    run it once (`smoke`) and never curl a URL (its linters: test_matrix)."""
    project = rendered(**answers)
    cloud = answers["cloud"]
    files = [*project.glob(".github/workflows/*.yml"), *project.glob("azure-pipelines.yml"),
             *project.glob(".azure-pipelines/**/*"), *project.glob("scripts/**/*.sh")]  # fmt: skip
    text = "\n".join(p.read_text() for p in files if p.is_file())
    assert "/readyz" not in text
    assert not re.search(r"curl [^|]*(https://\$|\$URL|\$\{url\}|\$\{fqdn\})", text)
    assert "gcloud run deploy" not in text
    assert "containerapp update" not in text
    if cloud == "gcp":
        assert "gcloud run jobs update" in text
        assert "--wait" in text
        assert "--args=smoke" in text
    else:
        assert "az containerapp job update" in text
        assert "--args smoke" in text


def step_named(steps: list[dict[str, Any]], words: str) -> dict[str, Any]:
    return next(
        step for step in steps if words in (step.get("name") or step.get("displayName") or "")
    )


@pytest.mark.parametrize("answers", matrix(project_kind="llm"), ids=named)
def test_llm_pipelines_gate_offline_on_prs_and_promote_prompts_behind_approval(
    rendered: Render, answers: Combination
) -> None:
    """The LLM kind's own stages: the PR gate against the fake provider with its table as a
    summary or artifact; on main the gate against dev's real model, keyless, with a token
    budget; promotion behind model-promotion; and a deploy smoke test that calls /extract."""
    project = rendered(**answers)
    ci, cloud = answers["ci"], answers["cloud"]
    if derived("uses_github", ci=ci):
        flows = workflows(project)
        assert "pull_request" in triggers(flows["ci.yml"])
        gate = flows["ci.yml"]["jobs"]["gate"]
        assert gate["permissions"] == {"contents": "read"}  # offline: no cloud identity
        run = step_named(gate["steps"], "Gate the prompt")
        assert run["env"]["PROVIDER"] == "fake"
        assert "eval --summary gate.md" in run["run"]
        summary = step_named(gate["steps"], "job summary")
        assert summary["if"] == "always()"
        assert "GITHUB_STEP_SUMMARY" in summary["run"]
        upload = next(s for s in gate["steps"] if "upload-artifact" in s.get("uses", ""))
        assert upload["if"] == "always()"
        assert upload["with"]["path"] == "gate.md"

        train = flows["train.yml"]
        assert triggers(train)["push"]["branches"] == ["main"]
        assert "prompts/**" in triggers(train)["push"]["paths"]
        steps = train["jobs"]["train"]["steps"]
        evaluate = step_named(steps, "Evaluation gate")
        # The provider is what dev's service stack exports (test_cloud_scripts), read before.
        provider = step_named(steps, "The provider dev's service stack exports")
        assert provider["run"] == 'bash scripts/provider-env.sh >> "$GITHUB_ENV"'
        assert steps.index(provider) < steps.index(evaluate)
        assert "PROVIDER" not in evaluate["env"]
        assert int(evaluate["env"]["TOKEN_BUDGET"]) > 0
        assert "eval --json --summary gate.md" in evaluate["run"]
        assert any(
            s.get("uses", "").startswith(LOGIN_ACTIONS) for s in train["jobs"]["train"]["steps"]
        )
        assert train["jobs"]["promote"]["needs"] == "train"
        promote = promotion_stage(project)["jobs"]["promote"]
        assert promote["environment"] == "model-promotion"
        assert "promote --version" in step_named(promote["steps"], "Promote")["run"]

        smoke = (project / "scripts" / "smoke-test.sh").read_text()
        assert '"${url}/extract"' in smoke
        assert "jq -e" in smoke
    if derived("uses_azure_devops", ci=ci):
        own = load(
            project / load(project / "azure-pipelines.yml")["extends"]["parameters"]["stages"]
        )
        gate = next(s for s in own["stages"] if s.get("stage") == "Gate")
        assert gate["dependsOn"] == []  # runs on pull requests as well as on main
        steps = gate["jobs"][0]["steps"]
        run = step_named(steps, "Evaluation gate")
        assert run["env"]["PROVIDER"] == "fake"
        assert "eval --summary gate.md" in run["bash"]
        assert "task.uploadsummary" in step_named(steps, "run summary")["bash"]
        artifact = step_named(steps, "as an artifact")
        assert artifact["condition"] == "succeededOrFailed()"

        train, own, promote = ado_training(project)
        assert train["trigger"]["branches"]["include"] == ["main"]
        assert "prompts" in train["trigger"]["paths"]["include"]
        evaluate = own[0]["jobs"][0]["steps"][1]
        assert "PROVIDER" not in evaluate["env"]
        script = evaluate["inputs"]["inlineScript"]
        assert script.index("scripts/provider-env.sh") < script.index(" eval ")
        assert int(evaluate["env"]["TOKEN_BUDGET"]) > 0
        assert "task.uploadsummary" in script
        assert promote["jobs"][0]["environment"].endswith("-model-promotion")

        steps_file = REPO_ROOT / ".azure-pipelines" / "stages" / "deploy-steps.yml"
        assert 'bash "scripts/$CLOUD/deploy-$SHAPE.sh"' in steps_file.read_text()
        assert (project / "scripts" / cloud / "deploy-service.sh").is_file()


@pytest.mark.parametrize("answers", matrix(github_enterprise=True), ids=named)
def test_github_enterprise_server_variant(rendered: Render, answers: Combination) -> None:
    """GHES has no `$/` self-repository form and no artifacts v4: the variant avoids both
    (its validators: test_matrix), and its README names every third-party action to sync."""
    github_com = rendered(**{**answers, "github_enterprise": False})
    project = rendered(**answers)
    calls, actions = set(), set()
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        text = path.read_text()
        assert "$/" not in text, path.name
        for line in text.splitlines():
            match = re.match(r"^\s*(?:- )?uses: (\S+)", line)
            if match:
                (calls if match.group(1).startswith("./") else actions).add(match.group(1))
        # What github.com calls by reference (the platform's deploy stage) or with `$/`,
        # GHES calls from the project itself, `./`.
        counterpart = github_com / ".github" / "workflows" / path.name
        on_github_com = counterpart.read_text() if counterpart.is_file() else ""
        assert on_github_com.count("$/.github/workflows/") + on_github_com.count(
            "/goldpath/.github/workflows/"
        ) == text.count("./.github/workflows/"), path.name
    assert calls, "no reusable workflow calls found"
    assert all(a.split("@")[0] != "actions/upload-artifact" or a.endswith(
        "@c24449f33cd45d4826c6702db7e49f7cdb9b551d") for a in actions)  # fmt: skip
    assert_actions_pinned(project)
    section = (project / "README.md").read_text().split("#### On GitHub Enterprise Server")[1]
    third_party = {a.split("@")[0] for a in actions if not a.startswith("actions/")}
    assert third_party
    for action in third_party:
        assert f"`{action}`" in section.split("####")[0], action
    assert "On GitHub Enterprise Server" not in (github_com / "README.md").read_text()


@pytest.mark.parametrize("answers", MATRIX, ids=named)
def test_promotion_stages_carry_the_approver_and_reason(
    rendered: Render, answers: Combination
) -> None:
    """Governance (#16, #28): promote reads the approver, the reason and a high tier's
    validation from the run's own approval record (the forge's API, goldpath_runtime
    .governance.forge), so each CI system's promote step hands over a token that may read
    it and nothing that names a person; the record then goes to governance-record from a
    job (GitHub) or step (Azure DevOps) of its own."""
    project = rendered(**answers)
    ci, high = answers["ci"], answers["risk_tier"] == "high"
    if derived("uses_github", ci=ci):
        call = load(project / ".github" / "workflows" / "train.yml")["jobs"]["promote"]
        # The caller grants the most the stage's jobs use; each job narrows it.
        assert call["permissions"] == {"actions": "read", "contents": "write", "id-token": "write"}
        jobs = promotion_stage(project)["jobs"]
        job = jobs["promote"]
        assert job["environment"] == "model-promotion"
        assert job["permissions"] == {"actions": "read", "id-token": "write"}
        promote = next(s for s in job["steps"] if " promote " in s.get("run", ""))
        env = promote["env"]
        assert env["GITHUB_TOKEN"] == "${{ github.token }}"
        assert not {"APPROVER", "REASON", "VALIDATOR"} & set(env)
        assert env["GOLDPATH_GOVERNANCE"] == "${{ vars.GOLDPATH_GOVERNANCE }}"
        # Then the record, from the audit, goes to governance-record: the one write.
        publish = jobs["publish"]
        assert publish["needs"] == "promote"
        assert publish["permissions"] == {"contents": "write", "id-token": "write"}
        exported, pushed = publish["steps"][-2:]
        assert " export-audit " in exported["run"]
        assert "GH_TOKEN" not in (exported.get("env") or {})
        assert "bash scripts/publish-record.sh" in pushed["run"]
        assert pushed["env"]["GH_TOKEN"] == "${{ github.token }}"
    if derived("uses_azure_devops", ci=ci):
        pipeline, _, stage = ado_training(project)
        # The promotion's reason; a tabular model's training also takes why it runs (a
        # drift breach sends its figures), recorded on the version it registers.
        tabular = answers.get("project_kind", "tabular") == "tabular"
        assert {p["name"] for p in pipeline["parameters"]} == {"reason"} | (
            {"trigger"} if tabular else set()
        )
        if tabular:
            trigger = {"name": "TRAINING_TRIGGER", "value": "${{ parameters.trigger }}"}
            assert trigger in pipeline["variables"]
        handed = pipeline["extends"]["parameters"]
        assert handed["reason"] == "${{ parameters.reason }}"
        # A high tier's validator is read from the platform's group, linked by the pipeline.
        assert handed["governance"] is high
        groups = {v.get("group") for v in pipeline["variables"]}
        assert ("goldpath-governance" in groups) is high
        steps = stage["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]
        task = next(s for s in steps if s.get("displayName") == "Promote")
        assert task["env"]["REASON"] == "${{ parameters.reason }}"
        assert task["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
        assert "VALIDATOR" not in task["env"]
        governance = task["env"]["${{ if parameters.governance }}"]
        assert governance == {"GOLDPATH_GOVERNANCE": "$(GOLDPATH_GOVERNANCE)"}
        publish = steps[steps.index(task) + 1]
        assert "bash scripts/publish-record.sh" in publish["bash"]
        assert publish["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"


def gitlab_jobs(project: Path) -> dict[str, dict[str, Any]]:
    """Every job and hidden job of the project's GitLab pipeline, with `extends` resolved as
    GitLab does (hashes merged, the job's own keys last)."""
    from generator._validate import _GitLabLoader, gitlab_files

    raw: dict[str, Any] = {}
    for path in gitlab_files(project):
        raw |= yaml.load(path.read_text(), Loader=_GitLabLoader)  # noqa: S506 - a SafeLoader

    def merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in own.items():
            both = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merged(out[key], value) if both else value
        return out

    def resolve(name: str) -> dict[str, Any]:
        job = raw[name]
        parents = job.get("extends", [])
        result: dict[str, Any] = {}
        for parent in [parents] if isinstance(parents, str) else parents:
            result = merged(result, resolve(parent))
        return merged(result, {k: v for k, v in job.items() if k != "extends"})

    return {name: resolve(name) for name, job in raw.items() if isinstance(job, dict)
            and name not in {"workflow", "variables", "default", "include", "stages"}}  # fmt: skip


@pytest.mark.parametrize("answers", GITLAB, ids=named)
def test_gitlab_promotes_one_digest_through_protected_environments(
    rendered: Render, answers: Combination
) -> None:
    """GitLab CI (#30): one build, its digest handed on as a dotenv artifact, dev -> staging
    -> prod as protected environments, ID tokens only where a job logs in, the cloud's
    operations only through scripts/, and promotion behind model-promotion."""
    project = rendered(**answers)
    cloud, kind = answers["cloud"], answers["project_kind"]
    jobs = gitlab_jobs(project)
    root = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    assert root["include"][0]["local"] == ".gitlab/ci/login.yml"
    build = jobs["build"]
    assert build["script"] == [f'bash scripts/{cloud}/build-push.sh "$CI_COMMIT_SHA" > build.env']
    assert build["artifacts"]["reports"]["dotenv"] == "build.env"
    previous = "build"
    for env in ("dev", "staging", "prod"):
        job = jobs[f"deploy-{env}"]
        assert job["environment"]["name"] == env
        assert previous in job["needs"]
        assert "build" in job["needs"]
        assert job["resource_group"] == "deploy-$CI_ENVIRONMENT_NAME"
        assert job["script"][0] == 'bash scripts/service-stack.sh up "$CI_ENVIRONMENT_NAME"'
        assert job["script"][1].startswith(f"bash scripts/{cloud}/deploy-")
        assert '"${digest:?from the build job}"' in job["script"][1]
        previous = f"deploy-{env}"
    logins = {name for name, job in jobs.items() if "id_tokens" in job}
    for name, job in jobs.items():
        if name in logins:
            assert f"source scripts/{cloud}/login.sh" in job["before_script"], name
            assert job["image"] == "$CLOUD_CLI_IMAGE", name
    # Checks reach no cloud: no ID token, no login.
    for name in ("lint", "test", "hadolint", *(["gate"] if kind == "llm" else [])):
        assert name not in logins, name
    if kind == "llm":
        assert jobs["gate"]["variables"]["PROVIDER"] == "fake"
        train = "\n".join(jobs["train"]["script"])
        assert train.index("scripts/provider-env.sh") < train.index(" eval ")
    promote = jobs["promote"]
    assert promote["environment"]["name"] == "model-promotion"
    assert promote["needs"] == ["train"]
    assert not {"APPROVER", "REASON", "VALIDATOR"} & set(promote.get("variables") or {})
    assert any(" promote --version " in line for line in promote["script"])
    publish = "\n".join(jobs["publish"]["script"])
    assert "bash scripts/publish-record.sh" in publish
    assert "CI_JOB_TOKEN" in publish
    audit = jobs["registry-audit"]
    assert audit["variables"]["RECORD_KEEP"] == "branch"
    assert audit["script"][-1].endswith(" status")
    # Whatever a job reads that GitLab does not define is set up by the README.
    readme = (project / "README.md").read_text()
    text = "\n".join(p.read_text() for p in [project / ".gitlab-ci.yml",
                                              *(project / ".gitlab" / "ci").glob("*.yml")])  # fmt: skip
    defined = set(root["variables"]) | {k for j in jobs.values() for k in j.get("variables") or {}}
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text)) - defined
    used = {n for n in used if not n.startswith(("CI_", "GITLAB_", "HOME", "PATH"))}
    assert not sorted(n for n in used if f"`{n}`" not in readme)


@pytest.mark.parametrize(
    ("url", "resource"),
    [("https://dev.azure.com/acme/platform/_git/goldpath", ("git", "platform/goldpath")),
     ("https://acme.visualstudio.com/platform/_git/goldpath.git", ("git", "platform/goldpath")),
     ("ssh://git@git.bank.example/platform/goldpath", None),
     ("https://gitlab.bank.example/platform/goldpath", None)],
)  # fmt: skip
def test_azure_devops_extends_goldpath_where_it_can_reach_it_else_a_copy(
    rendered: Render, url: str, resource: tuple[str, str] | None
) -> None:
    """Azure Repos in the same organisation are referenced like github.com; goldpath
    anywhere else leaves the project a verbatim copy of the platform's templates (one
    source: goldpath's .azure-pipelines/stages/), which the pipeline extends locally."""
    project = rendered(ci="azure-devops", goldpath_repository=url)
    root = load(project / "azure-pipelines.yml")
    copies = project / ".azure-pipelines" / "stages"
    if resource is not None:
        (repository,) = root["resources"]["repositories"]
        assert (repository["type"], repository["name"]) == resource
        assert "endpoint" not in repository
        assert root["extends"]["template"].endswith("@goldpath")
        assert not copies.exists()
        return
    assert "resources" not in root
    assert root["extends"]["template"] == "/.azure-pipelines/stages/pipeline.yml"
    platform = REPO_ROOT / ".azure-pipelines" / "stages"
    assert sorted(p.name for p in copies.iterdir()) == sorted(p.name for p in platform.iterdir())
    for copy in copies.iterdir():
        original = (platform / copy.name).read_text()
        assert copy.read_text() == original.replace("{% raw %}", "").replace("{% endraw %}", "")
    own = load(project / ".azure-pipelines" / "templates" / "stages.yml")["stages"]
    preview = next(s for s in own if s["stage"] == "InfraPreview")
    assert (
        preview["jobs"][0]["steps"][0]["template"] == "/.azure-pipelines/stages/service-stack.yml"
    )


def test_github_enterprise_server_calls_goldpath_on_the_same_server(rendered: Render) -> None:
    """GHES calls reusable workflows of other repositories on the same server: with goldpath
    there (its URL on a host other than github.com), cd.yml and rollback.yml call the
    platform's stage at the rendered commit and the project has no copy; with goldpath on
    github.com, which GHES cannot call, the project keeps its copy."""
    on_server = rendered(
        ci="github", github_enterprise=True,
        goldpath_repository="https://github.bank.example/ml-platform/goldpath.git",
    )  # fmt: skip
    flows = workflows(on_server)
    assert "deploy.yml" not in flows
    calls = {j["uses"] for j in flows["cd.yml"]["jobs"].values() if "deploy" in j.get("uses", "")}
    calls |= {j["uses"] for j in flows["rollback.yml"]["jobs"].values()}
    (call,) = calls
    assert re.fullmatch(PLATFORM_DEPLOY, call)
    on_github_com = rendered(ci="github", github_enterprise=True)
    assert "deploy.yml" in workflows(on_github_com)


def test_a_release_pins_its_tag_and_commit_and_the_next_update_moves_them(
    tmp_path: Path,
) -> None:
    """Rendered from a goldpath release tag, the project names that release: Azure DevOps
    extends the template at `refs/tags/<release>` (what the required-template check lists),
    GitHub calls the deploy stage at the tag's full commit, commented with the tag."""
    clone = tmp_path / "goldpath"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "tag", "v9.8.7"], check=True)
    commit = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "v9.8.7^{commit}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    project = render(tmp_path / "p", template=str(clone), data={"ci": "both"}, vcs_ref="v9.8.7")
    (repository,) = load(project / "azure-pipelines.yml")["resources"]["repositories"]
    assert repository["ref"] == "refs/tags/v9.8.7"
    cd = (project / ".github" / "workflows" / "cd.yml").read_text()
    assert f"/goldpath/.github/workflows/deploy.yml@{commit} # goldpath v9.8.7" in cd
    # The fleet's version bump is `copier update` to the next release: it moves them all.
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(
        [*git, "-C", str(clone), "commit", "-q", "--allow-empty", "-m", "fix"], check=True
    )
    subprocess.run(["git", "-C", str(clone), "tag", "v9.8.8"], check=True)
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run([*git, "-C", str(project), *step], check=True)
    copier.run_update(
        dst_path=project, vcs_ref="v9.8.8", defaults=True, overwrite=True, unsafe=True,
        skip_tasks=True, quiet=True,
    )  # fmt: skip
    moved = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "v9.8.8^{commit}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    for name in ("azure-pipelines.yml", ".azure-pipelines/train.yml",
                 ".azure-pipelines/registry-audit.yml"):  # fmt: skip
        (repository,) = load(project / name)["resources"]["repositories"]
        assert repository["ref"] == "refs/tags/v9.8.8", name
    for name in ("cd.yml", "rollback.yml", "train.yml"):
        text = (project / ".github" / "workflows" / name).read_text()
        assert "/goldpath/.github/workflows/" in text
        assert f"@{moved} # goldpath v9.8.8" in text, name
        assert commit not in text, name
