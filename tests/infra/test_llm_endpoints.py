"""LlmEndpoint on both clouds under Pulumi mocks: model access granted to the service's
own identity only, no key anywhere, private in prod, and every policy passing."""

from __future__ import annotations

import pulumi
import pytest

from goldpath_infra import ENVIRONMENTS
from goldpath_infra._base import Ownership
from goldpath_infra.azure import LlmEndpoint as AzureLlmEndpoint
from goldpath_infra.azure._roles import COGNITIVE_SERVICES_OPENAI_USER
from goldpath_infra.gcp import LlmEndpoint as GcpLlmEndpoint
from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import check_policies, run_program

from .conftest import assert_component_shape

SUB = "00000000-0000-0000-0000-000000000000"
PRINCIPAL = "11111111-2222-3333-4444-555555555555"
SUBNET = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/e"
)
ZONE = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/z"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_azure_openai_takes_entra_tokens_only_and_is_private_in_prod(env: str) -> None:
    own = Ownership(owner="fo-quant-ml", project="trade-intake", env=env)

    def program() -> None:
        endpoint = AzureLlmEndpoint(
            f"trade-intake-{env}-oai", resource_group_name="rg", location="swedencentral",
            subscription_id=SUB, principal_id=PRINCIPAL, model="gpt-4o-mini",
            model_version="2024-07-18", capacity=30, private=env == "prod", ownership=own,
            private_endpoint_subnet_id=SUBNET if env == "prod" else None,
            private_dns_zone_id=ZONE if env == "prod" else None,
        )  # fmt: skip
        pulumi.export("endpoint", endpoint.endpoint)

    rec = run_program(program)
    account = rec.one("azure-native:cognitiveservices:Account")
    assert account.inputs["kind"] == "OpenAI"
    properties = account.inputs["properties"]
    assert properties["disableLocalAuth"] is True
    private = env == "prod"
    assert properties["publicNetworkAccess"] == ("Disabled" if private else "Enabled")
    assert properties["networkAcls"]["defaultAction"] == ("Deny" if private else "Allow")
    assert account.inputs["tags"] == own.labels
    deployment = rec.one("azure-native:cognitiveservices:Deployment")
    assert deployment.inputs["sku"] == {"name": "Standard", "capacity": 30}
    assert deployment.inputs["properties"]["model"]["name"] == "gpt-4o-mini"
    grants = rec.of_type("azure-native:authorization:RoleAssignment")
    assert len(grants) == 1
    assert grants[0].inputs["principalId"] == PRINCIPAL
    assert grants[0].inputs["roleDefinitionId"].endswith(COGNITIVE_SERVICES_OPENAI_USER)
    assert rec.stack_outputs["endpoint"] == f"https://trade-intake-{env}-oai.openai.azure.com"
    endpoints = rec.of_type("azure-native:network:PrivateEndpoint")
    assert len(endpoints) == (1 if private else 0)
    if private:
        link = endpoints[0].inputs["privateLinkServiceConnections"][0]
        assert link["groupIds"] == ["account"]
        assert endpoints[0].inputs["subnet"]["id"] == SUBNET
        zones = rec.one("azure-native:network:PrivateDnsZoneGroup").inputs
        assert zones["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == ZONE
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []


def test_a_private_azure_openai_needs_a_private_endpoint() -> None:
    own = Ownership(owner="fo-quant-ml", project="trade-intake", env="prod")
    with pytest.raises(Exception, match="private=True needs private_endpoint_subnet_id"):
        run_program(lambda: AzureLlmEndpoint(
            "oai", resource_group_name="rg", location="swedencentral", subscription_id=SUB,
            principal_id=PRINCIPAL, model="gpt-4o-mini", model_version="2024-07-18",
            capacity=10, private=True, ownership=own,
        ))  # fmt: skip


def test_azure_openai_capacity_must_be_positive() -> None:
    own = Ownership(owner="fo-quant-ml", project="trade-intake", env="dev")
    with pytest.raises(Exception, match="capacity must be >= 1"):
        run_program(lambda: AzureLlmEndpoint(
            "oai", resource_group_name="rg", location="swedencentral", subscription_id=SUB,
            principal_id=PRINCIPAL, model="gpt-4o-mini", model_version="2024-07-18",
            capacity=0, private=False, ownership=own,
        ))  # fmt: skip


def test_vertex_access_goes_to_the_service_account_only() -> None:
    def program() -> None:
        endpoint = GcpLlmEndpoint(
            "trade-intake-dev-llm", project="p-123456", location="europe-west4",
            service_account_email="trade-intake-dev@p-123456.iam.gserviceaccount.com",
        )  # fmt: skip
        pulumi.export("endpoint", endpoint.endpoint)

    rec = run_program(program)
    api = rec.one("gcp:projects/service:Service")
    assert api.inputs["service"] == "aiplatform.googleapis.com"
    assert api.inputs["disableOnDestroy"] is False
    grants = rec.of_type("gcp:projects/iAMMember:IAMMember")
    assert len(grants) == 1
    assert grants[0].inputs["role"] == "roles/aiplatform.user"
    assert grants[0].inputs["member"] == (
        "serviceAccount:trade-intake-dev@p-123456.iam.gserviceaccount.com"
    )
    assert not [r for r in rec.resources if r.type.endswith(("key:Key", "Key"))]
    assert rec.stack_outputs["endpoint"] == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p-123456"
        "/locations/europe-west4/endpoints/openapi"
    )
    assert_component_shape(rec)
    assert check_policies(rec, POLICIES) == []
