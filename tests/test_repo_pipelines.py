"""This repository's own pipelines pass the same checks as the ones it generates."""

from __future__ import annotations

from pathlib import Path

from generator._template import REPO_ROOT

from .pipeline_checks import (
    assert_actions_pinned,
    assert_schemas,
    assert_yamllint,
    assert_zizmor_clean,
    shellcheck_scripts,
    triggers,
    workflows,
)


def test_own_pipelines_pass_zizmor_schemas_and_yamllint() -> None:
    assert_zizmor_clean(REPO_ROOT)
    assert_schemas(REPO_ROOT, github=True, ado=True)
    assert_yamllint(REPO_ROOT)
    assert_actions_pinned(REPO_ROOT)


def test_own_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck_scripts(REPO_ROOT, github=True, ado=True)


def test_release_publishes_only_a_verified_tag() -> None:
    flows = workflows(REPO_ROOT)
    release = flows["release.yml"]
    assert triggers(release)["push"]["tags"] == ["v*.*.*"]
    publish = release["jobs"]["publish"]
    assert publish["needs"] == "verify"
    assert publish["permissions"] == {"contents": "write"}
    for name, workflow in flows.items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            # Only the platform stack jobs reach a cloud, and the release's upload of the
            # libraries reaches the package index; tests never log in anywhere.
            logs_in = (name, job_name) in {("infra.yml", "preview"), ("infra.yml", "up"),
                                           ("release.yml", "libraries")}  # fmt: skip
            assert ("id-token" in job["permissions"]) is logs_in, f"{name}:{job_name}"


def test_release_builds_both_libraries_and_publishes_them_keyless() -> None:
    libraries = workflows(REPO_ROOT)["release.yml"]["jobs"]["libraries"]
    assert libraries["needs"] == "verify"
    assert libraries["permissions"] == {"contents": "read", "id-token": "write"}
    steps = {step.get("name", ""): step for step in libraries["steps"]}
    build = steps["Build both libraries at the tag's version"]
    assert build["run"] == 'uv run goldpath build-libraries --tag="$TAG" --out dist'
    assert build["env"]["TAG"] == "${{ github.ref_name }}"  # data in a variable, not the script
    publish = steps["Publish to the organisation's package index"]
    assert publish["if"] == "vars.PACKAGE_INDEX_UPLOAD_URL != ''"
    assert "--trusted-publishing always" in publish["run"]
    assert not any("secrets." in str(step) for step in libraries["steps"])


def test_platform_up_waits_for_tests_and_an_approval() -> None:
    infra = workflows(REPO_ROOT)["infra.yml"]["jobs"]
    assert infra["up"]["needs"] == "test"
    assert infra["up"]["environment"] == "platform-${{ matrix.stack }}"
    assert infra["up"]["strategy"]["max-parallel"] == 1
    for job in ("preview", "up"):
        script = " ".join(step.get("run", "") for step in infra[job]["steps"])
        assert "--policy-pack ../../policypack" in script, job
