"""This repository's own pipelines pass the same checks as the ones it generates."""

from __future__ import annotations

import re
from pathlib import Path

from generator._template import REPO_ROOT

from .pipeline_checks import (
    assert_actions_pinned,
    assert_schemas,
    assert_yamllint,
    assert_zizmor_clean,
    load,
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
            # The platform's deploy and promotion stages log in as the calling project's
            # deployer and trainer.
            logs_in = (name, job_name) in {("infra.yml", "preview"), ("infra.yml", "up"),
                                           ("release.yml", "libraries"),
                                           ("deploy.yml", "deploy"),
                                           ("promote.yml", "promote"),
                                           ("promote.yml", "publish")}  # fmt: skip
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


def test_pull_requests_run_every_test_in_shards() -> None:
    """No test is chosen by name: the only pytest command is the sharded whole suite, and
    the matrix names every shard of it."""
    ci = workflows(REPO_ROOT)["ci.yml"]
    assert "pull_request" in triggers(ci)
    commands = [
        (name, step["run"])
        for name, job in ci["jobs"].items()
        for step in job["steps"]
        if "pytest" in step.get("run", "")
    ]
    assert len(commands) == 1, commands
    name, command = commands[0]
    match = re.fullmatch(r'uv run pytest -n 2 --dist loadfile --shard="\$\{SHARD\}/(\d+)"', command)
    assert match is not None, command
    assert ci["jobs"][name]["strategy"]["matrix"]["shard"] == list(range(1, int(match[1]) + 1))
    assert ci["jobs"]["lint"]["steps"][-1]["run"] == "make lint"


def test_azure_devops_runs_the_same_shards() -> None:
    stages = load(REPO_ROOT / "azure-pipelines.yml")["stages"]
    jobs = {job["job"]: job for stage in stages for job in stage["jobs"]}
    commands = [step["bash"] for job in jobs.values() for step in job["steps"]
                if "pytest" in step.get("bash", "")]  # fmt: skip
    assert commands == ['uv run pytest -n 2 --dist loadfile --shard="${SHARD}/4"']
    shards = [entry["SHARD"] for entry in jobs["Tests"]["strategy"]["matrix"].values()]
    assert shards == [1, 2, 3, 4]


def test_the_fleet_rollout_runs_on_release_and_schedule_in_shards_with_a_short_lived_token() -> (
    None
):
    fleet = workflows(REPO_ROOT)["fleet.yml"]
    on = triggers(fleet)
    assert on["release"] == {"types": ["published"]}
    assert on["schedule"]
    jobs = fleet["jobs"]
    assert jobs["update"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert "goldpath fleet plan" in str(jobs["plan"]["steps"])
    steps = jobs["update"]["steps"]
    [app] = [s for s in steps if "create-github-app-token" in s.get("uses", "")]
    granted = {k: v for k, v in app["with"].items() if k.startswith("permission-")}
    assert granted == {"permission-contents": "write", "permission-pull-requests": "write",
                       "permission-statuses": "write"}  # fmt: skip
    [update] = [s for s in steps if "fleet update" in s.get("run", "")]
    assert update["env"]["GH_TOKEN"] == "${{ steps.app.outputs.token }}"
    assert "--open-pr" in update["run"]
    assert '--shard "$SHARD"' in update["run"]
    assert all(job["permissions"] == {"contents": "read"} for job in jobs.values())
    assert jobs["report"]["if"] == "always()"
    assert '--markdown "$GITHUB_STEP_SUMMARY"' in str(jobs["report"]["steps"])


def test_azure_devops_rolls_the_fleet_out_the_same_way() -> None:
    pipeline = load(REPO_ROOT / ".azure-pipelines" / "fleet.yml")
    jobs = {job["job"]: job for job in pipeline["stages"][0]["jobs"]}
    assert jobs["Shard"]["strategy"]["matrix"] == "$[ dependencies.Plan.outputs['plan.matrix'] ]"
    assert "--ci azure-devops" in jobs["Plan"]["steps"][1]["bash"]
    tokens = [job for job in jobs if "System.AccessToken" in str(jobs[job])]
    assert tokens == ["Shard"], "only the shard's update holds the token"
    assert jobs["Report"]["condition"] == "always()"
    assert "task.uploadsummary" in str(jobs["Report"]["steps"])
