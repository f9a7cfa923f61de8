from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, cognitiveservices

from .._base import Ownership, child
from ._roles import COGNITIVE_SERVICES_OPENAI_USER, role_definition


class LlmEndpoint(pulumi.ComponentResource):
    """An Azure OpenAI account (Cognitive Services, kind OpenAI) and one model deployment,
    reached with Entra ID tokens only: local (key) authentication is disabled, so no API
    key exists to leak. Public network access is off when `private` (prod), and the role
    Cognitive Services OpenAI User goes to the service's managed identity, plus the
    `evaluators` named explicitly (the CI identity that runs the evaluation gate on main),
    and nobody else."""

    endpoint: pulumi.Output[str]
    deployment_name: pulumi.Output[str]

    @staticmethod
    def url_for(name: str) -> str:
        """The endpoint an account of this name answers on (its custom subdomain), known
        before the account exists, so a service can be configured with it up front."""
        return f"https://{name}.openai.azure.com"

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        principal_id: pulumi.Input[str],
        model: str,
        model_version: str,
        capacity: int,
        private: bool,
        ownership: Ownership,
        evaluators: Sequence[pulumi.Input[str]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:LlmEndpoint", name, None, opts)
        if capacity < 1:
            raise ValueError(f"LlmEndpoint {name}: capacity must be >= 1 (thousands of tokens/min)")
        self.account = cognitiveservices.Account(
            name,
            account_name=name,
            resource_group_name=resource_group_name,
            location=location,
            kind="OpenAI",
            sku=cognitiveservices.SkuArgs(name="S0"),
            properties=cognitiveservices.AccountPropertiesArgs(
                custom_sub_domain_name=name,
                disable_local_auth=True,
                public_network_access="Disabled" if private else "Enabled",
                network_acls=cognitiveservices.NetworkRuleSetArgs(
                    default_action="Deny" if private else "Allow"
                ),
            ),
            tags=ownership.labels,
            opts=child(self),
        )
        self.deployment = cognitiveservices.Deployment(
            f"{name}-{model}",
            resource_group_name=resource_group_name,
            account_name=self.account.name,
            deployment_name=model,
            properties=cognitiveservices.DeploymentPropertiesArgs(
                model=cognitiveservices.DeploymentModelArgs(
                    format="OpenAI", name=model, version=model_version
                ),
            ),
            sku=cognitiveservices.SkuArgs(name="Standard", capacity=capacity),
            opts=child(self),
        )
        principals = {"user": principal_id} | {
            f"evaluator-{index}": evaluator for index, evaluator in enumerate(evaluators)
        }
        self.grants = [
            authorization.RoleAssignment(
                f"{name}-openai-{grantee}",
                principal_id=principal,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition(subscription_id, COGNITIVE_SERVICES_OPENAI_USER),
                scope=self.account.id,
                opts=child(self),
            )
            for grantee, principal in principals.items()
        ]
        self.endpoint = pulumi.Output.from_input(self.url_for(name))
        self.deployment_name = self.deployment.name
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "deployment": self.deployment_name,
                "account": self.account.id,
            }
        )
