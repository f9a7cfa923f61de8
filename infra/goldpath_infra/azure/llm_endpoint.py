from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, cognitiveservices

from .._base import Ownership, child
from ._roles import COGNITIVE_SERVICES_OPENAI_USER, role_definition


class LlmEndpoint(pulumi.ComponentResource):
    """An Azure OpenAI account (Cognitive Services, kind OpenAI) and one model deployment,
    reached with Entra ID tokens only: local (key) authentication is disabled, so no API
    key exists to leak. Public network access is off when `private` (prod), and the role
    Cognitive Services OpenAI User goes to the service's managed identity and nobody else."""

    endpoint: pulumi.Output[str]
    deployment_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        subscription_id: pulumi.Input[str],
        principal_id: pulumi.Input[str],
        model: str,
        model_version: str,
        capacity: int,
        private: bool,
        ownership: Ownership,
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
        self.user = authorization.RoleAssignment(
            f"{name}-openai-user",
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_definition(subscription_id, COGNITIVE_SERVICES_OPENAI_USER),
            scope=self.account.id,
            opts=child(self),
        )
        self.endpoint = pulumi.Output.concat("https://", name, ".openai.azure.com")
        self.deployment_name = self.deployment.name
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "deployment": self.deployment_name,
                "account": self.account.id,
            }
        )
