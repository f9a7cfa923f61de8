"""Who people are, as the platform configures them, not as a project spells them.

GOLDPATH_GOVERNANCE is set by the platform (a GitHub organisation variable, an Azure
DevOps variable group the platform stack owns), never by a project:

    {"validators": ["vic", "val@bank.example"],          # the model-validation group
     "identities": {"tom@bank.example": "tom-gh"}}       # e-mail -> the forge's user name

Names are compared as identities: normalised (NFKC, no invisible characters), look-alike
letters read as Latin, case and whitespace ignored, and an e-mail address mapped to its
user name. An unmapped e-mail address is compared by its local part for independence
(two spellings of one person are refused rather than trusted), but never admitted to the
validation group by it: membership needs the group's own spelling or a mapping.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import GovernanceError
from ..text import skeleton

SETTING = "GOLDPATH_GOVERNANCE"
SETTING_MAX = 64 * 1024


def _folded(name: str) -> str:
    return "".join(skeleton(name).split())


@dataclass(frozen=True)
class Directory:
    """The validation group and the e-mail -> user-name mapping, both by folded key."""

    validators: frozenset[str] = frozenset()
    identities: Mapping[str, str] = field(default_factory=dict)

    def key(self, name: str) -> str:
        folded = _folded(name)
        return self.identities.get(folded, folded)

    def same_person(self, first: str, second: str) -> bool:
        one, other = self.key(first), self.key(second)
        return one == other or _local(one) == _local(other)

    def validates(self, name: str) -> bool:
        return self.key(name) in self.validators


def _local(key: str) -> str:
    return key.split("@", 1)[0]


def directory(env: Mapping[str, str] = os.environ) -> Directory | None:
    """The platform's directory, None when it configured none; a malformed one is one
    line naming the field (GovernanceError)."""
    text = env.get(SETTING, "").strip()
    if not text:
        return None
    if len(text) > SETTING_MAX:
        raise GovernanceError(f"{SETTING} is longer than {SETTING_MAX} characters: trim it")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise GovernanceError(
            f'{SETTING} is not JSON: {{"validators": [...], "identities": {{...}}}}'
        ) from None
    if not isinstance(data, dict):
        raise GovernanceError(f"{SETTING} must be a JSON object with validators and identities")
    validators, identities = data.get("validators", []), data.get("identities", {})
    if not isinstance(validators, list) or not all(
        isinstance(v, str) and v.strip() for v in validators
    ):
        raise GovernanceError(f"{SETTING}: validators must be a list of user names or e-mails")
    if not isinstance(identities, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "@" in k and v.strip()
        for k, v in identities.items()
    ):
        raise GovernanceError(
            f"{SETTING}: identities must map e-mail addresses to user names (strings)"
        )
    mapping = {_folded(k): _folded(v) for k, v in identities.items()}
    group = frozenset(mapping.get(_folded(v), _folded(v)) for v in validators)
    return Directory(group, mapping)
