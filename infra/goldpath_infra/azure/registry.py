from __future__ import annotations

import pulumi
from pulumi_azure_native import containerregistry

from .._base import Ownership, child


class ContainerRegistry(pulumi.ComponentResource):
    """Azure Container Registry with the admin user and anonymous pull disabled: images
    are pushed and pulled only with Entra ID identities (CI's AcrPush, apps' AcrPull)."""

    login_server: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        ownership: Ownership,
        sku: str = "Standard",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:ContainerRegistry", name, None, opts)
        self.registry = containerregistry.Registry(
            name,
            registry_name=name.replace("-", ""),
            resource_group_name=resource_group_name,
            location=location,
            sku={"name": sku},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            tags=ownership.labels,
            opts=child(self),
        )
        self.login_server = self.registry.login_server
        self.registry_id = self.registry.id
        self.register_outputs({"loginServer": self.login_server, "id": self.registry_id})
