"""The forge stacks under mocks (the Pulumi engine and the GitHub / Azure DevOps APIs are
the mocked boundary): every ML repository's model-promotion environment is approved by the
model-validation group and never by the requester, and the setting the stack publishes is
the one goldpath-runtime reads, so the runtime admits exactly the stack's validators."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from pulumi import RunError

from generator._options import Combination
from generator._template import REPO_ROOT
from goldpath_infra.github.promotion_gate import REQUIRED_CHECKS
from goldpath_infra.testing import RecordedResource, Recording, run_program, stack_config
from goldpath_runtime.governance.people import directory

from ..conftest import Render, matrix, named
from .conftest import assert_component_shape

CI_JOBS_EVERY_PROJECT_HAS = set(REQUIRED_CHECKS)

PLATFORM = REPO_ROOT / "infra" / "platform"
STAGE = "acme-bank/goldpath/.github/workflows/deploy.yml@" + "ab" * 20
VARIABLE = "github:index/actionsOrganizationVariable:ActionsOrganizationVariable"


def one_named(recording: Recording, typ: str, name: str) -> RecordedResource:
    """The one resource of `typ` whose forge-side name (`name` or `variableName`) is `name`."""
    found = [
        r for r in recording.of_type(typ)
        if name in (r.inputs.get("name"), r.inputs.get("variableName"))
    ]  # fmt: skip
    assert len(found) == 1, [r.name for r in recording.of_type(typ)]
    return found[0]


def run_forge(forge: str, config: dict[str, Any] | None = None) -> Recording:
    program = PLATFORM / forge
    return run_program(
        program, config=stack_config(program, "prod") if config is None else config,
        project=f"goldpath-platform-{forge}", stack="prod",
    )  # fmt: skip


def test_github_promotions_need_the_validation_team_and_never_self_review() -> None:
    recording = run_forge("github")
    team = one_named(recording, "github:index/team:Team", "model-validation")
    assert team.inputs["privacy"] == "closed"
    members = {
        m.inputs["username"]
        for m in recording.of_type("github:index/teamMembership:TeamMembership")
        if "-validator-" in m.name
    }
    assert members == {"vic-validator", "val-mrm"}
    environments = [
        e for e in recording.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
        if e.inputs["environment"] == "model-promotion"
    ]  # fmt: skip
    assert {e.inputs["repository"] for e in environments} == {"rfq-hit-model", "credit-limit-model"}
    for environment in environments:
        inputs = environment.inputs
        assert inputs["reviewers"] == [{"teams": [4242]}]
        assert (inputs["preventSelfReview"], inputs["canAdminsBypass"]) == (True, False)
        assert inputs["deploymentBranchPolicy"] == {
            "protectedBranches": True, "customBranchPolicies": False
        }  # fmt: skip
    # The default branch: reviewed pull requests whose CI passed, no force-push, no deletion.
    rulesets = recording.of_type("github:index/repositoryRuleset:RepositoryRuleset")
    assert {r.inputs["repository"] for r in rulesets} == {"rfq-hit-model", "credit-limit-model"}
    for ruleset in rulesets:
        inputs = ruleset.inputs
        assert (inputs["target"], inputs["enforcement"]) == ("branch", "active")
        assert inputs["conditions"]["refName"]["includes"] == ["~DEFAULT_BRANCH"]
        assert "bypassActors" not in inputs
        rules = inputs["rules"]
        assert (rules["deletion"], rules["nonFastForward"]) == (True, True)
        review = rules["pullRequest"]
        assert review["requiredApprovingReviewCount"] == 1
        assert review["requireCodeOwnerReview"]
        assert review["requireLastPushApproval"]
        checks = {c["context"] for c in rules["requiredStatusChecks"]["requiredChecks"]}
        assert checks == CI_JOBS_EVERY_PROJECT_HAS
    setting = one_named(recording, VARIABLE, "GOLDPATH_GOVERNANCE")
    people = directory({"GOLDPATH_GOVERNANCE": setting.inputs["value"]})
    assert people is not None
    assert people.validates("vic-validator")
    assert people.validates("Victoria.Tor@acme.example"), "through the stack's mapping"
    assert not people.validates("mallory")
    assert_component_shape(recording)


def test_azure_devops_promotions_need_the_validation_group_and_never_the_requester() -> None:
    recording = run_forge("azuredevops")
    environments = recording.of_type("azuredevops:index/environment:Environment")
    names = {e.inputs["name"] for e in environments if e.name.endswith(("-model", "-extractor"))}
    # The environment each service's .azure-pipelines/train.yml deploys to.
    assert names == {"rfq-hit-model-model-promotion", "trade-extractor-model-promotion"}
    checks = [c for c in recording.of_type("azuredevops:index/checkApproval:CheckApproval")
              if c.name.endswith(("-model-approval", "-extractor-approval"))]  # fmt: skip
    assert len(checks) == 2
    for check in checks:
        assert check.inputs["targetResourceType"] == "environment"
        assert check.inputs["approvers"] == ["8c3e5a71-2b4d-4e6f-a1c3-5d7e9f0b2a4c"]
        assert check.inputs["requesterCanApprove"] is False
    controls = recording.of_type("azuredevops:index/checkBranchControl:CheckBranchControl")
    assert len(controls) == 2
    for control in controls:
        assert control.inputs["allowedBranches"] == "refs/heads/main"
        assert control.inputs["verifyBranchProtection"] is True
    policy = recording.one("azuredevops:index/branchPolicyMinReviewers:BranchPolicyMinReviewers")
    settings = policy.inputs["settings"]
    assert (policy.inputs["blocking"], settings["reviewerCount"]) == (True, 1)
    assert (settings["submitterCanVote"], settings["lastPusherCannotApprove"]) == (False, True)
    group = recording.one("azuredevops:index/variableGroup:VariableGroup")
    assert group.inputs["name"] == "goldpath-governance"  # what high-tier train.yml links
    [variable] = group.inputs["variables"]
    people = directory({variable["name"]: variable["value"]})
    assert people is not None
    assert people.validates("VICTORIA.TOR@acme.example")
    assert_component_shape(recording)


@pytest.mark.parametrize("answers", matrix(uses_github=True), ids=named)
def test_the_required_checks_are_jobs_every_github_project_has(
    rendered: Render, answers: Combination
) -> None:
    """A required check no project reports would block every merge: each is a job of the
    generated ci.yml, whatever the answers."""
    jobs = yaml.safe_load((rendered(**answers) / ".github" / "workflows" / "ci.yml").read_text())
    names = {job.get("name", key) for key, job in jobs["jobs"].items()}
    assert names >= CI_JOBS_EVERY_PROJECT_HAS


@pytest.mark.parametrize(
    ("change", "named"),
    [({"goldpath-platform-github:modelValidators": []}, "modelValidators is empty"),
     ({"goldpath-platform-github:modelValidators": ["bad name!"]}, "modelValidators has"),
     ({"goldpath-platform-github:identities": {"tom": "t"}}, "identities must map"),
     ({"goldpath-platform-github:identities": ["x"]}, "identities must map"),
     ({"goldpath-platform-github:githubRepositories": ["evil-org/x"]}, "outside the organisation"),
     ({"github:owner": "bad owner"}, "github:owner"),
     ({"goldpath-platform-github:deployStages": [STAGE[:-1]]}, "deployStages has"),
     ({"goldpath-platform-github:deployStages": ["evil" + STAGE[9:]]},
      "outside the organisation"),
     ({"goldpath-platform-github:deployStages": [STAGE.replace("/goldpath/", "/other/")]},
      "not a stage of acme-bank/goldpath"),
     ({"goldpath-platform-github:releaseApprovers": []}, "releaseApprovers is empty"),
     ({"goldpath-platform-github:releaseApprovers": ["a b"]}, "releaseApprovers has")],
)  # fmt: skip
def test_bad_forge_configuration_is_one_line_naming_the_key(
    change: dict[str, Any], named: str
) -> None:
    config = {**stack_config(PLATFORM / "github", "prod"), **change}
    with pytest.raises(RunError, match=named) as refused:
        run_forge("github", config)
    assert "\n" not in str(refused.value)


def test_the_setting_round_trips_every_identity_the_stack_accepts() -> None:
    config = stack_config(PLATFORM / "github", "prod")
    recording = run_forge("github")
    value = json.loads(one_named(recording, VARIABLE, "GOLDPATH_GOVERNANCE").inputs["value"])
    assert value == {
        "validators": config["goldpath-platform-github:modelValidators"],
        "identities": config["goldpath-platform-github:identities"],
    }


def test_gitlab_promotions_and_deploys_wait_for_the_platform_groups() -> None:
    """GitLab (#30): each project's protected environments are approved by the platform's
    groups, its default branch takes only merge requests a code owner approved and their
    authors could not, and the published setting is what the runtime reads."""
    recording = run_forge("gitlab")
    projects = {"acme-bank/markets/rfq-hit-model", "acme-bank/credit-limit-model"}
    environments = recording.of_type(
        "gitlab:index/projectProtectedEnvironment:ProjectProtectedEnvironment"
    )
    approvers = {
        (e.inputs["project"], e.inputs["environment"]): e.inputs["approvalRules"]
        for e in environments
    }
    assert set(approvers) == {
        (p, e) for p in projects for e in ("model-promotion", "staging", "prod")
    }
    for (project, environment), rules in approvers.items():
        group = 4242 if environment == "model-promotion" else 4243
        assert rules == [{"groupId": group, "requiredApprovals": 1}], (project, environment)
    for environment in environments:
        assert environment.inputs["deployAccessLevelsAttributes"] == [{"accessLevel": "maintainer"}]
    branches = recording.of_type("gitlab:index/branchProtection:BranchProtection")
    assert {b.inputs["project"] for b in branches} == projects
    for branch in branches:
        inputs = branch.inputs
        assert (inputs["branch"], inputs["pushAccessLevel"]) == ("main", "no one")
        assert inputs["allowForcePush"] is False
        assert inputs["codeOwnerApprovalRequired"] is True
    for approvals in recording.of_type(
        "gitlab:index/projectLevelMrApprovals:ProjectLevelMrApprovals"
    ):
        inputs = approvals.inputs
        assert inputs["resetApprovalsOnPush"] is True
        assert inputs["mergeRequestsAuthorApproval"] is False
        assert inputs["mergeRequestsDisableCommittersApproval"] is True
    setting = recording.one("gitlab:index/groupVariable:GroupVariable")
    assert (setting.inputs["key"], setting.inputs["raw"]) == ("GOLDPATH_GOVERNANCE", True)
    people = directory({"GOLDPATH_GOVERNANCE": setting.inputs["value"]})
    assert people is not None
    assert people.validates("vic-validator")
    assert not people.validates("mallory")
    assert_component_shape(recording)
    config = stack_config(PLATFORM / "gitlab", "prod")
    config["goldpath-platform-gitlab:gitlabProjects"] = ["other-bank/rfq"]
    with pytest.raises(RunError, match="outside the group"):
        run_forge("gitlab", config)


def test_github_deploys_to_staging_and_prod_run_the_platform_stage_only() -> None:
    """Enforcement (#30), configured by the stack: the goldpath repository shares its
    workflows, each ML repository's staging and prod wait for a release approver (never
    the requester, no admin bypass, protected branches), the approved stages are published,
    and an organisation ruleset requires the platform's stages check on every default
    branch. The GCP prod stack holds the same list (its deployer trusts nothing else)."""
    config = stack_config(PLATFORM / "github", "prod")
    stages = config["goldpath-platform-github:deployStages"]
    assert stages == stack_config(PLATFORM / "gcp", "prod")["goldpath-platform-gcp:deployStages"]
    recording = run_forge("github")
    sharing = recording.one(
        "github:index/actionsRepositoryAccessLevel:ActionsRepositoryAccessLevel"
    )
    assert sharing.inputs == {"repository": "goldpath", "accessLevel": "organization"}
    team = one_named(recording, "github:index/team:Team", "ml-release-approvers")
    approvers = {
        m.inputs["username"]
        for m in recording.of_type("github:index/teamMembership:TeamMembership")
        if "-approver-" in m.name
    }
    assert approvers == set(config["goldpath-platform-github:releaseApprovers"])
    deploys = {
        (e.inputs["repository"], e.inputs["environment"]): e.inputs
        for e in recording.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
        if e.inputs["environment"] != "model-promotion"
    }
    assert set(deploys) == {
        (repo, env) for repo in ("rfq-hit-model", "credit-limit-model")
        for env in ("dev", "staging", "prod")
    }  # fmt: skip
    for (_, env), inputs in deploys.items():
        assert inputs["canAdminsBypass"] is False
        assert inputs["deploymentBranchPolicy"]["protectedBranches"] is True
        approved = env in ("staging", "prod")
        assert inputs.get("preventSelfReview", False) is approved
        assert ("reviewers" in inputs) is approved
    assert team.custom
    published = one_named(recording, VARIABLE, "GOLDPATH_DEPLOY_STAGES").inputs["value"]
    assert published.splitlines() == stages
    ruleset = recording.one("github:index/organizationRuleset:OrganizationRuleset").inputs
    assert (ruleset["target"], ruleset["enforcement"]) == ("branch", "active")
    assert "bypassActors" not in ruleset
    assert ruleset["conditions"]["repositoryName"]["includes"] == [
        "rfq-hit-model", "credit-limit-model"
    ]  # fmt: skip
    (required,) = ruleset["rules"]["requiredWorkflows"]["requiredWorkflows"]
    assert required == {
        "repositoryId": 4343, "path": ".github/workflows/stages-check.yml", "ref": "refs/heads/main"
    }  # fmt: skip
    assert (REPO_ROOT / required["path"]).is_file()
    assert_component_shape(recording)


def test_github_without_deploy_stages_leaves_enforcement_off() -> None:
    config = stack_config(PLATFORM / "github", "prod")
    del config["goldpath-platform-github:deployStages"]
    recording = run_forge("github", config)
    assert not recording.of_type("github:index/organizationRuleset:OrganizationRuleset")
    assert not recording.of_type(
        "github:index/actionsRepositoryAccessLevel:ActionsRepositoryAccessLevel"
    )


def test_azure_devops_reaches_the_cloud_only_through_the_platform_templates() -> None:
    """Enforcement (#30), configured by the stack: each service's dev, staging and prod
    environments require that the run extends goldpath's pipeline template at an approved
    release, and its service connection one of goldpath's templates (pipeline, training,
    audit: what the generated pipelines extend); staging and prod also wait for a release
    approver who did not queue the run."""
    config = stack_config(PLATFORM / "azuredevops", "prod")
    releases = config["goldpath-platform-azuredevops:platformReleases"]
    recording = run_forge("azuredevops")
    environments = {e.name: e.inputs["name"] for e in recording.of_type(
        "azuredevops:index/environment:Environment")}  # fmt: skip
    services = ("rfq-hit-model", "trade-extractor")
    deploys = {f"{s}-{env}" for s in services for env in ("dev", "staging", "prod")}
    assert deploys <= set(environments.values())
    checks = recording.of_type("azuredevops:index/checkRequiredTemplate:CheckRequiredTemplate")

    def templates(check: RecordedResource) -> list[tuple[str, str]]:
        required = check.inputs["requiredTemplates"]
        assert {(t["repositoryType"], t["repositoryName"]) for t in required} == {
            ("azuregit", "ml-platform/goldpath")
        }  # fmt: skip
        return [(t["templatePath"], t["repositoryRef"]) for t in required]

    on_environments = [c for c in checks if c.inputs["targetResourceType"] == "environment"]
    assert {environments[c.name.removesuffix("-template")] for c in on_environments} == deploys
    deploying = (".azure-pipelines/stages/pipeline.yml", ".azure-pipelines/stages/rollback.yml")
    for check in on_environments:
        assert templates(check) == [(path, release) for path in deploying for release in releases]
    on_connections = [c for c in checks if c.inputs["targetResourceType"] == "endpoint"]
    assert {c.inputs["targetResourceId"] for c in on_connections} == set(
        config["goldpath-platform-azuredevops:serviceConnectionIds"].values()
    )
    generated = (*deploying, ".azure-pipelines/stages/training.yml",
                 ".azure-pipelines/stages/audit.yml")  # fmt: skip
    for check in on_connections:
        assert templates(check) == [(path, release) for path in generated for release in releases]
    for path in generated:
        assert (REPO_ROOT / path).is_file(), path
    approvals = {c.name: c.inputs for c in recording.of_type(
        "azuredevops:index/checkApproval:CheckApproval")}  # fmt: skip
    released = {n for n in approvals if n.endswith(("-staging-approval", "-prod-approval"))}
    assert len(released) == 4
    for name in released:
        assert approvals[name]["approvers"] == ["3d9a7c15-6e2b-4f80-b1d4-7a9c2e5f8b01"]
        assert approvals[name]["requesterCanApprove"] is False
    assert_component_shape(recording)
    # Off without releases; one line naming the key when a service has no connection id.
    config.pop("goldpath-platform-azuredevops:platformReleases")
    assert not run_forge("azuredevops", config).of_type(
        "azuredevops:index/checkRequiredTemplate:CheckRequiredTemplate"
    )
    config["goldpath-platform-azuredevops:platformReleases"] = releases
    config["goldpath-platform-azuredevops:serviceConnectionIds"] = {"rfq-hit-model": "x"}
    with pytest.raises(RunError, match="serviceConnectionIds must map every service") as bad:
        run_forge("azuredevops", config)
    assert "\n" not in str(bad.value)


@pytest.mark.parametrize(
    ("name", "template"),
    [("azure-pipelines.yml", "pipeline.yml"), (".azure-pipelines/train.yml", "training.yml"),
     (".azure-pipelines/registry-audit.yml", "audit.yml"),
     (".azure-pipelines/rollback.yml", "rollback.yml")],
)  # fmt: skip
def test_every_generated_azure_devops_pipeline_extends_a_template_the_checks_admit(
    rendered: Render, name: str, template: str
) -> None:
    """The service connection's check would stop a generated pipeline that extends nothing
    it lists: each extends its goldpath template, from the repository the stack names."""
    project = rendered(ci="azure-devops")
    pipeline = yaml.safe_load((project / name).read_text())
    assert pipeline["extends"]["template"] == f".azure-pipelines/stages/{template}@goldpath"
    (repository,) = pipeline["resources"]["repositories"]
    assert repository["repository"] == "goldpath"
