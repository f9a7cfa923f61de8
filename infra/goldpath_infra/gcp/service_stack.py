from __future__ import annotations

from collections.abc import Mapping

import pulumi

from .._service import ServiceConfig, ServiceStackBase
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
    ) -> Mapping[str, pulumi.Input[str]]:
        project = platform.require_output("projectId")
        deployer = platform.require_output("deployerServiceAccount")
        self.service = ServingService(
            name,
            project=project,
            region=platform.require_output("region"),
            image=config.image or PLACEHOLDER_IMAGE,
            ownership=config.ownership,
            # CI's deployer calls /readyz after each rollout; add the service's real callers.
            invokers=[deployer.apply(lambda email: f"serviceAccount:{email}")],
            min_instances=config.min_instances,
            max_instances=config.max_instances,
            env={
                "MODEL_NAME": config.model_name,
                "MLFLOW_TRACKING_URI": platform.require_output("mlflowTrackingUri"),
            },
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
        return {
            "serviceUrl": self.service.url,
            "serviceAccount": self.service.service_account_email,
        }
