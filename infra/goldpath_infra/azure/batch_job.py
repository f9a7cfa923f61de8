from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import app, authorization, managedidentity, operationalinsights

from .._base import Ownership, child
from ._roles import ACR_PULL, role_definition


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
        self.logs = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=resource_group_name,
            location=location,
            sku={"name": "PerGB2018"},
            retention_in_days=log_retention_days,
            tags=ownership.labels,
            opts=child(self),
        )
        keys = operationalinsights.get_shared_keys_output(
            resource_group_name=resource_group_name, workspace_name=self.logs.name
        )
        self.environment = app.ManagedEnvironment(
            f"{name}-env",
            resource_group_name=resource_group_name,
            location=location,
            app_logs_configuration={
                "destination": "log-analytics",
                "log_analytics_configuration": {
                    "customer_id": self.logs.customer_id,
                    "shared_key": keys.primary_shared_key,
                },
            },
            tags=ownership.labels,
            opts=child(self),
        )
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=resource_group_name,
            location=location,
            tags=ownership.labels,
            opts=child(self),
        )
        pull = authorization.RoleAssignment(
            f"{name}-acr-pull",
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_definition(subscription_id, ACR_PULL),
            scope=registry_id,
            opts=child(self),
        )
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
