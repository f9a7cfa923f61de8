from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_gcp as gcp

from .._base import GITHUB_ISSUER, ConfigError, child

ADO_AUDIENCE = "api://AzureADTokenExchange"

# What a project's pipeline needs to apply its service stack and roll out revisions:
# manage Cloud Run services and their invoker IAM, create the service's runtime account
# and act as it, and manage the service's alerts. No owner/editor, no key creation.
DEPLOYER_ROLES = (
    "roles/run.admin",
    "roles/iam.serviceAccountCreator",
    "roles/iam.serviceAccountUser",
    "roles/monitoring.alertPolicyEditor",
    "roles/monitoring.notificationChannelEditor",
)


def _repository_principal(repo: str) -> Callable[[str], str]:
    return lambda pool: f"principalSet://iam.googleapis.com/{pool}/attribute.repository/{repo}"


def _subject_principal(subject: str) -> Callable[[str], str]:
    return lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}"


class CiIdentity(pulumi.ComponentResource):
    """Keyless CI: a Workload Identity Pool trusting GitHub Actions (and optionally one
    Azure DevOps organisation), and two service accounts CI may impersonate: `deployer`
    (push images, deploy Cloud Run) and `trainer` (call the model registry).

    The providers' attribute conditions pin the exact repositories (GitHub) or service
    connections (Azure DevOps): a token from anywhere else is refused by STS.
    """

    provider_name: pulumi.Output[str]
    deployer_email: pulumi.Output[str]
    trainer_email: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: str,
        github_repositories: Sequence[str],
        github_issuer: str = GITHUB_ISSUER,
        registry_repository: pulumi.Input[str] | None = None,
        registry_location: str | None = None,
        azure_devops_organization_id: str | None = None,
        azure_devops_connections: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:CiIdentity", name, None, opts)
        if not github_repositories and not azure_devops_connections:
            raise ConfigError("CiIdentity needs at least one GitHub repository or ADO connection")
        self.pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=project,
            workload_identity_pool_id=f"{name}-ci"[:32],
            display_name="CI (GitHub Actions, Azure DevOps)",
            opts=child(self),
        )
        repositories = ", ".join(f"'{r}'" for r in github_repositories)
        self.github = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-github",
            project=project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github",
            display_name="GitHub Actions",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.ref": "assertion.ref",
                "attribute.environment": "assertion.environment",
            },
            attribute_condition=f"assertion.repository in [{repositories}]",
            oidc={"issuer_uri": github_issuer},
            opts=child(self),
        )
        self.provider_name = self.github.name
        principals: list[pulumi.Output[str]] = [
            self.pool.name.apply(_repository_principal(repo)) for repo in github_repositories
        ]
        if azure_devops_organization_id:
            connections = ", ".join(f"'{c}'" for c in azure_devops_connections)
            self.azure_devops = gcp.iam.WorkloadIdentityPoolProvider(
                f"{name}-azure-devops",
                project=project,
                workload_identity_pool_id=self.pool.workload_identity_pool_id,
                workload_identity_pool_provider_id="azure-devops",
                display_name="Azure DevOps",
                attribute_mapping={"google.subject": "assertion.sub"},
                attribute_condition=f"assertion.sub in [{connections}]",
                oidc={
                    "issuer_uri": f"https://vstoken.dev.azure.com/{azure_devops_organization_id}",
                    "allowed_audiences": [ADO_AUDIENCE],
                },
                opts=child(self),
            )
            principals += [
                self.pool.name.apply(_subject_principal(sub)) for sub in azure_devops_connections
            ]

        self.deployer = gcp.serviceaccount.Account(
            f"{name}-deployer",
            project=project,
            account_id=f"{name}-deployer"[:30],
            display_name="CI deployer (images, Cloud Run)",
            opts=child(self),
        )
        self.trainer = gcp.serviceaccount.Account(
            f"{name}-trainer",
            project=project,
            account_id=f"{name}-trainer"[:30],
            display_name="CI trainer (model registry)",
            opts=child(self),
        )
        for account_name, account in (("deployer", self.deployer), ("trainer", self.trainer)):
            for index, principal in enumerate(principals):
                gcp.serviceaccount.IAMMember(
                    f"{name}-{account_name}-wif-{index}",
                    service_account_id=account.name,
                    role="roles/iam.workloadIdentityUser",
                    member=principal,
                    opts=child(self),
                )
        deployer_member = self.deployer.email.apply(lambda e: f"serviceAccount:{e}")
        for role in DEPLOYER_ROLES:
            gcp.projects.IAMMember(
                f"{name}-deployer-{role.split('/')[-1].replace('.', '-')}",
                project=project,
                role=role,
                member=deployer_member,
                opts=child(self),
            )
        # Each mints identity tokens for itself only: the deployer's smoke test calls the
        # private service, the trainer calls the private MLflow server
        # (scripts/gcp/deploy-service.sh, scripts/gcp/mlflow-token.sh).
        for account_name, account in (("deployer", self.deployer), ("trainer", self.trainer)):
            gcp.serviceaccount.IAMMember(
                f"{name}-{account_name}-token-creator",
                service_account_id=account.name,
                role="roles/iam.serviceAccountTokenCreator",
                member=account.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child(self),
            )
        if registry_repository is not None and registry_location is not None:
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-deployer-push",
                project=project,
                location=registry_location,
                repository=registry_repository,
                role="roles/artifactregistry.writer",
                member=deployer_member,
                opts=child(self),
            )
        self.deployer_email = self.deployer.email
        self.trainer_email = self.trainer.email
        self.register_outputs(
            {
                "workloadIdentityProvider": self.provider_name,
                "deployerServiceAccount": self.deployer_email,
                "trainerServiceAccount": self.trainer_email,
            }
        )
