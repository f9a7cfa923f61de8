from __future__ import annotations

import pulumi
from pulumi_azure_native import databricks

from .._base import Ownership, child


class DatabricksWorkspace(pulumi.ComponentResource):
    """A Premium Azure Databricks workspace (Unity Catalog needs Premium) with secure
    cluster connectivity: cluster nodes get no public IP."""

    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        subscription_id: pulumi.Input[str],
        ownership: Ownership,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:DatabricksWorkspace", name, None, opts)
        managed_group = pulumi.Output.concat(
            "/subscriptions/", subscription_id, "/resourceGroups/", name, "-managed"
        )
        self.workspace = databricks.Workspace(
            name,
            workspace_name=name,
            resource_group_name=resource_group_name,
            location=location,
            sku={"name": "premium"},
            managed_resource_group_id=managed_group,
            parameters={"enable_no_public_ip": {"value": True}},
            tags=ownership.labels,
            opts=child(self),
        )
        self.url = self.workspace.workspace_url.apply(lambda host: f"https://{host}")
        self.register_outputs({"url": self.url})
