from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_azure_native import authorization

from .._service import BatchJobStackBase, JobConfig
from .batch_job import BatchJob
from .service_stack import PLACEHOLDER_IMAGE


class BatchJobStack(BatchJobStackBase):
    """A batch-only project on Azure: a Container Apps job with no ingress, on demand or
    on a schedule. The same call as `goldpath_infra.gcp.BatchJobStack`."""

    TYPE = "goldpath:azure:BatchJobStack"

    def _build(
        self,
        name: str,
        env: str,
        platform: pulumi.StackReference,
        config: JobConfig,
        children: pulumi.ResourceOptions,
    ) -> Mapping[str, pulumi.Input[Any]]:
        client = authorization.get_client_config_output()
        resource_group = platform.require_output("resourceGroup")
        self.job = BatchJob(
            name,
            resource_group_name=resource_group,
            location=platform.require_output("location"),
            subscription_id=client.subscription_id,
            registry_id=platform.require_output("registryId"),
            registry_server=platform.require_output("imageRegistry"),
            image=config.image or PLACEHOLDER_IMAGE,
            ownership=config.ownership,
            args=config.args,
            schedule=config.schedule,
            timeout_s=config.timeout_s,
            env={
                "MODEL_NAME": config.model_name,
                "MLFLOW_TRACKING_URI": platform.require_output("mlflowTrackingUri"),
                **config.env,
            },
            image_managed_by_ci=True,
            opts=children,
        )
        # What the deploy scripts read (scripts/azure/, from `pulumi stack output`).
        return {
            "jobName": name,
            "identityClientId": self.job.identity_client_id,
            "resourceGroup": resource_group,
        }
