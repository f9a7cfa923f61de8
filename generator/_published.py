"""What CI publishes on a project's `governance-record` branch, and whether it verifies.

A promotion in CI publishes the record it updated (`governance.yml`), the subject's audit
chain exactly as the registry stores it (`audit.jsonl`, one decision per line, each line
carrying the SHA-256 of the line before it) and the version @champion held afterwards
(`registry.json`). Anyone who can push to that branch can write any of them, so none is
believed until they agree: the chain is intact, the record names the champion and the
validation the chain's last applied decision made, the registry holds that version (else
it was moved around the audit: an unrecorded move), and, when asked, the branch only ever
grew (a commit that removed or changed a published line rewrote history) and still holds
the chain a witness file saw on an earlier run.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldpath_runtime.governance.chain import ChainCheck, digest, verify_lines

from ._errors import GoldpathError
from ._repofile import read_at
from ._vcs import git_env
from ._yaml import MAX_BYTES, decode, loads

PUBLISHED = "governance-record"  # the branch CI promotions publish the record to
RECORD, AUDIT, REGISTRY = "governance.yml", "audit.jsonl", "registry.json"
DOCUMENTATION = "champion.md"  # the champion's technical documentation (docs-pack)
HISTORY_LIMIT = 10_000  # commits of the branch read when checking it only grew


@dataclass
class Publication:
    """The branch's files as read, and what was found wrong with them."""

    ref: str | None = None  # the ref it was read from; None: nothing published
    latest: dict[str, Any] = field(default_factory=dict)
    lines: list[str] | None = None  # the audit chain's lines; None: published without one
    chain: ChainCheck | None = None
    problems: list[str] = field(default_factory=list)
    card: str = ""  # the champion's card id and where its technical documentation is

    @property
    def verified(self) -> bool:
        return self.chain is not None and not self.problems


def read_publication(path: Path) -> Publication:
    """The local branch, else the clone's remote one; a broken file is a problem, never a
    traceback."""
    for ref in (f"refs/heads/{PUBLISHED}", f"refs/remotes/origin/{PUBLISHED}"):
        published = Publication(ref)
        try:
            data = read_at(path, ref, RECORD)
            if data is None:
                continue
            record = loads(decode(data, RECORD), RECORD)
            noted = record.get("latest") if isinstance(record, dict) else None
            published.latest = noted if isinstance(noted, dict) else {}
            _check_chain(path, published)
        except GoldpathError as exc:
            published.problems.append(f"{PUBLISHED}: {exc}")
        return published
    return Publication()


def _check_chain(path: Path, published: Publication) -> None:
    assert published.ref is not None
    data = read_at(path, published.ref, AUDIT)
    if data is None:
        return  # published before chains: believed on its times, as before
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        published.problems.append(f"{AUDIT} on {PUBLISHED} is not UTF-8 text")
        return
    # Lines end in \n only: a JSON string may hold U+2028, which splitlines() would cut.
    published.lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    published.chain = chain = verify_lines(published.lines)
    published.problems += [f"{AUDIT} line {n} {why}" for n, why in chain.broken[:3]]
    if len(chain.broken) > 3:
        published.problems.append(f"{len(chain.broken) - 3} more broken line(s)")
    recorded = chain.recorded()
    champion = str(published.latest.get("champion") or "")
    named = str(recorded["version"]) if recorded else ""
    if champion != named:
        published.problems.append(
            f"the record on {PUBLISHED} names champion {_v(champion)}, the audit's last "
            f"applied decision {_v(named)}"
        )
    elif recorded is not None:
        published.problems += _validation_problems(published.latest, chain, named)
    registry = read_at(path, published.ref, REGISTRY)
    if registry is not None:
        problems, card_id = _registry_problems(registry, named)
        published.problems += problems
        documented = read_at(path, published.ref, DOCUMENTATION) is not None
        where = f"{PUBLISHED}:{DOCUMENTATION}" if documented else ""
        published.card = " ".join(filter(None, (card_id, f"({where})" if where else "")))


def _v(version: str) -> str:
    """A version as people read it; anything else quoted, so it stays one short line."""
    if not version:
        return "none"
    return f"v{version}" if version.isdigit() and len(version) < 10 else repr(version[:20])


