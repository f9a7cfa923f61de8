from __future__ import annotations

from goldpath_infra._base import Ownership
from goldpath_infra.azure import (
    CiIdentity,
    ContainerRegistry,
    DatabricksWorkspace,
    ModelRegistry,
    Monitoring,
    ServingService,
)
from goldpath_infra.azure._roles import ACR_PULL, ACR_PUSH, CONTRIBUTOR
from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import check_policies, run_program

from .conftest import assert_component_shape

OWN = Ownership(owner="fo-quant-ml", project="rfq-model", env="prod")
SUB = "00000000-0000-0000-0000-000000000000"


def test_container_registry_has_no_admin_or_anonymous_pull() -> None:
    rec = run_program(lambda: ContainerRegistry(
        "acmeacr", resource_group_name="rg", location="uksouth", ownership=OWN))  # fmt: skip
    registry = rec.one("azure-native:containerregistry:Registry")
    assert registry.inputs["adminUserEnabled"] is False
    assert registry.inputs["anonymousPullEnabled"] is False
    assert registry.inputs["tags"] == OWN.labels
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_serving_service_is_internal_and_pulls_with_its_own_identity() -> None:
    rec = run_program(lambda: ServingService(
        "rfq-model-prod", resource_group_name="rg", location="uksouth", subscription_id=SUB,
        registry_id="/registries/acr", registry_server="acr.azurecr.io",
        image="acr.azurecr.io/rfq@sha256:ab", ownership=OWN, min_replicas=1,
    ))  # fmt: skip
    app = rec.one("azure-native:app:ContainerApp")
    ingress = app.inputs["configuration"]["ingress"]
    assert ingress["external"] is False
    assert ingress["allowInsecure"] is False
    identity = rec.one("azure-native:managedidentity:UserAssignedIdentity")
    assert app.inputs["identity"]["type"] == "UserAssigned"
    assert app.inputs["configuration"]["registries"][0]["server"] == "acr.azurecr.io"
    probes = {
        p["type"]: p["httpGet"]["path"] for p in app.inputs["template"]["containers"][0]["probes"]
    }
    assert probes == {"Liveness": "/healthz", "Readiness": "/readyz"}
    scale = app.inputs["template"]["scale"]
    assert scale["minReplicas"] == 1
    assert scale["rules"][0]["http"]["metadata"] == {"concurrentRequests": "50"}
    pull = rec.one("azure-native:authorization:RoleAssignment")
    assert pull.inputs["roleDefinitionId"].endswith(ACR_PULL)
    assert pull.inputs["scope"] == "/registries/acr"
    assert identity.parent_type == "goldpath:azure:ServingService"
    env = rec.one("azure-native:app:ManagedEnvironment")
    assert env.inputs["appLogsConfiguration"]["destination"] == "log-analytics"
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_model_registry_hardens_key_vault_and_storage() -> None:
    rec = run_program(lambda: ModelRegistry(
        "acme-mlflow", resource_group_name="rg", location="uksouth", tenant_id="tenant",
        subscription_id=SUB, ownership=OWN,
    ))  # fmt: skip
    vault = rec.one("azure-native:keyvault:Vault").inputs["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enablePurgeProtection"] is True
    assert vault["enableSoftDelete"] is True
    account = rec.one("azure-native:storage:StorageAccount").inputs
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    workspace = rec.one("azure-native:machinelearningservices:Workspace").inputs
    assert workspace["keyVault"].endswith("/keyvault/acmemlflowkv")
    assert workspace["applicationInsights"].endswith("/applicationinsights/acme-mlflow-insights")
    insights = rec.one("azure-native:applicationinsights:Component").inputs
    assert insights["ingestionMode"] == "LogAnalytics"
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_ci_identity_federates_github_and_azure_devops_with_scoped_roles() -> None:
    rec = run_program(lambda: CiIdentity(
        "ci", resource_group_name="rg", location="uksouth", subscription_id=SUB,
        github_repositories=["acme/rfq-model"],
        azure_devops=[("https://vstoken.dev.azure.com/org", "sc://acme/markets/rfq-oidc")],
        registry_id="/registries/acr", deploy_scope="/resourceGroups/serving",
        ownership=OWN,
    ))  # fmt: skip
    subjects = {c.inputs["subject"]: c.inputs["issuer"]
                for c in rec.of_type("azure-native:managedidentity:FederatedIdentityCredential")}  # fmt: skip
    assert subjects["repo:acme/rfq-model:ref:refs/heads/main"].startswith("https://token.actions")
    for env in ("dev", "staging", "prod", "model-promotion"):
        assert f"repo:acme/rfq-model:environment:{env}" in subjects
    assert subjects["sc://acme/markets/rfq-oidc"] == "https://vstoken.dev.azure.com/org"
    roles = {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]: r.inputs["scope"]
             for r in rec.of_type("azure-native:authorization:RoleAssignment")}  # fmt: skip
    assert roles == {ACR_PUSH: "/registries/acr", CONTRIBUTOR: "/resourceGroups/serving"}
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_ci_identity_federates_gitlab_projects_default_branch() -> None:
    rec = run_program(lambda: CiIdentity(
        "ci", resource_group_name="rg", location="uksouth", subscription_id=SUB,
        github_repositories=[], gitlab_projects=["acme/markets/rfq-model"], ownership=OWN,
    ))  # fmt: skip
    [credential] = rec.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.inputs["issuer"] == "https://gitlab.com"
    assert credential.inputs["subject"] == (
        "project_path:acme/markets/rfq-model:ref_type:branch:ref:main"
    )
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert_component_shape(rec)


