"""In CI the approval is the forge's record: who approved the run's model-promotion
environment (and their comment) is read from GitHub's or Azure DevOps' API, through the
real client, against a fake forge held to the published contract (fake_forge.py). A job's
variables cannot name another approver or validator, a high tier's validator must be in
the platform's group, and whatever the forge answers is one line when it is not an
approval."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fake_forge import (
    FakeForge,
    _github_validator,
    forge_running,
    github_approval,
    gitlab_deployment,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldpath_runtime.errors import GovernanceError
from goldpath_runtime.governance import approval

GROUP = json.dumps(
    {
        "validators": ["vic", "val@bank.example"],
        "identities": {"Vic.Tor@Bank.example": "vic", "tom@bank.example": "tom-gh"},
    }
)
PROJECT = "5f2b7c1e-0d3a-4f61-9b8e-2a4c6d8e0f12"


@pytest.fixture(scope="module")
def forge() -> Iterator[FakeForge]:
    with forge_running(FakeForge()) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(forge: FakeForge) -> None:
    forge.github, forge.approvals, forge.requests, forge.gitlab = [], [], [], []
    forge.timeline, forge.raw, forge.status = {"records": []}, None, 200


def github(forge: FakeForge, **more: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "trainer-tom", "GITHUB_RUN_ID": "42",
            "GITHUB_REPOSITORY": "acme-bank/rfq-model", "GITHUB_API_URL": forge.url,
            "GITHUB_TOKEN": forge.token, "GOLDPATH_GOVERNANCE": GROUP, **more}  # fmt: skip


def azure_devops(forge: FakeForge, **more: str) -> dict[str, str]:
    return {"TF_BUILD": "True", "BUILD_REQUESTEDFOREMAIL": "tom@bank.example",
            "SYSTEM_COLLECTIONURI": f"{forge.url}/", "SYSTEM_TEAMPROJECT": "markets ml",
            "SYSTEM_TEAMPROJECTID": PROJECT, "BUILD_BUILDID": "7",
            "SYSTEM_ACCESSTOKEN": forge.token, "GOLDPATH_GOVERNANCE": GROUP, **more}  # fmt: skip


def gitlab(forge: FakeForge, **more: str) -> dict[str, str]:
    return {"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "trainer-tom", "CI_JOB_ID": "901",
            "CI_PROJECT_ID": "31", "CI_API_V4_URL": f"{forge.url}/api/v4",
            "CI_JOB_TOKEN": forge.token, "CI_PROJECT_PATH": "markets/rfq-model",
            "GOLDPATH_GOVERNANCE": GROUP, **more}  # fmt: skip


def identity(name: str) -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "displayName": name.split("@")[0], "uniqueName": name}


def ado_approval(approver: str, comment: str, status: str = "approved") -> dict[str, Any]:
    person = identity(approver)
    return {"id": str(uuid.uuid4()), "status": status, "steps": [
        {"assignedApprover": identity("[markets]\\Model validation"), "actualApprover": person,
         "status": status, "comment": comment}]}  # fmt: skip


def test_github_the_approver_is_who_approved_model_promotion_and_their_comment_the_reason(
    forge: FakeForge,
) -> None:
    forge.github = [
        github_approval("mallory", "deploy it", environment="staging"),
        github_approval("val-rejects", "not yet", state="rejected"),
        github_approval("vic", "validated on the Q3 hold-out"),
    ]
    decision = approval("promoted", "high", "tom@bank.example", github(forge))
    assert (decision.approver, decision.validator) == ("vic", "vic")
    assert decision.reason == "validated on the Q3 hold-out"
    assert decision.system == "github-actions"
    assert [path for path, _ in forge.requests] == [
        "/repos/acme-bank/rfq-model/actions/runs/42/approvals"
    ]
    # A medium tier records the approver and no validation.
    assert approval("promoted", "medium", None, github(forge)).validator is None


def test_azure_devops_the_approver_is_the_checkpoints_approver(forge: FakeForge) -> None:
    checkpoint = ado_approval("val@bank.example", "validated: AUC 0.81 on Q3")
    forge.timeline = {"records": [
        {"id": str(uuid.uuid4()), "type": "Stage", "state": "completed"},
        {"id": checkpoint["id"], "type": "Checkpoint.Approval", "state": "completed"}]}  # fmt: skip
    forge.approvals = [checkpoint, ado_approval("mallory@bank.example", "other run")]
    decision = approval("promoted", "high", "tom@bank.example", azure_devops(forge))
    assert (decision.approver, decision.validator) == ("val@bank.example", "val@bank.example")
    assert decision.reason == "validated: AUC 0.81 on Q3"
    assert decision.system == "azure-devops"
    paths = [path.split("?")[0] for path, _ in forge.requests]
    assert paths == [
        f"/{PROJECT}/_apis/build/builds/7/timeline",
        f"/{PROJECT}/_apis/pipelines/approvals",
    ]
    # No comment on the approval: the run's reason parameter is the reason.
    checkpoint["steps"][0]["comment"] = ""
    assert approval("promoted", "medium", None, azure_devops(forge, REASON="weekly")).reason == (
        "weekly"
    )


def test_gitlab_the_approver_approved_this_jobs_model_promotion_deployment(
    forge: FakeForge,
) -> None:
    forge.gitlab = [
        gitlab_deployment(12, 900, ("mallory", "approved", "an earlier run")),
        gitlab_deployment(13, 901, ("val-rejects", "rejected", "not yet"),
                          ("vic", "approved", "validated on the Q3 hold-out")),
        gitlab_deployment(14, 901, ("boss", "approved", "prod"), environment="prod"),
    ]  # fmt: skip
    decision = approval("promoted", "high", "tom@bank.example", gitlab(forge))
    assert (decision.approver, decision.validator) == ("vic", "vic")
    assert decision.reason == "validated on the Q3 hold-out"
    assert decision.system == "gitlab-ci"
    paths = [path.split("?")[0] for path, _ in forge.requests]
    assert paths == ["/api/v4/projects/31/deployments", "/api/v4/projects/31/deployments/13"]
    with pytest.raises(GovernanceError, match="APPROVER boss is not who approved this run"):
        approval("promoted", "high", "tom", gitlab(forge, APPROVER="boss"))
    # Another job's deployment, or none approved: no promotion.
    with pytest.raises(GovernanceError, match="no deployment of the model-promotion environ"):
        approval("promoted", "medium", None, gitlab(forge, CI_JOB_ID="902"))
    forge.gitlab = [gitlab_deployment(13, 901, ("vic", "rejected", "no"))]
    with pytest.raises(GovernanceError, match="no approval of the model-promotion environment"):
        approval("promoted", "medium", None, gitlab(forge))
    with pytest.raises(GovernanceError, match="HTTP 401"):
        approval("promoted", "medium", None, gitlab(forge, CI_JOB_TOKEN="stolen"))  # noqa: S106 - a wrong one
    with pytest.raises(GovernanceError, match="CI_JOB_ID is malformed"):
        approval("promoted", "medium", None, gitlab(forge, CI_JOB_ID="1 OR 1=1"))


def test_a_jobs_variables_cannot_name_another_approver_or_validator(forge: FakeForge) -> None:
    """The issue's `GITHUB_ACTIONS=true GITHUB_ACTOR=boss`: in CI the record decides."""
    forge.github = [github_approval("vic", "validated")]
    for name in ("APPROVER", "VALIDATOR"):
        with pytest.raises(GovernanceError, match=f"{name} boss is not who approved this run"):
            approval("promoted", "high", "tom", github(forge, **{name: "boss"}))
    # The same person under another spelling is not refused.
    assert approval("promoted", "high", "tom", github(forge, VALIDATOR="VIC")).validator == "vic"


