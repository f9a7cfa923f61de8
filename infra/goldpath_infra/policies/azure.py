"""Policies for Azure resources (see the package docstring for how they run)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from ._rules import get, missing_labels, public_allowed

# Taggable resource types: each must carry the ownership tags.
AZURE_TAGGABLE = {
    "azure-native:resources:ResourceGroup",
    "azure-native:containerregistry:Registry",
    "azure-native:operationalinsights:Workspace",
    "azure-native:app:ManagedEnvironment",
    "azure-native:app:ContainerApp",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:keyvault:Vault",
    "azure-native:storage:StorageAccount",
    "azure-native:applicationinsights:Component",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:databricks:Workspace",
    "azure-native:monitor:ActionGroup",
    "azure-native:monitor:MetricAlert",
    "azure-native:cognitiveservices:Account",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:PrivateEndpoint",
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
}


def acr_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:containerregistry:Registry":
        return
    if args.props.get("adminUserEnabled") is not False:
        report("container registry must set admin_user_enabled=False (use Entra ID)", None)
    if args.props.get("anonymousPullEnabled") is True:
        report("container registry must not allow anonymous pull", None)


def key_vault(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:keyvault:Vault":
        return
    props = args.props.get("properties") or {}
    if props.get("enableRbacAuthorization") is not True:
        report("Key Vault must use RBAC authorization, not access policies", None)
    if props.get("enablePurgeProtection") is not True:
        report("Key Vault must enable purge protection", None)
    if props.get("enableSoftDelete") is False:
        report("Key Vault must keep soft delete on", None)


def storage_accounts(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:storage:StorageAccount":
        return
    if args.props.get("minimumTlsVersion") not in {"TLS1_2", "TLS1_3"}:
        report("storage account must require TLS 1.2 or later (minimum_tls_version)", None)
    if args.props.get("allowBlobPublicAccess") is not False:
        report("storage account must set allow_blob_public_access=False", None)
    if args.props.get("enableHttpsTrafficOnly") is False:
        report("storage account must accept HTTPS only", None)
    if args.props.get("allowSharedKeyAccess") is not False:
        report("storage account must set allow_shared_key_access=False (Entra ID only)", None)


def serving_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "azure-native:app:ContainerApp":
        ingress = get(args.props, "configuration", "ingress") or {}
        if ingress.get("allowInsecure") is True:
            report("Container App must not accept plain HTTP (allow_insecure)", None)
        if ingress.get("external") is True and not public_allowed(args.props.get("tags")):
            report(
                "Container App ingress is external; keep it internal or set the stack's "
                "allowPublicIngress=true to make it explicit",
                None,
            )


def ownership(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in AZURE_TAGGABLE:
        missing_labels(args.props.get("tags"), report)


def ai_local_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:cognitiveservices:Account":
        return
    props = args.props.get("properties") or {}
    if props.get("disableLocalAuth") is not True:
        report(
            "AI account must set disable_local_auth=True: callers use Entra ID tokens, never keys",
            None,
        )
