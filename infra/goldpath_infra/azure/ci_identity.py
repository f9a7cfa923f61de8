from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, managedidentity

from .._base import GITHUB_ISSUER, GITLAB_ISSUER, ConfigError, Ownership, child
from ._roles import ACR_PUSH, AZUREML_DATA_SCIENTIST, CONTRIBUTOR, role_definition

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"  # noqa: S105 - an audience, not a secret


class CiIdentity(pulumi.ComponentResource):
    """A user-assigned identity that CI logs in as, with no secret: federated identity
    credentials trust GitHub Actions (the main branch and each deployment environment of
    the named repositories) and, optionally, one Azure DevOps service connection each.

    Rights: AcrPush on the registry, Contributor on the serving resource group only (to
    roll out Container App revisions), AzureML Data Scientist on the model registry.
    """

    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        subscription_id: pulumi.Input[str],
        github_repositories: Sequence[str],
        github_issuer: str = GITHUB_ISSUER,
        environments: Sequence[str] = ("dev", "staging", "prod", "model-promotion"),
        azure_devops: Sequence[tuple[str, str]] = (),
        gitlab_projects: Sequence[str] = (),
        gitlab_issuer: str = GITLAB_ISSUER,
        registry_id: pulumi.Input[str] | None = None,
        deploy_scope: pulumi.Input[str] | None = None,
        model_registry_id: pulumi.Input[str] | None = None,
        ownership: Ownership,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`azure_devops` holds (issuer, subject) pairs: the organisation's issuer
        `https://vstoken.dev.azure.com/<org id>` and `sc://<org>/<project>/<connection>`."""
        super().__init__("goldpath:azure:CiIdentity", name, None, opts)
        if not github_repositories and not azure_devops and not gitlab_projects:
            raise ConfigError(
                "CiIdentity needs at least one GitHub repository, ADO connection or GitLab project"
            )
        self.identity = managedidentity.UserAssignedIdentity(
            name,
            resource_name_=name,
            resource_group_name=resource_group_name,
            location=location,
            tags=ownership.labels,
            opts=child(self),
        )
        subjects: list[tuple[str, str, str]] = []
        for repo in github_repositories:
            slug = repo.replace("/", "-").replace(".", "-").lower()
            subjects.append((f"{slug}-main", github_issuer, f"repo:{repo}:ref:refs/heads/main"))
            subjects += [
                (f"{slug}-{env}", github_issuer, f"repo:{repo}:environment:{env}")
                for env in environments
            ]
        for index, (issuer, subject) in enumerate(azure_devops):
            subjects.append((f"azure-devops-{index}", issuer, subject))
        # GitLab's subject names the project and the ref, not the environment: the default
        # branch's pipelines, whose deployments its protected environments gate.
        for path in gitlab_projects:
            slug = path.replace("/", "-").replace(".", "-").lower()
            subject = f"project_path:{path}:ref_type:branch:ref:main"
            subjects.append((f"gitlab-{slug}-main", gitlab_issuer, subject))
        # Azure applies federated credentials of one identity one at a time; chaining
        # them avoids a conflict error when several are created together.
        previous: list[pulumi.Resource] = []
        for credential_name, issuer, subject in subjects:
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-{credential_name}",
                federated_identity_credential_resource_name=credential_name[:120],
                resource_group_name=resource_group_name,
                resource_name_=self.identity.name,
                issuer=issuer,
                subject=subject,
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credential]
        grants = [
            ("acr-push", ACR_PUSH, registry_id),
            ("deploy", CONTRIBUTOR, deploy_scope),
            ("model-registry", AZUREML_DATA_SCIENTIST, model_registry_id),
        ]
        for grant_name, role, scope in grants:
            if scope is None:
                continue
            authorization.RoleAssignment(
                f"{name}-{grant_name}",
                principal_id=self.identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition(subscription_id, role),
                scope=scope,
                opts=child(self),
            )
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.register_outputs({"clientId": self.client_id, "principalId": self.principal_id})
