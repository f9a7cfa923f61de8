"""The platform's governance setting, written once for every forge: who validates models
(the model-validation group) and which forge user each e-mail address is. Pipelines pass it
to promotions as GOLDPATH_GOVERNANCE, which goldpath-runtime reads (governance.people)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from ._base import ConfigError, StackConfig

LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
SETTING = "GOLDPATH_GOVERNANCE"


def governance_setting(validators: Sequence[str], identities: Mapping[str, str]) -> str:
    return json.dumps({"validators": list(validators), "identities": dict(identities)},
                      sort_keys=True)  # fmt: skip


def read_people(config: StackConfig) -> tuple[list[str], dict[str, str]]:
    """`modelValidators` (forge user names or e-mails) and `identities` (e-mail -> user)."""
    validators = config.strings("modelValidators", pattern=f"{LOGIN}|{EMAIL}")
    if not validators:
        raise ConfigError(
            f"configuration {config.namespace}:modelValidators is empty; a high-tier model "
            "needs at least one validator"
        )
    identities = config.structured("identities") or {}
    if not isinstance(identities, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and re.fullmatch(EMAIL, k)
        and re.fullmatch(LOGIN, v) for k, v in identities.items()
    ):  # fmt: skip
        raise ConfigError(
            f"configuration {config.namespace}:identities must map e-mail addresses to user "
            f"names; set it with `pulumi config set --path "
            f"'{config.namespace}:identities.tom@bank\\.example' tom-gh`"
        )
    return validators, identities


def one_owner(config: StackConfig, key: str, paths: Sequence[str], owner: str, where: str) -> None:
    """A forge stack governs one organisation or group: every `key` path starts with it."""
    outside = [path for path in paths if path.split("/")[0] != owner]
    if outside:
        raise ConfigError(
            f"configuration {config.namespace}:{key} has {outside[0]!r}, outside {where} "
            f"{owner!r}: one stack per organisation or top-level group"
        )
