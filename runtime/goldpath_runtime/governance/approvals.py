"""Who decides: every move of a serving alias needs an approver and a reason. The approver
is who approved the CI run's promotion environment, read from the forge (forge.py);
locally, `make promote APPROVER=<id> REASON=<text>`. A
`high` risk tier also needs VALIDATOR: a person other than the one who trained the version
and, in CI, a member of the platform's model-validation group (people.py).
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import GovernanceError
from .forge import recorded_approval
from .people import Directory, directory


def ci_context(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Who runs this job and where, from GitHub Actions', Azure DevOps' or GitLab's variables."""
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
        run = f"{server}/{repository}/actions/runs/{run_id}"
        return {"system": "github-actions", "actor": env.get("GITHUB_ACTOR", ""), "run_url": run}
    if env.get("TF_BUILD", "").lower() == "true":
        actor = env.get("BUILD_REQUESTEDFOREMAIL") or env.get("BUILD_REQUESTEDFOR", "")
        project = env.get("SYSTEM_COLLECTIONURI", "") + env.get("SYSTEM_TEAMPROJECT", "")
        run = f"{project}/_build/results?buildId={env.get('BUILD_BUILDID', '')}"
        return {"system": "azure-devops", "actor": actor, "run_url": run}
    if env.get("GITLAB_CI") == "true":
        run = env.get("CI_PIPELINE_URL", "")
        return {"system": "gitlab-ci", "actor": env.get("GITLAB_USER_LOGIN", ""), "run_url": run}
    return {}


def identity_key(name: str) -> str:
    """An identity as compared when the platform mapped nobody (see people.Directory)."""
    return Directory().key(name)


def same_person(first: str, second: str, people: Directory | None = None) -> bool:
    """Whether two names may be one person: independence checks refuse rather than trust
    a spelling (`Tom@bank.example` is `tom` unless the platform maps it elsewhere)."""
    return (people or Directory()).same_person(first, second)


def writer_identity(env: Mapping[str, str] = os.environ) -> str:
    """Who writes an audit entry: the CI pipeline (system and repository), or the account on
    this machine. Only the writer of an unfinished move may finish it."""
    if env.get("GITHUB_ACTIONS") == "true":
        return f"github-actions:{env.get('GITHUB_REPOSITORY', '')}"
    if env.get("TF_BUILD", "").lower() == "true":
        where = env.get("SYSTEM_COLLECTIONURI", "") + env.get("SYSTEM_TEAMPROJECT", "")
        return f"azure-devops:{where}/{env.get('BUILD_REPOSITORY_NAME', '')}"
    if env.get("GITLAB_CI") == "true":
        return f"gitlab-ci:{env.get('CI_SERVER_URL', '')}/{env.get('CI_PROJECT_PATH', '')}"
    return f"local:{getpass.getuser()}@{socket.gethostname()}"


def trainer_identity(env: Mapping[str, str] = os.environ) -> str:
    """Who trained: TRAINER, else the CI actor, else the git identity or the OS user."""
    if env.get("TRAINER"):
        return env["TRAINER"].strip()
    actor = ci_context(env).get("actor")
    if actor:
        return actor
    try:
        email = subprocess.run(
            ["git", "config", "user.email"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        email = ""
    return email or getpass.getuser()


@dataclass(frozen=True)
class Approval:
    action: str
    approver: str
    reason: str
    validator: str | None
    at: str
    system: str
    run_url: str | None

    def tags(self) -> dict[str, str]:
        tags = {
            f"{self.action}_by": self.approver,
            f"{self.action}_reason": self.reason,
            f"{self.action}_at": self.at,
        }
        if self.validator:
            tags["validated_by"] = self.validator
            tags["validated_at"] = self.at
        return tags


def _independent(
    validator: str | None, trainer: str | None, context: Mapping[str, str],
    people: Directory | None,
) -> None:  # fmt: skip
    """A high tier's validation: someone other than the trainer and, in CI, a member of the
    platform's model-validation group (on a laptop the decision is marked local)."""
    if validator is None:
        raise GovernanceError(
            "risk tier high: a promotion needs an independent validation, "
            f"VALIDATOR=<id of a person other than the trainer {trainer or '(unknown)'}>"
        )
    if trainer and same_person(validator, trainer, people):
        raise GovernanceError(
            f"risk tier high: VALIDATOR {validator} trained this version; the validation "
            "must come from someone else"
        )
    if people is None and context:
        raise GovernanceError(
            "risk tier high: no model-validation group is configured for this pipeline; "
            "the platform sets GOLDPATH_GOVERNANCE (README, Governance)"
        )
    if people is not None and not people.validates(validator):
        raise GovernanceError(
            f"risk tier high: VALIDATOR {validator} is not in the model-validation group "
            "(GOLDPATH_GOVERNANCE's validators); ask a member to validate"
        )


def approval(
    action: str, risk_tier: str, trainer: str | None, env: Mapping[str, str] = os.environ
) -> Approval:
    """The approval for `action` ("promoted" or "rolled_back"), or GovernanceError naming
    what is missing. In CI it is the run's recorded environment approval (forge.py): the
    approver, their comment as the reason (else REASON) and, for a promotion, the
    validation; APPROVER and VALIDATOR are a laptop's, and a CI run that sets them to
    someone else is refused."""
    context = ci_context(env)
    verb = "promotion" if action == "promoted" else "rollback"
    command = "make promote" if action == "promoted" else "make rollback"
    people = directory(env)
    if context:
        recorded = recorded_approval(env)
        for name in ("APPROVER", "VALIDATOR"):
            claimed = (env.get(name) or "").strip()
            if claimed and not same_person(claimed, recorded.approver, people):
                raise GovernanceError(
                    f"{name} {claimed} is not who approved this run ({recorded.approver}, "
                    f"{recorded.record}): in CI the approval record decides"
                )
        approver, comment = recorded.approver, recorded.comment
    else:
        approver, comment = (env.get("APPROVER") or "").strip(), ""
    if not approver:
        raise GovernanceError(
            f"a {verb} needs an approver: {command} APPROVER=<your id> REASON=<why>"
        )
    reason = comment or " ".join((env.get("REASON") or "").split())
    if not reason:
        raise GovernanceError(
            f"a {verb} needs a reason: {command} APPROVER={approver} REASON=<why>"
            + (" (in CI: the approval's comment)" if context else "")
        )
    # A validation is of a version being promoted; a rollback returns to one validated then.
    # In CI the validator is who approved the promotion environment (the validation group).
    validator = None
    if action == "promoted":
        validator = approver if context else (env.get("VALIDATOR") or "").strip() or None
    if action == "promoted" and risk_tier == "high":
        _independent(validator, trainer, context, people)
    return Approval(
        action=action,
        approver=approver,
        reason=reason,
        validator=validator if risk_tier == "high" or not context else None,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        system=context.get("system", "local"),
        run_url=context.get("run_url"),
    )