def _validation_problems(latest: dict[str, Any], chain: ChainCheck, version: str) -> list[str]:
    """The record's validation must be the one the chain gave `version` when promoted."""
    promoted = [
        e for e in chain.entries
        if e.get("step") == "applied" and e.get("action") == "promoted"
        and str(e.get("version")) == version and e.get("validator")
    ]  # fmt: skip
    chained = (str(promoted[-1]["at"]), str(promoted[-1]["validator"])) if promoted else ("", "")
    claimed = (str(latest.get("validated") or ""), str(latest.get("validated_by") or ""))
    if claimed == chained:
        return []
    return [
        f"the record on {PUBLISHED} says {_v(version)} was validated "
        f"{_by(claimed[1])}, the audit {_by(chained[1]) if chained[1] else 'records none'}"
    ]


def _by(person: str) -> str:
    if not person:
        return "never"
    shown = person[:60]
    return f"by {shown}" if shown.isprintable() else f"by {shown!r}"


def _registry_problems(data: bytes, recorded: str) -> tuple[list[str], str]:
    """What the registry snapshot says against the chain, and the champion's card id."""
    try:
        snapshot = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return [f"{REGISTRY} on {PUBLISHED} is not JSON"], ""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("version"), str | None):
        return [f"{REGISTRY} on {PUBLISHED} lacks the version @champion holds"], ""
    card = snapshot.get("card_id")
    card_id = card[:80] if isinstance(card, str) and card[:80].isprintable() else ""
    holds = str(snapshot.get("version") or "")
    if holds == recorded:
        return [], card_id
    read = str(snapshot.get("read_at") or "")[:40]
    read = read if read.isprintable() else repr(read)
    return [
        f"unrecorded move: @champion held {_v(holds)} (read {read or 'at publication'}), the "
        f"audit's last applied decision names {_v(recorded)}"
    ], card_id


def rewrites(path: Path, ref: str) -> list[str]:
    """Commits of the branch (first parents: what it was, publication after publication)
    that removed or changed a published line of the chain: it may only grow."""
    shown = subprocess.run(
        ["git", "log", "--first-parent", "--no-renames", "--numstat", "--format=%x00%H",
         f"-n{HISTORY_LIMIT}", ref, "--", AUDIT],
        cwd=path, env=git_env(), capture_output=True, check=False,
    )  # fmt: skip
    if shown.returncode != 0:
        return [f"the history of {PUBLISHED} cannot be read"]
    problems, commit = [], ""
    for line in shown.stdout.decode("utf-8", errors="replace").splitlines():
        if line.startswith("\x00"):
            commit = line[1:13]
            continue
        counts = line.split("\t")
        if len(counts) == 3 and counts[1] != "0":
            what = "made it binary" if counts[1] == "-" else f"removed or changed {counts[1]}"
            problems.append(
                f"{AUDIT} on {PUBLISHED} was rewritten: commit {commit} {what} published "
                "line(s); the branch may only grow"
            )
    return problems


@dataclass(frozen=True)
class Witness:
    """The chains a previous `inventory --verify` saw, by repository: how many lines and
    the digest of the last. A chain that no longer holds them was rewritten, however
    consistent it now looks (the whole branch recomputed and force-pushed)."""

    path: Path
    seen: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Witness:
        if not path.exists():
            return cls(path, {})
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ValueError("too large")
            seen = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GoldpathError(
                f"--witness {path}: not a witness file this tool wrote ({exc}); "
                "name a new file or restore it"
            ) from None
        if not isinstance(seen, dict) or not all(isinstance(v, dict) for v in seen.values()):
            raise GoldpathError(f"--witness {path}: not a witness file this tool wrote")
        return cls(path, seen)

    def check(self, repo: str, lines: list[str]) -> str | None:
        earlier = self.seen.get(repo)
        if earlier is None:
            return None
        count = earlier.get("lines")
        if not isinstance(count, int) or count < 1:
            return None
        if count > len(lines) or digest(lines[count - 1]) != earlier.get("head"):
            return (
                f"{AUDIT} on {PUBLISHED} no longer holds the {count} line(s) witnessed on "
                f"{str(earlier.get('at'))[:40]}: the branch was rewritten"
            )
        return None

    def note(self, repo: str, lines: list[str]) -> None:
        if lines:
            self.seen[repo] = {"lines": len(lines), "head": digest(lines[-1]),
                               "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip

    def save(self) -> None:
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(self.seen, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(scratch, self.path)
