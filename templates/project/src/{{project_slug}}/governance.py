"""Model governance: the project's record (governance.yml), who approved a promotion or a
rollback and why, and the audit trail that outlives both.

Every move of the serving alias needs an approver and a reason. The approver is APPROVER
when set (CI passes the environment's reviewer), else the CI identity that runs the job;
locally there is none, so `make promote APPROVER=<id> REASON=<text>`. A `high` risk tier
also needs VALIDATOR: a person other than the one who trained the version. Each decision
is written to the version's tags (the latest) and appended to `audit.jsonl`, an artifact
of the model's governance run in MLflow (all of them, rollbacks included): approved before
the alias moves and applied after, so a killed run never leaves an unrecorded move.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import ProjectError

RECORD_FILE = "governance.yml"
RISK_TIERS = ("high", "medium", "low")
AUDIT_FILE = "audit.jsonl"
GOVERNANCE_RUN_TAG = "goldpath.governance"
RECORD_FIELDS = ("model", "kind", "owner", "owner_email", "risk_tier", "purpose")


class GovernanceError(ProjectError):
    """A decision the governance rules refuse; the message says what is missing."""


@dataclass(frozen=True)
class Record:
    model: str
    kind: str
    owner: str
    owner_email: str
    risk_tier: str
    purpose: str
    intended_use: str
    limitations: str

    def card_fields(self) -> dict[str, str]:
        """What every card (model or prompt) repeats from the record."""
        return {
            "owner": self.owner, "owner_email": self.owner_email, "risk_tier": self.risk_tier,
            "purpose": self.purpose, "intended_use": self.intended_use,
            "limitations": self.limitations,
        }  # fmt: skip


def find_record(start: Path | None = None) -> Path:
    """GOVERNANCE_RECORD when set (the tests' copy), else governance.yml in the working
    directory, in the project root above this package, or in the package (a wheel)."""
    if os.environ.get("GOVERNANCE_RECORD"):
        named = Path(os.environ["GOVERNANCE_RECORD"])
        if not named.is_file():
            raise GovernanceError(f"GOVERNANCE_RECORD={named}: no such file")
        return named
    here = Path(__file__).resolve()
    # The working directory, the project root above src/, or the copy a wheel carries.
    for folder in (start or Path.cwd(), here.parents[2], here.parent):
        candidate = folder / RECORD_FILE
        if candidate.is_file():
            return candidate
    raise GovernanceError(f"{RECORD_FILE} not found: run from the project's root folder")


RECORD_MAX_BYTES = 1 << 20
RECORD_MAX_DEPTH = 32


def _record_text(path: Path) -> str:
    """The record's text, refused in one line when it is not a regular file of sensible
    size, or uses what a record never needs and a hostile one abuses: aliases (a few
    hundred bytes of them expand to gigabytes) and deep nesting."""
    if path.is_symlink() or not path.is_file():
        raise GovernanceError(f"{path}: not a regular file")
    if path.stat().st_size > RECORD_MAX_BYTES:
        raise GovernanceError(f"{path}: larger than {RECORD_MAX_BYTES // 1024} KiB")
    try:
        text = path.read_text(encoding="utf-8")
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                raise GovernanceError(
                    f"{path} line {line}: uses a YAML anchor or alias; write each value out"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > RECORD_MAX_DEPTH:
                    raise GovernanceError(f"{path}: nested deeper than {RECORD_MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except (OSError, UnicodeDecodeError) as exc:
        raise GovernanceError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise GovernanceError(f"{path}{where}: not valid YAML") from None
    return text


def load_record(path: Path | None = None) -> Record:
    path = path or find_record()
    data = yaml.safe_load(_record_text(path))
    if not isinstance(data, dict):
        raise GovernanceError(f"{path}: expected a mapping of fields")
    for field in RECORD_FIELDS:
        if not str(data.get(field) or "").strip():
            raise GovernanceError(f"{path}: {field} is missing; set it (see the README)")
    if data["risk_tier"] not in RISK_TIERS:
        raise GovernanceError(
            f"{path}: risk_tier {data['risk_tier']!r} is not one of {', '.join(RISK_TIERS)}"
        )
    return Record(
        **{f: str(data[f]).strip() for f in RECORD_FIELDS},
        intended_use=str(data.get("intended_use") or "").strip(),
        limitations=str(data.get("limitations") or "").strip(),
    )


def ci_context(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Who runs this job and where, from GitHub Actions' or Azure DevOps' variables."""
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
    return {}


def trainer_identity(env: Mapping[str, str] = os.environ) -> str:
    """Who trained: TRAINER, else the CI actor, else the git identity or the OS user."""
    if env.get("TRAINER"):
        return env["TRAINER"].strip()
    actor = ci_context(env).get("actor")
    if actor:
        return actor
    try:
        email = subprocess.run(
            ["git", "config", "user.email"],  # noqa: S607 - git from PATH, like every git tool
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


def approval(
    action: str, risk_tier: str, trainer: str | None, env: Mapping[str, str] = os.environ
) -> Approval:
    """The approval for `action` ("promoted" or "rolled_back"), or GovernanceError naming
    what is missing."""
    context = ci_context(env)
    approver = (env.get("APPROVER") or context.get("actor") or "").strip()
    verb = "promotion" if action == "promoted" else "rollback"
    command = "make promote" if action == "promoted" else "make rollback"
    if not approver:
        raise GovernanceError(
            f"a {verb} needs an approver: {command} APPROVER=<your id> REASON=<why>"
        )
    reason = " ".join((env.get("REASON") or "").split())
    if not reason:
        raise GovernanceError(
            f"a {verb} needs a reason: {command} APPROVER={approver} REASON=<why>"
        )
    validator = (env.get("VALIDATOR") or "").strip() or None
    if action == "promoted" and risk_tier == "high":
        if validator is None:
            raise GovernanceError(
                "risk tier high: a promotion needs an independent validation, "
                f"VALIDATOR=<id of a person other than the trainer {trainer or '(unknown)'}>"
            )
        if trainer and validator.lower() == trainer.lower():
            raise GovernanceError(
                f"risk tier high: VALIDATOR {validator} trained this version; the validation "
                "must come from someone else"
            )
    return Approval(
        action=action,
        approver=approver,
        reason=reason,
        validator=validator,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        system=context.get("system", "local"),
        run_url=context.get("run_url"),
    )


def _governance_run(client: Any, experiment_id: str, subject: str) -> str:
    """The subject's governance run: the oldest, so that two first decisions made at once
    settle on one run (the one that loses the race deletes the run it made, still empty)."""

    def oldest() -> str | None:
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`{GOVERNANCE_RUN_TAG}` = '{subject}'",
            order_by=["attributes.start_time ASC"], max_results=1,
        )  # fmt: skip
        return str(runs[0].info.run_id) if runs else None

    found = oldest()
    if found is not None:
        return found
    run = client.create_run(
        experiment_id, tags={GOVERNANCE_RUN_TAG: subject}, run_name=f"governance-{subject}"
    )
    client.set_terminated(run.info.run_id)
    settled = oldest() or run.info.run_id
    if settled != run.info.run_id:
        client.delete_run(run.info.run_id)
    return str(settled)


AUDIT_PARAM = "audit."  # one run parameter per decision: audit.000001, audit.000002, ...
# MLflow keeps at most this many characters of a parameter (it would cut a longer entry).
AUDIT_ENTRY_MAX = 6000
AUDIT_FIELDS = ("subject", "version", "action", "approver", "reason", "at", "system", "step")


@dataclass(frozen=True)
class AuditLog:
    """The decisions of one subject, in order, and what could not be read: each damaged
    entry named by where it is and how to repair it (it is never completed or trusted)."""

    entries: list[dict[str, Any]]
    problems: list[str]
    last_damaged: bool  # the newest entry is one of the damaged: a resume must not guess


def _legacy_lines(client: Any, run_id: str) -> list[str]:
    """audit.jsonl, where projects before the per-decision entries wrote their log."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = client.download_artifacts(run_id, AUDIT_FILE, scratch)
        except Exception:  # no such artifact: nothing was recorded the old way
            return []
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()


def _entry(text: str) -> dict[str, Any] | str:
    """The decision in `text`, or why it is damaged."""
    try:
        entry = json.loads(text)
    except ValueError:
        return "not JSON (a write cut short?)"
    if not isinstance(entry, dict):
        return "not a decision (a JSON object)"
    missing = [f for f in AUDIT_FIELDS if not isinstance(entry.get(f), str)]
    return f"lacks {', '.join(missing)}" if missing else entry


def read_audit_log(client: Any, experiment_id: str, subject: str) -> AuditLog:
    run_id = _governance_run(client, experiment_id, subject)
    places: list[tuple[str, str, str]] = []  # (where, text, how to repair)
    for number, line in enumerate(_legacy_lines(client, run_id), 1):
        if line.strip():
            repair = (
                f"mlflow artifacts download -r {run_id} -a {AUDIT_FILE}, mend or delete the "
                "line, then log the file back to the run"
            )
            places.append((f"{AUDIT_FILE} line {number}", line, repair))
    params = client.get_run(run_id).data.params
    for key in sorted(k for k in params if k.startswith(AUDIT_PARAM)):
        repair = f"a parameter cannot be changed: tell model risk; run {run_id} holds it"
        places.append((f"audit entry {key}", params[key], repair))
    entries, problems = [], []
    last_damaged = False
    for where, text, repair in places:
        entry = _entry(text)
        last_damaged = isinstance(entry, str)
        if isinstance(entry, str):
            problems.append(
                f"{subject}: {where} is damaged ({entry}); skipped. To repair: {repair}"
            )
        else:
            entries.append(entry)
    return AuditLog(entries, problems, last_damaged)


def read_audit(client: Any, experiment_id: str, subject: str) -> list[dict[str, Any]]:
    return read_audit_log(client, experiment_id, subject).entries


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def append_audit(
    client: Any, experiment_id: str, subject: str, version: str, decision: Approval, **extra: str
) -> None:
    """Append one decision as the next audit entry. Each entry is a run parameter, which
    the tracking store will not overwrite: of two writers racing for the same number one
    is refused and takes the next, so concurrent decisions never lose a line."""
    run_id = _governance_run(client, experiment_id, subject)
    entry = {"subject": subject, "version": version, **asdict(decision), **extra}
    text = json.dumps(entry, sort_keys=True, ensure_ascii=False)
    if len(text) > AUDIT_ENTRY_MAX:
        raise GovernanceError(
            f"this decision is {len(text)} characters long, more than the audit log keeps "
            f"({AUDIT_ENTRY_MAX}): shorten REASON"
        )
    for attempt in range(200):
        params = client.get_run(run_id).data.params
        taken = [k[len(AUDIT_PARAM) :] for k in params if k.startswith(AUDIT_PARAM)]
        number = 1 + max((int(n) for n in taken if n.isdigit()), default=0)
        try:
            client.log_param(run_id, f"{AUDIT_PARAM}{number:06d}", text)
            return
        except Exception as exc:  # taken meanwhile (or the store was busy): try the next
            if "Changing param values is not allowed" not in str(exc) and "locked" not in str(exc):
                raise
            time.sleep(random.uniform(0, 0.05 * min(attempt + 1, 10)))  # noqa: S311 - jitter
    raise GovernanceError(f"{subject}: could not append to the audit log (the store is busy)")


APPROVED, APPLIED = "approved", "applied"


def move_alias(
    client: Any,
    experiment_id: str,
    subject: str,
    version: str,
    decision: Approval,
    previous: str | None,
    set_version_tag: Callable[[str, str, str, str], Any],
    apply: Callable[[], Any],
) -> None:
    """Record, move, record. The decision is appended to the audit log (step `approved`)
    before `apply` moves the alias, then set on the version's tags, marked `applied` in the
    log and noted in the record's `latest:` block. A run killed in between leaves an
    approved line and either no move (the next run writes its own decision) or a move that
    `resume` marks applied: never a move of the alias that nobody recorded."""
    append_audit(
        client, experiment_id, subject, version, decision, previous=previous or "", step=APPROVED
    )
    apply()
    _applied(client, experiment_id, subject, version, decision, previous, set_version_tag)


def _applied(
    client: Any,
    experiment_id: str,
    subject: str,
    version: str,
    decision: Approval,
    previous: str | None,
    set_version_tag: Callable[[str, str, str, str], Any],
    **extra: str,
) -> None:
    for key, value in decision.tags().items():
        set_version_tag(subject, version, key, value)
    append_audit(
        client,
        experiment_id,
        subject,
        version,
        decision,
        previous=previous or "",
        step=APPLIED,
        **extra,
    )
    note_latest(version, decision)


def resume(
    client: Any,
    experiment_id: str,
    subject: str,
    alias_now: str | None,
    set_version_tag: Callable[[str, str, str, str], Any],
) -> dict[str, Any] | None:
    """Finish the record of a move a killed run approved and made but did not mark applied
    (the alias holds its version); returns that entry, or None when there is none."""
    audit = read_audit_log(client, experiment_id, subject)
    for problem in audit.problems:
        _warn(problem)
    if audit.last_damaged or not audit.entries or audit.entries[-1].get("step") != APPROVED:
        return None  # nothing half-done, or nothing that can be trusted to finish
    entry = audit.entries[-1]
    if alias_now is None or entry["version"] != alias_now:
        return None  # killed before the move: nothing happened, the approval stays as it is
    decision = Approval(
        action=entry["action"], approver=entry["approver"], reason=entry["reason"],
        validator=entry.get("validator"), at=entry["at"], system=entry["system"],
        run_url=entry.get("run_url"),
    )  # fmt: skip
    previous = entry.get("previous") or None
    _applied(
        client, experiment_id, subject, alias_now, decision, previous, set_version_tag,
        resumed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    return entry


def note_latest(version: str, decision: Approval, path: Path | None = None) -> Path | None:
    """Set the record's `latest:` block to the champion this decision made; None when
    there is no record here to write. The record is edited as a document: every other
    field, comment and the order stay as the team wrote them."""
    try:
        path = path or find_record()
    except GovernanceError:
        return None
    document = _round_trip()
    record = document.load(_record_text(path))
    if not isinstance(record, dict):
        raise GovernanceError(f"{path}: expected a mapping of fields")
    latest: dict[str, str] = {"champion": version, f"{decision.action}_at": decision.at}
    if decision.validator:
        latest["validated"] = decision.at
        latest["validated_by"] = decision.validator
    record["latest"] = latest
    buffer = io.StringIO()
    document.dump(record, buffer)
    # Written beside it and renamed over it: a killed run leaves the old record or the new.
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(scratch, path)
    return path


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    document = YAML(typ="rt")
    document.preserve_quotes = True
    document.width = 4096  # never re-wrap the team's lines
    document.indent(mapping=2, sequence=4, offset=2)
    return document


def provenance(root: Path | None = None) -> dict[str, str | None]:
    """What made a version, for its card: the git commit, the template release the project
    came from (.copier-answers.yml), the lock file's hash and the CI run, when known."""
    root = root or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, like every git tool
            cwd=root, capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    answers_file = root / ".copier-answers.yml"
    answers: Any = {}
    if answers_file.is_file():
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    template = answers.get("_commit") if isinstance(answers, dict) else None
    lock = root / "uv.lock"
    return {
        "git_commit": commit or None,
        "template_version": str(template) if template else None,
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
        "ci_run": ci_context().get("run_url"),
    }


def with_card_id(card: dict[str, Any]) -> dict[str, Any]:
    """The card with its id: a hash of its content, so the same facts give the same id."""
    digest = hashlib.sha256(json.dumps(card, sort_keys=True, default=str).encode()).hexdigest()
    return {**card, "card_id": digest[:16]}


def card_record_section(card: dict[str, Any]) -> list[str]:
    """A card's Markdown lines from the governance record: purpose, use, limitations."""
    return [
        "## Purpose and intended use", "", card["purpose"], "", card["intended_use"], "",
        "## Limitations", "", card["limitations"], "",
    ]  # fmt: skip
