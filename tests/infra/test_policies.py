"""Each policy with a passing and a failing resource, run through the same helper that
checks mocked programs (goldpath_infra.testing.check_policies)."""

from __future__ import annotations

from typing import Any

import pytest

from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import RecordedResource, Recording, check_policies

LABELS = {"owner": "team", "project": "p", "env": "dev"}


def violations(type_: str, inputs: dict[str, Any]) -> list[str]:
    recording = Recording([RecordedResource(type_, "r", inputs, "urn:r", "", True)])
    return [f"{v.policy}: {v.message}" for v in check_policies(recording, POLICIES)]


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "gcs-no-public-access",
        "gcp:storage/bucket:Bucket",
        {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "labels": LABELS},
        {"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": True, "labels": LABELS},
    ),
    (
        "no-public-iam",
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
        {"member": "serviceAccount:ci@p.iam.gserviceaccount.com", "role": "roles/run.invoker"},
        {"member": "allUsers", "role": "roles/run.invoker"},
    ),
    (
        "no-public-iam",
        "gcp:storage/bucketIAMBinding:BucketIAMBinding",
        {"members": ["group:team@bank.example"]},
        {"members": ["group:team@bank.example", "allAuthenticatedUsers"]},
    ),
    (
        "acr-admin-disabled",
        "azure-native:containerregistry:Registry",
        {"adminUserEnabled": False, "anonymousPullEnabled": False, "tags": LABELS},
        {"adminUserEnabled": True, "tags": LABELS},
    ),
    (
        "key-vault-hardened",
        "azure-native:keyvault:Vault",
        {"properties": {"enableRbacAuthorization": True, "enablePurgeProtection": True}, "tags": LABELS},
        {"properties": {"enableRbacAuthorization": True}, "tags": LABELS},
    ),
    (
        "storage-hardened",
        "azure-native:storage:StorageAccount",
        {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
         "allowSharedKeyAccess": False, "tags": LABELS},
        {"minimumTlsVersion": "TLS1_0", "allowBlobPublicAccess": False,
         "allowSharedKeyAccess": False, "tags": LABELS},
    ),
    (
        "storage-hardened",
        "azure-native:storage:StorageAccount",
        {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
         "allowSharedKeyAccess": False, "tags": LABELS},
        {"minimumTlsVersion": "TLS1_2", "allowSharedKeyAccess": False, "tags": LABELS},
    ),
    (
        "serving-private-by-default",
        "gcp:cloudrunv2/service:Service",
        {"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY", "labels": LABELS},
        {"ingress": "INGRESS_TRAFFIC_ALL", "labels": LABELS},
    ),
    (
        "serving-private-by-default",
        "gcp:cloudrunv2/service:Service",
        {"ingress": "INGRESS_TRAFFIC_ALL", "labels": {**LABELS, "public-ingress": "allowed"}},
        {"labels": LABELS},
    ),
    (
        "serving-private-by-default",
        "azure-native:app:ContainerApp",
        {"configuration": {"ingress": {"external": False, "allowInsecure": False}}, "tags": LABELS},
        {"configuration": {"ingress": {"external": True, "allowInsecure": False}}, "tags": LABELS},
    ),
    (
        "serving-private-by-default",
        "azure-native:app:ContainerApp",
        {"configuration": {"ingress": {"external": False}}, "tags": LABELS},
        {"configuration": {"ingress": {"external": False, "allowInsecure": True}}, "tags": LABELS},
    ),
    (
        "wif-attribute-condition",
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
        {"attributeCondition": "assertion.repository in ['acme/model']"},
        {"attributeCondition": "  "},
    ),
    (
        "ownership-labels",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": {"userLabels": LABELS}},
        {"settings": {"userLabels": {"owner": "team"}}},
    ),
    (
        "ai-local-auth-disabled",
        "azure-native:cognitiveservices:Account",
        {"properties": {"disableLocalAuth": True}, "tags": LABELS},
        {"properties": {"publicNetworkAccess": "Disabled"}, "tags": LABELS},
    ),
    (
        "ownership-labels",
        "azure-native:cognitiveservices:Account",
        {"properties": {"disableLocalAuth": True}, "tags": LABELS},
        {"properties": {"disableLocalAuth": True}, "tags": {"owner": "team"}},
    ),
    (
        "ownership-labels",
        "azure-native:monitor:ActionGroup",
        {"tags": LABELS},
        {"tags": {}},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "type_", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_passes_good_and_flags_bad(
    policy: str, type_: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    assert violations(type_, good) == []
    found = violations(type_, bad)
    assert found, f"{policy} let a bad {type_} through"
    assert all(v.startswith(policy + ":") for v in found), found


def test_every_policy_has_a_case() -> None:
    # no-long-lived-keys has no passing resource of its type: tested on its own below.
    assert {p.name for p in POLICIES} == {case[0] for case in CASES} | {"no-long-lived-keys"}


def test_untaggable_resources_are_not_asked_for_labels() -> None:
    assert violations("azure-native:authorization:RoleAssignment", {"scope": "/x"}) == []


@pytest.mark.parametrize("type_", ["gcp:apikeys/key:Key", "gcp:serviceaccount/key:Key"])
def test_no_long_lived_key_is_ever_created(type_: str) -> None:
    found = violations(type_, {"displayName": "model access"})
    assert any(v.startswith("no-long-lived-keys:") for v in found), found


def test_a_service_account_itself_is_not_a_key() -> None:
    assert violations("gcp:serviceaccount/account:Account", {"accountId": "svc"}) == []
