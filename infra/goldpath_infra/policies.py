"""goldpath's security policies, as `pulumi_policy.ResourceValidationPolicy` objects.

The same objects serve two runners: `pulumi preview --policy-pack infra/policypack` in CI
(against the real engine), and `goldpath_infra.testing.check_policies` over the resources
a mocked program registered (offline tests). Properties are read in their wire form
(camelCase), which is what both runners see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ._base import PUBLIC_MARKER

REQUIRED_LABELS = ("owner", "project", "env")
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}

# Where each taggable resource type keeps its labels/tags.
GCP_LABEL_PATHS: dict[str, tuple[str, ...]] = {
    "gcp:storage/bucket:Bucket": ("labels",),
    "gcp:artifactregistry/repository:Repository": ("labels",),
    "gcp:cloudrunv2/service:Service": ("labels",),
    "gcp:secretmanager/secret:Secret": ("labels",),
    "gcp:sql/databaseInstance:DatabaseInstance": ("settings", "userLabels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": ("userLabels",),
    "gcp:monitoring/notificationChannel:NotificationChannel": ("userLabels",),
}
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
}


def _get(props: Mapping[str, Any], *path: str) -> Any:
    node: Any = props
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _public_allowed(labels: Any) -> bool:
    return isinstance(labels, Mapping) and labels.get(PUBLIC_MARKER) == "allowed"


def _storage_buckets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "gcp:storage/bucket:Bucket":
        return
    if args.props.get("publicAccessPrevention") != "enforced":
        report("bucket must set public_access_prevention='enforced'", None)
    if args.props.get("uniformBucketLevelAccess") is not True:
        report("bucket must use uniform bucket-level access (no object ACLs)", None)


def _no_public_iam(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("gcp:") or "iam" not in args.resource_type.lower():
        return
    members = set(args.props.get("members") or []) | {args.props.get("member")}
    public = sorted(m for m in members if m in PUBLIC_MEMBERS)
    if public:
        report(f"IAM grant to {public} makes the resource public; name the principals", None)


def _acr_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:containerregistry:Registry":
        return
    if args.props.get("adminUserEnabled") is not False:
        report("container registry must set admin_user_enabled=False (use Entra ID)", None)
    if args.props.get("anonymousPullEnabled") is True:
        report("container registry must not allow anonymous pull", None)


def _key_vault(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "azure-native:keyvault:Vault":
        return
    props = args.props.get("properties") or {}
    if props.get("enableRbacAuthorization") is not True:
        report("Key Vault must use RBAC authorization, not access policies", None)
    if props.get("enablePurgeProtection") is not True:
        report("Key Vault must enable purge protection", None)
    if props.get("enableSoftDelete") is False:
        report("Key Vault must keep soft delete on", None)


def _storage_accounts(args: ResourceValidationArgs, report: ReportViolation) -> None:
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


def _serving_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "gcp:cloudrunv2/service:Service":
        ingress = args.props.get("ingress", "INGRESS_TRAFFIC_ALL")
        if ingress == "INGRESS_TRAFFIC_ALL" and not _public_allowed(args.props.get("labels")):
            report(
                "Cloud Run service is publicly reachable; use internal ingress or set the "
                "stack's allowPublicIngress=true to make it explicit",
                None,
            )
    if args.resource_type == "azure-native:app:ContainerApp":
        ingress = _get(args.props, "configuration", "ingress") or {}
        if ingress.get("allowInsecure") is True:
            report("Container App must not accept plain HTTP (allow_insecure)", None)
        if ingress.get("external") is True and not _public_allowed(args.props.get("tags")):
            report(
                "Container App ingress is external; keep it internal or set the stack's "
                "allowPublicIngress=true to make it explicit",
                None,
            )


def _wif_condition(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
        return
    if not (args.props.get("attributeCondition") or "").strip():
        report("workload identity provider needs an attribute condition pinning who may", None)


def _ownership(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in GCP_LABEL_PATHS:
        labels = _get(args.props, *GCP_LABEL_PATHS[args.resource_type])
    elif args.resource_type in AZURE_TAGGABLE:
        labels = args.props.get("tags")
    else:
        return
    missing = [key for key in REQUIRED_LABELS if not (labels or {}).get(key)]
    if missing:
        report(f"missing ownership label(s)/tag(s) {missing}", None)


def _policy(name: str, description: str, validate: Any) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[ResourceValidationPolicy] = [
    _policy(
        "gcs-no-public-access", "GCS buckets enforce public access prevention.", _storage_buckets
    ),
    _policy("no-public-iam", "No IAM grant to allUsers or allAuthenticatedUsers.", _no_public_iam),
    _policy("acr-admin-disabled", "ACR admin user and anonymous pull are off.", _acr_admin),
    _policy(
        "key-vault-hardened", "Key Vault uses RBAC, soft delete, purge protection.", _key_vault
    ),
    _policy(
        "storage-hardened",
        "Storage: TLS 1.2+, HTTPS, no public blobs, no shared key.",
        _storage_accounts,
    ),
    _policy(
        "serving-private-by-default",
        "Services are not public unless the stack says so.",
        _serving_private,
    ),
    _policy(
        "wif-attribute-condition", "Workload identity providers pin who may log in.", _wif_condition
    ),
    _policy("ownership-labels", "Taggable resources carry owner, project and env.", _ownership),
]
