from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import app

from .._base import Ownership
from ._environment import app_environment


class BatchJob(pulumi.ComponentResource):
    """A Container Apps job (no ingress) with its own identity (AcrPull on the registry
    only), run on demand (CI's smoke run, or by hand) or on a cron schedule."""

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        registry_id: pulumi.Input[str],
        registry_server: pulumi.Input[str],
        image: pulumi.Input[str],
        ownership: Ownership,
        args: Sequence[str],
        schedule: str | None = None,
        cpu: float = 1.0,
        memory: str = "2Gi",
        timeout_s: int = 3600,
        env: Mapping[str, pulumi.Input[str]] | None = None,
        log_retention_days: int = 30,
        image_managed_by_ci: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:BatchJob", name, None, opts)
        base = app_environment(
            self,
            name,
            resource_group_name=resource_group_name,
            location=location,
            subscription_id=subscription_id,
            registry_id=registry_id,
            ownership=ownership,
            log_retention_days=log_retention_days,
        )
        self.logs, self.environment, self.identity = base.logs, base.environment, base.identity
        pull = base.pull
        configuration: app.JobConfigurationArgsDict = {
            "trigger_type": "Manual" if schedule is None else "Schedule",
            "replica_timeout": timeout_s,
            "replica_retry_limit": 0,
            "registries": [{"server": registry_server, "identity": self.identity.id}],
        }
        if schedule is None:
            configuration["manual_trigger_config"] = {
                "parallelism": 1,
                "replica_completion_count": 1,
            }
        else:
            configuration["schedule_trigger_config"] = {
                "cron_expression": schedule,
                "parallelism": 1,
                "replica_completion_count": 1,
            }
        self.job = app.Job(
            name,
            job_name=name,
            resource_group_name=resource_group_name,
            location=location,
            environment_id=self.environment.id,
            identity={"type": "UserAssigned", "user_assigned_identities": [self.identity.id]},
            configuration=configuration,
            template={
                "containers": [
                    {
                        "name": "job",
                        "image": image,
                        "args": list(args),
                        "resources": {"cpu": cpu, "memory": memory},
                        "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                    }
                ]
            },
            tags=ownership.labels,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[pull],
                ignore_changes=["template.containers[0].image"] if image_managed_by_ci else None,
            ),
        )
        self.identity_client_id = self.identity.client_id
        self.register_outputs({"name": name, "identityClientId": self.identity_client_id})
