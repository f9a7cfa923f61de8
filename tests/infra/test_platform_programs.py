"""Both platform programs, for their dev and prod stack files: the whole resource graph
builds under mocks, every policy passes, and the outputs are exactly what generated
pipelines read. Bad configuration fails with one message naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import RunError

from generator._template import REPO_ROOT
from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import check_policies, run_program, stack_config

from ..conftest import option_values
from .conftest import assert_component_shape

PLATFORM = REPO_ROOT / "infra" / "platform"
OUTPUTS = {
    "gcp": {
        "imageRegistry", "projectId", "region", "workloadIdentityProvider",
        "deployerServiceAccount", "trainerServiceAccount", "mlflowTrackingUri",
    },
    "azure": {
        "imageRegistry", "ciClientId", "tenantId", "subscriptionId", "resourceGroup",
        "mlflowTrackingUri", "databricksHost", "registryId", "location", "ciPrincipalId",
    },
}  # fmt: skip


def run_platform(cloud: str, stack: str, config: dict[str, Any] | None = None) -> Any:
    program = PLATFORM / cloud
    return run_program(
        program,
        config=stack_config(program, stack) if config is None else config,
        project=f"goldpath-platform-{cloud}",
        stack=stack,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_platform_builds_with_every_policy_passing(cloud: str, stack: str) -> None:
    recording = run_platform(cloud, stack)
    assert len([r for r in recording.resources if r.custom]) >= 15
    assert set(recording.stack_outputs) == OUTPUTS[cloud]
    assert all(recording.stack_outputs.values()), recording.stack_outputs
    assert check_policies(recording, POLICIES) == []
    assert_component_shape(recording)


def test_gcp_prod_differs_where_it_should() -> None:
    dev, prod = run_platform("gcp", "dev"), run_platform("gcp", "prod")
    dev_db = dev.one("gcp:sql/databaseInstance:DatabaseInstance").inputs
    prod_db = prod.one("gcp:sql/databaseInstance:DatabaseInstance").inputs
    assert dev_db["settings"]["availabilityType"] == "ZONAL"
    assert prod_db["settings"]["availabilityType"] == "REGIONAL"
    assert prod_db["deletionProtection"] is True
    providers = prod.of_type("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert {p.inputs["workloadIdentityPoolProviderId"] for p in providers} == {
        "github",
        "azure-devops",
    }
    assert prod.stack_outputs["imageRegistry"].endswith("/acme-ml-prod/ml-images")
    # Enforcement in prod only: its deployer trusts the platform's deploy stage, dev's the
    # repositories (whose build jobs push images with it).
    for recording, bound in ((dev, "attribute.repository/"), (prod, "attribute.job_workflow_ref/")):
        deployer = {
            m.inputs["member"] for m in recording.of_type("gcp:serviceaccount/iAMMember:IAMMember")
            if m.name.startswith("goldpath-deployer-wif-") and "/subject/" not in m.inputs["member"]
        }  # fmt: skip
        assert deployer, recording
        assert all(bound in member for member in deployer), deployer


def test_azure_ci_identity_can_deploy_only_into_the_serving_group() -> None:
    recording = run_platform("azure", "dev")
    contributor = [
        r for r in recording.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith("b24988ac-6180-42a0-ab88-20f7382dd24c")
    ]  # fmt: skip
    assert len(contributor) == 1
    assert contributor[0].inputs["scope"].endswith("/acmeml-ml-serving-dev")
    assert recording.stack_outputs["resourceGroup"] == "acmeml-ml-serving-dev"


@pytest.mark.parametrize(
    ("cloud", "change", "message"),
    [
        ("gcp", {"goldpath-platform-gcp:alertEmail": None}, "goldpath-platform-gcp:alertEmail is missing"),
        ("gcp", {"gcp:region": "Europe West"}, "gcp:region is 'Europe West', which is not valid"),
        ("gcp", {"goldpath-platform-gcp:githubRepositories": "acme/x"}, "githubRepositories must be a list"),
        ("azure", {"goldpath-platform-azure:databricks": "maybe"}, "databricks is 'maybe', not true or false"),
        ("azure", {"goldpath-platform-azure:namePrefix": None}, "namePrefix is missing"),
        ("gcp", {"goldpath-platform-gcp:githubEnterpriseHost": "https://ghe"}, "githubEnterpriseHost is 'https://ghe', which is not valid"),
    ],
)  # fmt: skip
def test_bad_configuration_names_the_key(
    cloud: str, change: dict[str, str | None], message: str
) -> None:
    config = stack_config(PLATFORM / cloud, "dev")
    for key, value in change.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    with pytest.raises(RunError) as caught:
        run_platform(cloud, "dev", config)
    assert message in str(caught.value)
    assert "pulumi config set" in str(caught.value)


def test_stack_must_be_an_environment() -> None:
    with pytest.raises(RunError, match="stack 'qa' is not an environment"):
        run_platform("gcp", "qa", stack_config(PLATFORM / "gcp", "dev"))


def test_policy_pack_entry_point_uses_the_tested_policies() -> None:
    source = (REPO_ROOT / "infra" / "policypack" / "__main__.py").read_text()
    assert "from goldpath_infra.policies import POLICIES" in source
    assert "policies=POLICIES" in source
    assert Path(REPO_ROOT / "infra" / "policypack" / "PulumiPolicy.yaml").is_file()


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_ci_trusts_a_github_enterprise_server_when_named(cloud: str) -> None:
    """GHES issues Actions' OIDC tokens under its own host: the trust follows the config."""
    config = stack_config(PLATFORM / cloud, "dev")
    config[f"goldpath-platform-{cloud}:githubEnterpriseHost"] = "github.acme-bank.example"
    recording = run_platform(cloud, "dev", config)
    if cloud == "gcp":
        provider = next(
            p.inputs
            for p in recording.of_type(
                "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
            )
            if p.inputs["workloadIdentityPoolProviderId"] == "github"
        )
        issuers = {provider["oidc"]["issuerUri"]}
    else:
        credentials = recording.of_type("azure-native:managedidentity:FederatedIdentityCredential")
        issuers = {c.inputs["issuer"] for c in credentials if "repo:" in c.inputs["subject"]}
    assert issuers == {"https://github.acme-bank.example/_services/token"}
    assert check_policies(recording, POLICIES) == []


def test_gcp_platform_trusts_gitlab_projects_and_names_their_provider() -> None:
    """A GitLab project's pipelines log in through a provider of their own, which the
    platform exports for the project's GCP_WORKLOAD_IDENTITY_PROVIDER (README, GitLab)."""
    config = stack_config(PLATFORM / "gcp", "dev")
    config["goldpath-platform-gcp:gitlabProjects"] = ["acme/markets/rfq-model"]
    recording = run_platform("gcp", "dev", config)
    assert set(recording.stack_outputs) == OUTPUTS["gcp"] | {"gitlabWorkloadIdentityProvider"}
    providers = recording.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
    )
    gitlab = next(p for p in providers if p.inputs["workloadIdentityPoolProviderId"] == "gitlab")
    assert gitlab.inputs["oidc"]["issuerUri"] == "https://gitlab.com"
    config["goldpath-platform-gcp:gitlabProjects"] = ["not a project"]
    with pytest.raises(RunError, match="gitlabProjects"):
        run_platform("gcp", "dev", config)
