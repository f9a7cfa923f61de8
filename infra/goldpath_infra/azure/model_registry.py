from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    keyvault,
    machinelearningservices,
    operationalinsights,
    storage,
)

from .._base import Ownership, child


class ModelRegistry(pulumi.ComponentResource):
    """An Azure Machine Learning workspace used as the MLflow tracking server and model
    registry, with the Key Vault (RBAC, soft delete, purge protection), Storage (HTTPS
    only, TLS 1.2, no public blobs, no shared keys) and Application Insights it needs.

    People read it through a role that can only read (`readers`, Entra group object ids):
    the CI identity, which alone holds a role that writes models, is then the only writer
    of @champion (CiIdentity grants it AzureML Data Scientist on the workspace).
    """

    tracking_uri: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: str,
        tenant_id: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        log_workspace_id: pulumi.Input[str] | None = None,
        readers: Sequence[str] = (),
        container_registry_id: pulumi.Input[str] | None = None,
        ownership: Ownership,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:ModelRegistry", name, None, opts)
        compact = name.replace("-", "")
        self.vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=f"{compact}kv"[:24],
            resource_group_name=resource_group_name,
            location=location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90,
                enable_purge_protection=True,
            ),
            tags=ownership.labels,
            opts=child(self),
        )
        self.storage = storage.StorageAccount(
            f"{name}-storage",
            account_name=f"{compact}st"[:24],
            resource_group_name=resource_group_name,
            location=location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS"},
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            tags=ownership.labels,
            opts=child(self),
        )
        if log_workspace_id is None:
            # Application Insights must be workspace-based: give it its own workspace.
            log_workspace_id = operationalinsights.Workspace(
                f"{name}-logs",
                resource_group_name=resource_group_name,
                location=location,
                sku={"name": "PerGB2018"},
                retention_in_days=30,
                tags=ownership.labels,
                opts=child(self),
            ).id
        self.insights = applicationinsights.Component(
            f"{name}-insights",
            resource_name_=f"{name}-insights",
            resource_group_name=resource_group_name,
            location=location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=log_workspace_id,
            tags=ownership.labels,
            opts=child(self),
        )
        self.workspace = machinelearningservices.Workspace(
            name,
            workspace_name=name,
            resource_group_name=resource_group_name,
            location=location,
            identity=machinelearningservices.ManagedServiceIdentityArgs(type="SystemAssigned"),
            sku=machinelearningservices.SkuArgs(
                name="Basic", tier=machinelearningservices.SkuTier.BASIC
            ),
            key_vault=self.vault.id,
            storage_account=self.storage.id,
            application_insights=self.insights.id,
            container_registry=container_registry_id,
            system_datastores_auth_mode="identity",
            tags=ownership.labels,
            opts=child(self),
        )
        self.tracking_uri = pulumi.Output.concat(
            "azureml://", location, ".api.azureml.ms/mlflow/v1.0/subscriptions/",
            subscription_id, "/resourceGroups/", resource_group_name,
            "/providers/Microsoft.MachineLearningServices/workspaces/", name,
        )  # fmt: skip
        self.workspace_id = self.workspace.id
        if readers:
            self._readers(name, subscription_id, readers)
        self.register_outputs({"trackingUri": self.tracking_uri, "workspaceId": self.workspace_id})

    def _readers(
        self, name: str, subscription_id: pulumi.Input[str], readers: Sequence[str]
    ) -> None:
        reader = authorization.RoleDefinition(
            f"{name}-reader",
            role_name=f"goldpath model registry reader ({name})",
            description="Reads the workspace's models, experiments and runs; writes nothing",
            scope=self.workspace.id,
            assignable_scopes=[self.workspace.id],
            permissions=[
                authorization.PermissionArgs(actions=READ_ONLY, not_actions=[], data_actions=[])
            ],
            opts=child(self),
        )
        for group in readers:
            authorization.RoleAssignment(
                f"{name}-reader-{group[:8]}",
                principal_id=group,
                principal_type="Group",
                role_definition_id=reader.id,
                scope=self.workspace.id,
                opts=child(self),
            )


# Every read of the workspace and of what is in it (models, experiments, runs, artifacts'
# metadata), and nothing that writes, deletes or acts.
READ_ONLY = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/*/read",
]
