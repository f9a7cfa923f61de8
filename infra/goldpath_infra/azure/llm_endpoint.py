from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, cognitiveservices, network

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
        private_endpoint_subnet_id: pulumi.Input[str] | None = None,
        private_dns_zone_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:LlmEndpoint", name, None, opts)
        if capacity < 1:
            raise ValueError(f"LlmEndpoint {name}: capacity must be >= 1 (thousands of tokens/min)")
        if private and (private_endpoint_subnet_id is None or private_dns_zone_id is None):
            # With public access off, only a private endpoint reaches the account.
            raise ValueError(
                f"LlmEndpoint {name}: private=True needs private_endpoint_subnet_id and "
                "private_dns_zone_id (a PrivateNetwork), or nothing could call it"
            )
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
        if private:
            self.private_endpoint = network.PrivateEndpoint(
                f"{name}-pe",
                resource_group_name=resource_group_name,
                location=location,
                subnet={"id": private_endpoint_subnet_id},
                private_link_service_connections=[
                    {
                        "name": name,
                        "private_link_service_id": self.account.id,
                        "group_ids": ["account"],
                    }
                ],
                tags=ownership.labels,
                opts=child(self),
            )
            network.PrivateDnsZoneGroup(
                f"{name}-pe-dns",
                resource_group_name=resource_group_name,
                private_endpoint_name=self.private_endpoint.name,
                private_dns_zone_group_name="default",
                private_dns_zone_configs=[
                    {"name": "openai", "private_dns_zone_id": private_dns_zone_id}
                ],
                opts=child(self),
            )
        self.endpoint = pulumi.Output.from_input(self.url_for(name))
        self.deployment_name = self.deployment.name
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "deployment": self.deployment_name,
                "account": self.account.id,
            }
        )
