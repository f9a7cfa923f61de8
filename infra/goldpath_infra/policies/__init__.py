"""goldpath's security policies, as `pulumi_policy.ResourceValidationPolicy` objects.

The same objects serve two runners: `pulumi preview --policy-pack infra/policypack` in CI
(against the real engine), and `goldpath_infra.testing.check_policies` over the resources
a mocked program registered (offline tests). Properties are read in their wire form
(camelCase), which is what both runners see.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from . import azure, gcp

Validate = Callable[[ResourceValidationArgs, ReportViolation], None]


def _each(*validators: Validate) -> Validate:
    """One rule, one implementation per cloud: each looks only at its own resource types."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for validator in validators:
            validator(args, report)

    return validate


def _policy(name: str, description: str, validate: Validate) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[ResourceValidationPolicy] = [
    _policy(
        "gcs-no-public-access", "GCS buckets enforce public access prevention.", gcp.storage_buckets
    ),
    _policy(
        "no-public-iam", "No IAM grant to allUsers or allAuthenticatedUsers.", gcp.no_public_iam
    ),
    _policy("acr-admin-disabled", "ACR admin user and anonymous pull are off.", azure.acr_admin),
    _policy(
        "key-vault-hardened", "Key Vault uses RBAC, soft delete, purge protection.", azure.key_vault
    ),
    _policy(
        "storage-hardened",
        "Storage: TLS 1.2+, HTTPS, no public blobs, no shared key.",
        azure.storage_accounts,
    ),
    _policy(
        "serving-private-by-default",
        "Services are not public unless the stack says so.",
        _each(gcp.serving_private, azure.serving_private),
    ),
    _policy(
        "wif-attribute-condition",
        "Workload identity providers pin who may log in.",
        gcp.wif_condition,
    ),
    _policy(
        "ai-local-auth-disabled",
        "AI accounts (Azure OpenAI) accept Entra ID tokens only, never keys.",
        azure.ai_local_auth,
    ),
    _policy(
        "no-long-lived-keys",
        "No API keys or service account keys: model access and CI are keyless.",
        gcp.no_keys,
    ),
    _policy(
        "ownership-labels",
        "Taggable resources carry owner, project and env.",
        _each(gcp.ownership, azure.ownership),
    ),
]
