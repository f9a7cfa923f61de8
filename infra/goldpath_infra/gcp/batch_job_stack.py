from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from .._service import BatchJobStackBase, JobConfig
from .batch_job import BatchJob
from .service_stack import PLACEHOLDER_IMAGE


class BatchJobStack(BatchJobStackBase):
    """A batch-only project on GCP: a Cloud Run job with no ingress, on demand or on a
    schedule. The same call as `goldpath_infra.azure.BatchJobStack`."""

    TYPE = "goldpath:gcp:BatchJobStack"

    def _build(
        self,
        name: str,
        env: str,
        platform: pulumi.StackReference,
        config: JobConfig,
        children: pulumi.ResourceOptions,
    ) -> Mapping[str, pulumi.Input[Any]]:
        deployer = platform.require_output("deployerServiceAccount")
        project = platform.require_output("projectId")
        region = platform.require_output("region")
        self.job = BatchJob(
            name,
            project=project,
            region=region,
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
            # CI's deployer runs the smoke execution after each rollout.
            runners=[deployer.apply(lambda email: f"serviceAccount:{email}")],
            image_managed_by_ci=True,
            opts=children,
        )
        # What the deploy scripts read (scripts/gcp/, from `pulumi stack output`).
        return {
            "jobName": name,
            "serviceAccount": self.job.service_account_email,
            "project": project,
            "region": region,
            "deployerServiceAccount": deployer,
        }
