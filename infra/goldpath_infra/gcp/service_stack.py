from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from .._service import ServiceConfig, ServiceStackBase
from .llm_endpoint import LlmEndpoint
from .monitoring import Monitoring
from .serving import ServingService

# Google's sample container: the first revision runs it until CI deploys the real image.
PLACEHOLDER_IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"


class ServiceStack(ServiceStackBase):
    """A project's service on GCP: a private Cloud Run service and its alerts, on top of the
    platform stack's outputs. The same call as `goldpath_infra.azure.ServiceStack`."""

    TYPE = "goldpath:gcp:ServiceStack"

    def _build(
        self,
        name: str,
        env: str,
        platform: pulumi.StackReference,
        config: ServiceConfig,
        children: pulumi.ResourceOptions,
    ) -> Mapping[str, pulumi.Input[Any]]:
        project = platform.require_output("projectId")
        deployer = platform.require_output("deployerServiceAccount")
        region = platform.require_output("region")
        env_vars: dict[str, pulumi.Input[str]] = {
            "MODEL_NAME": config.model_name,
            "MLFLOW_TRACKING_URI": platform.require_output("mlflowTrackingUri"),
        }
        # Which provider this cloud's LLM service uses, decided here once: the service's
        # environment and the evaluation gate's on main (scripts/provider-env.sh) read it.
        provider_env: dict[str, pulumi.Input[str]] = (
            {
                "PROVIDER": "vertex",
                "VERTEX_PROJECT": project,
                "VERTEX_LOCATION": region,
                "PROVIDER_MODEL": config.llm.model,
            }
            if config.llm
            else {}
        )
        env_vars |= provider_env
        self.service = ServingService(
            name,
            project=project,
            region=region,
            image=config.image or PLACEHOLDER_IMAGE,
            ownership=config.ownership,
            # CI's deployer calls /readyz after each rollout; add the service's real callers.
            invokers=[deployer.apply(lambda email: f"serviceAccount:{email}")],
            min_instances=config.min_instances,
            max_instances=config.max_instances,
            env=env_vars,
            public=config.public,
            image_managed_by_ci=True,
            opts=children,
        )
        self.monitoring = Monitoring(
            name,
            project=project,
            ownership=config.ownership,
            email=config.alert_email,
            service_name=name,
            opts=children,
        )
        # What the deploy scripts read (scripts/gcp/, from `pulumi stack output`).
        outputs: dict[str, pulumi.Input[Any]] = {
            "serviceUrl": self.service.url,
            "serviceAccount": self.service.service_account_email,
            "project": project,
            "region": region,
            "deployerServiceAccount": deployer,
        }
        if config.llm:
            self.llm = LlmEndpoint(
                f"{name}-llm",
                project=project,
                location=region,
                service_account_email=self.service.service_account_email,
                # CI runs the evaluation gate on main against dev's Vertex AI.
                evaluators=[platform.require_output("trainerServiceAccount")]
                if env == "dev"
                else [],
                opts=children,
            )
            # What the pipelines read (`pulumi stack output`): the provider for the gate.
            outputs |= {
                "providerEnv": provider_env,
                "provider": "vertex",
                "llmEndpoint": self.llm.endpoint,
                "llmModel": config.llm.model,
                "vertexProject": project,
                "vertexLocation": region,
            }
        return outputs
