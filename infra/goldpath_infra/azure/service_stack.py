from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from .._base import ConfigError
from .._service import ServiceConfig, ServiceStackBase
from .llm_endpoint import LlmEndpoint
from .monitoring import Monitoring
from .private_network import OPENAI_ZONE, PrivateNetwork
from .serving import ServingService

# Microsoft's sample container: the first revision runs it until CI deploys the real image.
PLACEHOLDER_IMAGE = "mcr.microsoft.com/k8se/quickstart:latest"


class ServiceStack(ServiceStackBase):
    """A project's service on Azure: a private Container App and its alerts, on top of the
    platform stack's outputs. The same call as `goldpath_infra.gcp.ServiceStack`."""

    TYPE = "goldpath:azure:ServiceStack"

    def _build(
        self,
        name: str,
        env: str,
        platform: pulumi.StackReference,
        config: ServiceConfig,
        children: pulumi.ResourceOptions,
    ) -> Mapping[str, pulumi.Input[Any]]:
        client = authorization.get_client_config_output()
        resource_group = platform.require_output("resourceGroup")
        env_vars: dict[str, pulumi.Input[str]] = {
            "MODEL_NAME": config.model_name,
            "MLFLOW_TRACKING_URI": platform.require_output("mlflowTrackingUri"),
        }
        llm_account = f"{name}-ai"
        # In prod the model endpoint takes no public traffic: the app reaches it privately.
        self.network = (
            PrivateNetwork(
                name,
                resource_group_name=resource_group,
                location=platform.require_output("location"),
                ownership=config.ownership,
                address_space=config.llm.address_space,
                opts=children,
            )
            if config.llm and env == "prod"
            else None
        )
        # Which provider this cloud's LLM service uses, decided here once: the service's
        # environment and the evaluation gate's on main (scripts/provider-env.sh) read it.
        provider_env: dict[str, pulumi.Input[str]] = (
            {
                "PROVIDER": "azure-openai",
                "AZURE_OPENAI_ENDPOINT": LlmEndpoint.url_for(llm_account),
                "PROVIDER_MODEL": config.llm.model,
            }
            if config.llm
            else {}
        )
        env_vars |= provider_env
        self.service = ServingService(
            name,
            resource_group_name=resource_group,
            location=platform.require_output("location"),
            subscription_id=client.subscription_id,
            registry_id=platform.require_output("registryId"),
            registry_server=platform.require_output("imageRegistry"),
            image=config.image or PLACEHOLDER_IMAGE,
            ownership=config.ownership,
            min_replicas=config.min_instances,
            max_replicas=config.max_instances,
            env=env_vars,
            public=config.public,
            image_managed_by_ci=True,
            infrastructure_subnet_id=self.network.apps_subnet_id if self.network else None,
            opts=children,
        )
        self.monitoring = Monitoring(
            name,
            resource_group_name=resource_group,
            ownership=config.ownership,
            email=config.alert_email,
            app_id=self.service.app.id,
            opts=children,
        )
        # What the deploy scripts read (scripts/azure/, from `pulumi stack output`).
        outputs: dict[str, pulumi.Input[Any]] = {
            "serviceUrl": self.service.url,
            "identityClientId": self.service.identity_client_id,
            "resourceGroup": resource_group,
        }
        if config.llm:
            if not config.llm.model_version:
                raise ConfigError(
                    "configuration llmModelVersion is missing; set it with "
                    "`pulumi config set llmModelVersion 2024-07-18` (the model's version)"
                )
            self.llm = LlmEndpoint(
                llm_account,
                resource_group_name=resource_group,
                location=platform.require_output("location"),
                subscription_id=client.subscription_id,
                principal_id=self.service.identity.principal_id,
                # CI runs the evaluation gate on main against this endpoint (dev's).
                evaluators=[platform.require_output("ciPrincipalId")] if env == "dev" else [],
                model=config.llm.model,
                model_version=config.llm.model_version,
                capacity=config.llm.capacity,
                private=self.network is not None,
                private_endpoint_subnet_id=self.network.endpoints_subnet_id
                if self.network
                else None,
                private_dns_zone_id=self.network.zones[OPENAI_ZONE].id if self.network else None,
                ownership=config.ownership,
                opts=children,
            )
            # What the pipelines read (`pulumi stack output`): the provider for the gate.
            outputs |= {
                "providerEnv": provider_env,
                "provider": "azure-openai",
                "llmEndpoint": self.llm.endpoint,
                "llmModel": config.llm.model,
            }
        return outputs
