from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import network, privatedns

from .._base import Ownership, child

OPENAI_ZONE = "privatelink.openai.azure.com"


class PrivateNetwork(pulumi.ComponentResource):
    """A virtual network for one service's private traffic: a subnet delegated to its
    Container Apps environment, a subnet for private endpoints, and the private DNS zones
    that resolve those endpoints to private addresses inside it. What a service needs to
    reach a model endpoint whose public network access is off (an LlmEndpoint in prod)."""

    apps_subnet_id: pulumi.Output[str]
    endpoints_subnet_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str],
        ownership: Ownership,
        address_space: str = "10.40.0.0/16",
        dns_zones: Sequence[str] = (OPENAI_ZONE,),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:PrivateNetwork", name, None, opts)
        space = ipaddress.ip_network(address_space)
        if space.prefixlen > 22:
            raise ValueError(f"PrivateNetwork {name}: {address_space} is smaller than a /22")
        # A Container Apps environment needs at least a /23 of its own.
        apps, endpoints = next(space.subnets(new_prefix=23)), list(space.subnets(new_prefix=24))[2]
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=resource_group_name,
            location=location,
            address_space={"address_prefixes": [str(space)]},
            tags=ownership.labels,
            opts=child(self),
        )
        self.apps_subnet = network.Subnet(
            f"{name}-apps",
            resource_group_name=resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=str(apps),
            delegations=[{"name": "apps", "service_name": "Microsoft.App/environments"}],
            opts=child(self),
        )
        self.endpoints_subnet = network.Subnet(
            f"{name}-endpoints",
            resource_group_name=resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefix=str(endpoints),
            private_endpoint_network_policies="Disabled",
            # One subnet change at a time: Azure refuses concurrent updates of a VNet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.apps_subnet]),
        )
        self.zones: dict[str, privatedns.PrivateZone] = {}
        for zone_name in dns_zones:
            zone = privatedns.PrivateZone(
                f"{name}-{zone_name}",
                resource_group_name=resource_group_name,
                private_zone_name=zone_name,
                location="global",
                tags=ownership.labels,
                opts=child(self),
            )
            privatedns.VirtualNetworkLink(
                f"{name}-{zone_name}-link",
                resource_group_name=resource_group_name,
                private_zone_name=zone.name,
                location="global",
                virtual_network={"id": self.vnet.id},
                registration_enabled=False,
                tags=ownership.labels,
                opts=child(self),
            )
            self.zones[zone_name] = zone
        self.apps_subnet_id = self.apps_subnet.id
        self.endpoints_subnet_id = self.endpoints_subnet.id
        self.register_outputs({"vnetId": self.vnet.id, "appsSubnetId": self.apps_subnet_id})
