"""Policies for GCP resources (see the package docstring for how they run)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from ._rules import PUBLIC_MEMBERS, get, missing_labels, public_allowed

# Where each labelled resource type keeps its labels.
GCP_LABEL_PATHS: dict[str, tuple[str, ...]] = {
    "gcp:storage/bucket:Bucket": ("labels",),
    "gcp:artifactregistry/repository:Repository": ("labels",),
    "gcp:cloudrunv2/service:Service": ("labels",),
    "gcp:secretmanager/secret:Secret": ("labels",),
    "gcp:sql/databaseInstance:DatabaseInstance": ("settings", "userLabels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": ("userLabels",),
    "gcp:monitoring/notificationChannel:NotificationChannel": ("userLabels",),
}


def storage_buckets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "gcp:storage/bucket:Bucket":
        return
    if args.props.get("publicAccessPrevention") != "enforced":
        report("bucket must set public_access_prevention='enforced'", None)
    if args.props.get("uniformBucketLevelAccess") is not True:
        report("bucket must use uniform bucket-level access (no object ACLs)", None)


def no_public_iam(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("gcp:") or "iam" not in args.resource_type.lower():
        return
    members = set(args.props.get("members") or []) | {args.props.get("member")}
    public = sorted(m for m in members if m in PUBLIC_MEMBERS)
    if public:
        report(f"IAM grant to {public} makes the resource public; name the principals", None)


def serving_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "gcp:cloudrunv2/service:Service":
        ingress = args.props.get("ingress", "INGRESS_TRAFFIC_ALL")
        if ingress == "INGRESS_TRAFFIC_ALL" and not public_allowed(args.props.get("labels")):
            report(
                "Cloud Run service is publicly reachable; use internal ingress or set the "
                "stack's allowPublicIngress=true to make it explicit",
                None,
            )


def wif_condition(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
        return
    if not (args.props.get("attributeCondition") or "").strip():
        report("workload identity provider needs an attribute condition pinning who may", None)


def ownership(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in GCP_LABEL_PATHS:
        missing_labels(get(args.props, *GCP_LABEL_PATHS[args.resource_type]), report)


# Resources that are long-lived keys: an API key, or a service account key file.
KEY_RESOURCES = {"gcp:apikeys/key:Key", "gcp:serviceaccount/key:Key"}


def no_keys(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in KEY_RESOURCES:
        report(
            f"{args.resource_type} is a long-lived key; use workload identity or the "
            "service account's own identity (no keys for model access or anything else)",
            None,
        )
