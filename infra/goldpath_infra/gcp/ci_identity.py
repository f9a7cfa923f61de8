from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pulumi
import pulumi_gcp as gcp

from .._base import DEPLOY_STAGE, GITHUB_ISSUER, GITLAB_ISSUER, ConfigError, child

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


def _project_principal(path: str) -> Callable[[str], str]:
    return lambda pool: f"principalSet://iam.googleapis.com/{pool}/attribute.project_path/{path}"


def _stage_principal(stage: str) -> Callable[[str], str]:
    return lambda pool: (
        f"principalSet://iam.googleapis.com/{pool}/attribute.job_workflow_ref/{stage}"
    )


def _subject_principal(subject: str) -> Callable[[str], str]:
    return lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}"


class CiIdentity(pulumi.ComponentResource):
    """Keyless CI: a Workload Identity Pool trusting GitHub Actions (and optionally one
    Azure DevOps organisation), and two service accounts CI may impersonate: `deployer`
    (push images, deploy Cloud Run) and `trainer` (call the model registry).

    The providers' attribute conditions pin the exact repositories (GitHub) or service
    connections (Azure DevOps): a token from anywhere else is refused by STS.

    `deploy_stages` turns enforcement on: the deployer then trusts a GitHub job only while
    it runs one of the platform's deploy stages at an approved commit (the token's
    `job_workflow_ref`, e.g. `acme/goldpath/.github/workflows/deploy.yml@<sha>`), so a
    project's own workflow cannot deploy with it. Azure DevOps is held by its environments'
    required-template check instead; GitLab's ID token does not name included files.
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
        gitlab_projects: Sequence[str] = (),
        gitlab_issuer: str = GITLAB_ISSUER,
        deploy_stages: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:CiIdentity", name, None, opts)
        for stage in deploy_stages:
            if not re.fullmatch(DEPLOY_STAGE, stage):
                raise ConfigError(
                    f"deployStages entry {stage!r} is not a stage at a full commit: write"
                    " ORG/goldpath/.github/workflows/deploy.yml@<40-hex commit>"
                )
        if deploy_stages and gitlab_projects:
            raise ConfigError(
                "deployStages cannot hold GitLab projects to the platform's stage (their ID"
                " token does not name included files): give GitLab projects a platform stack"
                " of their own, or leave deployStages empty"
            )
        if not github_repositories and not azure_devops_connections and not gitlab_projects:
            raise ConfigError(
                "CiIdentity needs at least one GitHub repository, ADO connection or GitLab project"
            )
        self.pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=project,
            workload_identity_pool_id=f"{name}-ci"[:32],
            display_name="CI (GitHub Actions, Azure DevOps, GitLab)",
            opts=child(self),
        )
        self.github = self._oidc_provider(
            name, project, "github", "GitHub Actions", github_issuer,
            "repository", github_repositories, {
                "attribute.environment": "assertion.environment",
                "attribute.job_workflow_ref": "assertion.job_workflow_ref",
            },
        )  # fmt: skip
        self.provider_name = self.github.name
        principals: list[pulumi.Output[str]] = [
            self.pool.name.apply(_repository_principal(repo)) for repo in github_repositories
        ]
        deployer_principals = list(principals)
        if deploy_stages:
            deployer_principals = [
                self.pool.name.apply(_stage_principal(stage)) for stage in deploy_stages
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
            connection_principals = [
                self.pool.name.apply(_subject_principal(sub)) for sub in azure_devops_connections
            ]
            principals += connection_principals
            deployer_principals += connection_principals

        self.gitlab_provider_name: pulumi.Output[str] | None = None
        if gitlab_projects:
            # GitLab's ID token (`id_tokens`, audience: this provider's full name), pinned to
            # the named projects; its deployments are gated by protected environments.
            self.gitlab = self._oidc_provider(
                name, project, "gitlab", "GitLab CI/CD", gitlab_issuer,
                "project_path", gitlab_projects, {},
            )  # fmt: skip
            self.gitlab_provider_name = self.gitlab.name
            project_principals = [
                self.pool.name.apply(_project_principal(path)) for path in gitlab_projects
            ]
            principals += project_principals
            deployer_principals += project_principals

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
        bound = (
            ("deployer", self.deployer, deployer_principals),
            ("trainer", self.trainer, principals),
        )
        for account_name, account, trusted in bound:
            for index, principal in enumerate(trusted):
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
                "gitlabWorkloadIdentityProvider": self.gitlab_provider_name,
                "deployerServiceAccount": self.deployer_email,
                "trainerServiceAccount": self.trainer_email,
            }
        )

    def _oidc_provider(
        self,
        name: str,
        project: str,
        provider_id: str,
        display_name: str,
        issuer: str,
        claim: str,
        allowed: Sequence[str],
        more: dict[str, str],
    ) -> gcp.iam.WorkloadIdentityPoolProvider:
        """An OIDC provider of the pool whose `claim` must be one of `allowed`."""
        listed = ", ".join(f"'{value}'" for value in allowed)
        return gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-{provider_id}",
            project=project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=provider_id,
            display_name=display_name,
            attribute_mapping={
                "google.subject": "assertion.sub",
                f"attribute.{claim}": f"assertion.{claim}",
                "attribute.ref": "assertion.ref",
                **more,
            },
            attribute_condition=f"assertion.{claim} in [{listed}]",
            oidc={"issuer_uri": issuer},
            opts=child(self),
        )