def test_monitoring_and_databricks() -> None:
    def program() -> None:
        Monitoring("alerts", resource_group_name="rg", ownership=OWN, email="t@bank.example",
                   app_id="/containerApps/rfq")  # fmt: skip
        DatabricksWorkspace("dbw", resource_group_name="rg", location="uksouth",
                            subscription_id=SUB, ownership=OWN)  # fmt: skip

    rec = run_program(program)
    group = rec.one("azure-native:monitor:ActionGroup").inputs
    assert group["emailReceivers"][0]["emailAddress"] == "t@bank.example"
    alerts = rec.of_type("azure-native:monitor:MetricAlert")
    metrics = {a.inputs["criteria"]["allOf"][0]["metricName"] for a in alerts}
    assert metrics == {"Requests", "ResponseTime"}
    assert all(a.inputs["scopes"] == ["/containerApps/rfq"] for a in alerts)
    workspace = rec.one("azure-native:databricks:Workspace").inputs
    assert workspace["sku"] == {"name": "premium"}
    assert workspace["parameters"]["enableNoPublicIp"] == {"value": True}
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_people_read_the_model_registry_through_a_role_that_cannot_write() -> None:
    """Only the CI identity may move @champion: readers get a custom role of read actions
    only, scoped to the workspace (README: who may move @champion)."""
    group = "3f9a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
    rec = run_program(lambda: ModelRegistry(
        "acme-mlflow", resource_group_name="rg", location="uksouth", tenant_id="tenant",
        subscription_id=SUB, ownership=OWN, readers=[group],
    ))  # fmt: skip
    role = rec.one("azure-native:authorization:RoleDefinition").inputs
    [permission] = role["permissions"]
    assert permission["actions"]
    assert all(a.endswith("/read") for a in permission["actions"]), permission
    assert not permission.get("dataActions")
    workspace = "machinelearningservices/acme-mlflow"
    assert role["scope"].endswith(workspace)
    assert [s.rsplit("/", 2)[-2:] for s in role["assignableScopes"]] == [workspace.split("/")]
    [assignment] = rec.of_type("azure-native:authorization:RoleAssignment")
    assert (assignment.inputs["principalId"], assignment.inputs["principalType"]) == (
        group, "Group"
    )  # fmt: skip
    assert assignment.inputs["scope"].endswith(workspace)
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_a_service_ci_rolls_out_keeps_several_revisions_for_its_canary() -> None:
    """Traffic between revisions is the pipeline's (scripts/azure/deploy-service.sh): the
    app keeps several revisions active, where one the stack deploys itself keeps one."""
    for managed, mode in ((True, "Multiple"), (False, "Single")):
        rec = run_program(lambda managed=managed: ServingService(
            "rfq-model-prod", resource_group_name="rg", location="uksouth", subscription_id=SUB,
            registry_id="/registries/acr", registry_server="acr.azurecr.io",
            image="acr.azurecr.io/rfq@sha256:ab", ownership=OWN, image_managed_by_ci=managed,
        ))  # fmt: skip
        app = rec.one("azure-native:app:ContainerApp")
        assert app.inputs["configuration"]["activeRevisionsMode"] == mode
