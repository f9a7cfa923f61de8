"""What a Container App and a Container Apps job both stand on: a Log Analytics workspace,
a managed environment logging to it, and a user-assigned identity holding AcrPull on the
registry and nothing else. Children of the calling component, named after it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import app, authorization, managedidentity, operationalinsights

from .._base import Ownership, child
from ._roles import ACR_PULL, role_definition


@dataclass(frozen=True)
class AppEnvironment:
    logs: operationalinsights.Workspace
    environment: app.ManagedEnvironment
    identity: managedidentity.UserAssignedIdentity
    pull: authorization.RoleAssignment


def app_environment(
    parent: pulumi.Resource,
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    registry_id: pulumi.Input[str],
    ownership: Ownership,
    log_retention_days: int,
    infrastructure_subnet_id: pulumi.Input[str] | None = None,
) -> AppEnvironment:
    logs = operationalinsights.Workspace(
        f"{name}-logs",
        resource_group_name=resource_group_name,
        location=location,
        sku={"name": "PerGB2018"},
        retention_in_days=log_retention_days,
        tags=ownership.labels,
        opts=child(parent),
    )
    keys = operationalinsights.get_shared_keys_output(
        resource_group_name=resource_group_name, workspace_name=logs.name
    )
    environment = app.ManagedEnvironment(
        f"{name}-env",
        resource_group_name=resource_group_name,
        location=location,
        app_logs_configuration={
            "destination": "log-analytics",
            "log_analytics_configuration": {
                "customer_id": logs.customer_id,
                "shared_key": keys.primary_shared_key,
            },
        },
        # In a PrivateNetwork's subnet, apps reach private endpoints (an LlmEndpoint in prod).
        vnet_configuration=(
            {"infrastructure_subnet_id": infrastructure_subnet_id}
            if infrastructure_subnet_id is not None
            else None
        ),
        tags=ownership.labels,
        opts=child(parent),
    )
    identity = managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_group_name=resource_group_name,
        location=location,
        tags=ownership.labels,
        opts=child(parent),
    )
    pull = authorization.RoleAssignment(
        f"{name}-acr-pull",
        principal_id=identity.principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=role_definition(subscription_id, ACR_PULL),
        scope=registry_id,
        opts=child(parent),
    )
    return AppEnvironment(logs, environment, identity, pull)