def test_no_recorded_approval_no_promotion(forge: FakeForge) -> None:
    forge.github = [github_approval("vic", "looks fine", environment="prod"),
                    github_approval("vic", "no", state="rejected")]  # fmt: skip
    with pytest.raises(GovernanceError, match="no approval of the model-promotion environment"):
        approval("promoted", "medium", None, github(forge))
    with pytest.raises(GovernanceError, match="no approval of this run's model-promotion"):
        approval("promoted", "medium", None, azure_devops(forge))
    forge.github = [github_approval("outsider", "mine")]
    with pytest.raises(GovernanceError, match="outsider is not in the model-validation group"):
        approval("promoted", "high", "tom", github(forge))
    forge.github = [github_approval("tom-gh", "I validate my own")]
    with pytest.raises(GovernanceError, match="trained this version"):
        approval("promoted", "high", "tom@bank.example", github(forge))


@pytest.mark.parametrize(
    ("change", "said"),
    [({"GITHUB_TOKEN": ""}, "GITHUB_TOKEN is missing"),
     ({"GITHUB_RUN_ID": "42; rm -rf /"}, "GITHUB_RUN_ID is malformed"),
     ({"GITHUB_REPOSITORY": "../../x"}, "GITHUB_REPOSITORY is malformed"),
     ({"GITHUB_API_URL": "http://evil.example"}, "is not an https URL"),
     ({"GITHUB_TOKEN": "wrong"}, "HTTP 401")],
)  # fmt: skip
def test_a_ci_run_that_cannot_read_its_record_is_refused_in_one_line(
    forge: FakeForge, change: dict[str, str], said: str
) -> None:
    forge.github = [github_approval("vic", "ok")]
    with pytest.raises(GovernanceError, match=said) as refused:
        approval("promoted", "medium", None, github(forge, **change))
    assert "\n" not in str(refused.value)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(answer=st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"[" * 100_000, b"{}", b"null", b'[{"state": "approved"}]',
                     b'[{"state": "approved", "environments": [{"name": "model-promotion"}],'
                     b' "user": {"login": ""}}]', b"x" * (2 << 20)]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["state", "user", "login", "environments",
                                                    "name", "comment"]), inner, max_size=4),
                 max_leaves=12).map(lambda v: json.dumps(v).encode()),
))  # fmt: skip
def test_whatever_the_forge_answers_is_an_approval_or_one_line(
    forge: FakeForge, answer: bytes
) -> None:
    forge.raw = answer
    for run in (github, gitlab):
        try:
            decision = approval("promoted", "medium", None, run(forge))
        except GovernanceError as refused:
            message = str(refused)
        else:
            message = ""
            assert decision.approver.strip()
        assert "\n" not in message


def test_the_fake_forge_answers_only_what_the_contract_allows() -> None:
    """The fake is held to GitHub's published schema: an answer GitHub could not give
    (an unknown state, no user) is refused before it is sent."""
    validator = _github_validator()
    validator.validate([github_approval("vic", "ok")])
    good = github_approval("vic", "ok")
    for wrong in ({**good, "state": "maybe"}, {k: v for k, v in good.items() if k != "user"}):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate([wrong])
