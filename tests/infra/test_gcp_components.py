from __future__ import annotations

import pulumi
import pytest

from goldpath_infra._base import ConfigError, Ownership
from goldpath_infra.gcp import (
    CiIdentity,
    ContainerRegistry,
    ModelRegistry,
    Monitoring,
    ServingService,
)
from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import check_policies, run_program

from .conftest import assert_component_shape

OWN = Ownership(owner="fo-quant-ml", project="rfq-model", env="dev")


def test_container_registry_is_immutable_with_cleanup() -> None:
    def program() -> None:
        registry = ContainerRegistry(
            "images", project="p-123456", location="europe-west2", ownership=OWN
        )
        pulumi.export("url", registry.url)

    rec = run_program(program)
    repo = rec.one("gcp:artifactregistry/repository:Repository")
    assert repo.inputs["format"] == "DOCKER"
    assert repo.inputs["dockerConfig"] == {"immutableTags": True}
    actions = {p["id"]: p["action"] for p in repo.inputs["cleanupPolicies"]}
    assert actions == {"delete-untagged": "DELETE", "keep-recent": "KEEP"}
    assert repo.inputs["labels"] == OWN.labels
    assert rec.stack_outputs["url"] == "europe-west2-docker.pkg.dev/p-123456/images"
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_serving_service_is_private_with_named_invokers_and_probes() -> None:
    def program() -> None:
        ServingService(
            "rfq-model-dev", project="p-123456", region="europe-west2", image="img@sha256:ab",
            ownership=OWN, invokers=["serviceAccount:caller@p.iam.gserviceaccount.com"],
            min_instances=1, max_instances=4, secret_env={"API_KEY_SALT": "salt-secret"},
        )  # fmt: skip

    rec = run_program(program)
    service = rec.one("gcp:cloudrunv2/service:Service")
    assert service.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    template = service.inputs["template"]
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 4}
    container = template["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    secret_env = next(e for e in container["envs"] if e["name"] == "API_KEY_SALT")
    assert secret_env["valueSource"]["secretKeyRef"]["secret"] == "salt-secret"
    assert template["serviceAccount"].startswith("rfq-model-dev-run@")
    invoker = rec.one("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert invoker.inputs["role"] == "roles/run.invoker"
    assert invoker.inputs["member"] == "serviceAccount:caller@p.iam.gserviceaccount.com"
    grant = rec.one("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert grant.inputs["role"] == "roles/secretmanager.secretAccessor"
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_public_serving_is_explicit_and_accepted_by_policy() -> None:
    def program() -> None:
        ServingService(
            "pub", project="p-123456", region="europe-west2", image="i", ownership=OWN, public=True
        )

    rec = run_program(program)
    service = rec.one("gcp:cloudrunv2/service:Service")
    assert service.inputs["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert service.inputs["labels"]["public-ingress"] == "allowed"
    assert check_policies(rec, POLICIES) == []


def test_model_registry_keeps_password_in_secret_manager_and_bucket_private() -> None:
    def program() -> None:
        registry = ModelRegistry("mlflow", project="p-123456", region="europe-west2", ownership=OWN)
        pulumi.export("uri", registry.tracking_uri)

    rec = run_program(program)
    bucket = rec.one("gcp:storage/bucket:Bucket")
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    password = rec.one("random:index/randomPassword:RandomPassword")
    version = rec.one("gcp:secretmanager/secretVersion:SecretVersion")
    assert version.inputs["secretData"] == "mock-password-not-a-secret"
    assert password.parent_type == "goldpath:gcp:ModelRegistry"
    instance = rec.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert instance.inputs["databaseVersion"].startswith("POSTGRES_")
    ip = instance.inputs["settings"]["ipConfiguration"]
    assert ip["authorizedNetworks"] == []
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    server = rec.one("gcp:cloudrunv2/service:Service")
    container = server.inputs["template"]["containers"][0]
    assert any(e["name"] == "DB_PASSWORD" and "valueSource" in e for e in container["envs"])
    assert "mock-password-not-a-secret" not in str(server.inputs), (
        "password leaked into the service"
    )
    assert server.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert rec.stack_outputs["uri"].startswith("https://")
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_ci_identity_pins_repositories_and_grants_least_privilege() -> None:
    def program() -> None:
        CiIdentity(
            "goldpath", project="p-123456", github_repositories=["acme/rfq-model", "acme/risk"],
            registry_repository="ml-images", registry_location="europe-west2",
            azure_devops_organization_id="org-guid",
            azure_devops_connections=["sc://acme/markets/rfq-oidc"],
        )  # fmt: skip

    rec = run_program(program)
    providers = {p.inputs["workloadIdentityPoolProviderId"]: p for p in rec.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")}  # fmt: skip
    github = providers["github"].inputs
    assert github["attributeCondition"] == "assertion.repository in ['acme/rfq-model', 'acme/risk']"
    assert github["oidc"]["issuerUri"] == "https://token.actions.githubusercontent.com"
    ado = providers["azure-devops"].inputs
    assert ado["oidc"]["issuerUri"] == "https://vstoken.dev.azure.com/org-guid"
    assert ado["oidc"]["allowedAudiences"] == ["api://AzureADTokenExchange"]
    assert "sc://acme/markets/rfq-oidc" in ado["attributeCondition"]
    project_roles = {m.inputs["role"] for m in rec.of_type("gcp:projects/iAMMember:IAMMember")}
    assert project_roles == {
        "roles/run.admin",
        "roles/iam.serviceAccountCreator",
        "roles/iam.serviceAccountUser",
        "roles/monitoring.alertPolicyEditor",
        "roles/monitoring.notificationChannelEditor",
    }
    assert not project_roles & {"roles/owner", "roles/editor", "roles/iam.serviceAccountKeyAdmin"}
    push = rec.one("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert push.inputs["role"] == "roles/artifactregistry.writer"
    wif = [m for m in rec.of_type("gcp:serviceaccount/iAMMember:IAMMember")
           if m.inputs["role"] == "roles/iam.workloadIdentityUser"]  # fmt: skip
    assert len(wif) == 2 * 3  # deployer and trainer x (two repos + one ADO connection)
    assert not rec.of_type("gcp:serviceaccount/key:Key"), "no service account keys, ever"
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_ci_identity_trusts_named_gitlab_projects_only() -> None:
    """GitLab CI (#30): a provider for GitLab's issuer pinned to the named projects, each
    bound to both accounts, and each account able to mint identity tokens for itself only
    (the smoke test's and the model registry's, scripts/gcp/)."""
    rec = run_program(lambda: CiIdentity(
        "goldpath", project="p-123456", github_repositories=[],
        gitlab_projects=["acme/markets/rfq-model"], gitlab_issuer="https://gitlab.bank.example",
    ))  # fmt: skip
    providers = {p.inputs["workloadIdentityPoolProviderId"]: p.inputs for p in rec.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")}  # fmt: skip
    gitlab = providers["gitlab"]
    assert gitlab["oidc"]["issuerUri"] == "https://gitlab.bank.example"
    assert gitlab["attributeCondition"] == "assertion.project_path in ['acme/markets/rfq-model']"
    assert gitlab["attributeMapping"]["attribute.project_path"] == "assertion.project_path"
    bound = [m.inputs["member"] for m in rec.of_type("gcp:serviceaccount/iAMMember:IAMMember")
             if m.inputs["role"] == "roles/iam.workloadIdentityUser"]  # fmt: skip
    assert len(bound) == 2
    assert all(b.endswith("/attribute.project_path/acme/markets/rfq-model") for b in bound)
    creators = [m.inputs for m in rec.of_type("gcp:serviceaccount/iAMMember:IAMMember")
                if m.inputs["role"] == "roles/iam.serviceAccountTokenCreator"]  # fmt: skip
    assert len(creators) == 2
    assert all(c["member"].startswith("serviceAccount:") for c in creators)
    assert_component_shape(rec)
    with pytest.raises(ConfigError, match="at least one GitHub repository, ADO connection or"):
        run_program(lambda: CiIdentity("goldpath", project="p-123456", github_repositories=[]))


def test_monitoring_alerts_on_errors_and_latency() -> None:
    def program() -> None:
        Monitoring(
            "svc", project="p-123456", ownership=OWN, email="team@bank.example", service_name="rfq"
        )

    rec = run_program(program)
    channel = rec.one("gcp:monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["labels"] == {"email_address": "team@bank.example"}
    filters = [p.inputs["conditions"][0]["conditionThreshold"]["filter"]
               for p in rec.of_type("gcp:monitoring/alertPolicy:AlertPolicy")]  # fmt: skip
    assert any('response_code_class = "5xx"' in f for f in filters)
    assert any("request_latencies" in f for f in filters)
    assert all('service_name = "rfq"' in f for f in filters)
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


STAGE = "acme/goldpath/.github/workflows/deploy.yml@" + "3f" * 20


def test_ci_identity_with_deploy_stages_trusts_only_the_platform_stage_to_deploy() -> None:
    """Enforcement (#30): the deployer is bound to the platform's deploy stage at the
    approved commits (the token's job_workflow_ref), not to the repositories, so a job
    in a project's own workflow cannot impersonate it; the trainer keeps its repositories,
    and Azure DevOps connections (held by their required-template check) stay bound."""
    rec = run_program(lambda: CiIdentity(
        "goldpath", project="p-123456", github_repositories=["acme/rfq-model", "acme/risk"],
        azure_devops_organization_id="org-guid",
        azure_devops_connections=["sc://acme/markets/rfq-oidc"], deploy_stages=[STAGE],
    ))  # fmt: skip
    github = next(p.inputs for p in rec.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
        if p.inputs["workloadIdentityPoolProviderId"] == "github")  # fmt: skip
    assert github["attributeMapping"]["attribute.job_workflow_ref"] == "assertion.job_workflow_ref"
    bound: dict[str, set[str]] = {"deployer": set(), "trainer": set()}
    for member in rec.of_type("gcp:serviceaccount/iAMMember:IAMMember"):
        if member.inputs["role"] == "roles/iam.workloadIdentityUser":
            bound[member.name.split("-")[1]].add(member.inputs["member"].split("/", 9)[-1])
    assert bound["deployer"] == {
        f"attribute.job_workflow_ref/{STAGE}",
        "subject/sc://acme/markets/rfq-oidc",
    }
    assert bound["trainer"] == {
        "attribute.repository/acme/rfq-model", "attribute.repository/acme/risk",
        "subject/sc://acme/markets/rfq-oidc",
    }  # fmt: skip
    assert_component_shape(rec)


@pytest.mark.parametrize(
    "stage",
    [
        "acme/goldpath/.github/workflows/deploy.yml@v1.4.0",  # a tag can move
        "acme/goldpath/.github/workflows/deploy.yml@" + "3f" * 19,  # not a full commit
        "acme/goldpath/deploy.yml@" + "3f" * 20,
        STAGE + "\n",
    ],
)
def test_ci_identity_refuses_a_deploy_stage_not_pinned_to_a_commit(stage: str) -> None:
    with pytest.raises(ConfigError, match=r"deployStages entry .* full commit"):
        run_program(lambda: CiIdentity(
            "goldpath", project="p-123456", github_repositories=["acme/r"], deploy_stages=[stage]
        ))  # fmt: skip


def test_ci_identity_refuses_deploy_stages_with_gitlab_projects() -> None:
    with pytest.raises(ConfigError, match="deployStages cannot hold GitLab projects"):
        run_program(lambda: CiIdentity(
            "goldpath", project="p-123456", github_repositories=["acme/r"],
            gitlab_projects=["acme/g"], deploy_stages=[STAGE],
        ))  # fmt: skip
