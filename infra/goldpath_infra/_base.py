"""What every component shares: the three ownership labels, and config errors that name
the key to fix instead of printing a traceback."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

ENVIRONMENTS = ("dev", "staging", "prod")
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# Set by a component only when its stack config explicitly allows public ingress; the
# policy pack lets such resources through and flags every other public one.
PUBLIC_MARKER = "public-ingress"


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError is reported by Pulumi without a stack trace."""


@dataclass(frozen=True)
class Ownership:
    """owner / project / env (and a project's model risk tier), applied as GCP labels or
    Azure tags on every resource."""

    owner: str
    project: str
    env: str
    risk_tier: str | None = None

    def __post_init__(self) -> None:
        for key in ("owner", "project", "env", "risk_tier"):
            value = getattr(self, key)
            if value is not None and not _LABEL.match(value):
                raise ConfigError(
                    f"{key} {value!r} cannot be a cloud label: use lowercase letters, digits, "
                    "'-' or '_', starting with a letter"
                )

    @property
    def labels(self) -> dict[str, str]:
        labels = {"owner": self.owner, "project": self.project, "env": self.env}
        if self.risk_tier is not None:
            labels["risk-tier"] = self.risk_tier
        return labels

    def with_public(self, public: bool) -> dict[str, str]:
        return {**self.labels, PUBLIC_MARKER: "allowed"} if public else self.labels


def child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


class StackConfig:
    """Typed reads of stack configuration, each failure naming `namespace:key`."""

    def __init__(self, namespace: str | None = None) -> None:
        self._config = pulumi.Config(namespace)
        self.namespace = self._config.name

    def _fail(self, key: str, problem: str, example: str, *, path: bool = False) -> ConfigError:
        command = (
            f"pulumi config set --path '{self.namespace}:{key}[0]' {example}"
            if path
            else f"pulumi config set {self.namespace}:{key} {example}"
        )
        return ConfigError(
            f"configuration {self.namespace}:{key} {problem}; set it with `{command}`"
        )

    def text(
        self,
        key: str,
        *,
        default: str | None = None,
        pattern: str | None = None,
        choices: Sequence[str] | None = None,
        example: str = "<value>",
    ) -> str:
        value = self._config.get(key)
        if value is None:
            if default is None:
                raise self._fail(key, "is missing", example)
            value = default
        if choices is not None and value not in choices:
            raise self._fail(key, f"is {value!r}, not one of {list(choices)}", choices[0])
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self._fail(key, f"is {value!r}, which is not valid", example)
        return value

    def optional(self, key: str) -> str | None:
        return self._config.get(key)

    def integer(self, key: str, *, default: int, minimum: int = 0, maximum: int = 1000) -> int:
        raw = self._config.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self._fail(key, f"is {raw!r}, not a whole number", str(default)) from None
        if not minimum <= value <= maximum:
            raise self._fail(key, f"is {value}, outside {minimum}..{maximum}", str(default))
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        raw = self._config.get(key)
        if raw is None:
            return default
        if raw.lower() not in {"true", "false"}:
            raise self._fail(key, f"is {raw!r}, not true or false", "false")
        return raw.lower() == "true"

    def structured(self, key: str) -> object:
        """A value set as YAML (a list or a map), None when unset; the caller checks its
        shape. What is not YAML comes back as the string "not structured"."""
        try:
            return self._config.get_object(key)
        except Exception:
            return "not structured"

    def strings(self, key: str, *, required: bool = True, pattern: str | None = None) -> list[str]:
        try:
            value = self._config.get_object(key)
        except Exception:
            value = "not a list"
        if value is None:
            if required:
                raise self._fail(key, "is missing", "<value>", path=True)
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "must be a list of strings", "<value>", path=True)
        for item in value:
            if pattern is not None and not re.fullmatch(pattern, item):
                raise self._fail(key, f"has {item!r}, which is not valid", "<value>", path=True)
        return list(value)


def workers_for(cpu: float | str) -> str:
    """WEB_CONCURRENCY for a container with this CPU limit: one worker per whole CPU, at
    least one. Set explicitly because a process inside the container sees the host's cores
    (os.cpu_count() ignores the quota), and each worker holds its own copy of the model."""
    return str(max(1, int(float(cpu))))


GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# A platform stage as GitHub's OIDC token names it (`job_workflow_ref`): the reusable
# workflow in the goldpath repository, at a full commit so a moved tag cannot widen trust.
DEPLOY_STAGE = r"[\w.-]+/[\w.-]+/\.github/workflows/[\w.-]+\.ya?ml@[0-9a-f]{40}"
GITLAB_ISSUER = "https://gitlab.com"  # a self-managed instance: its own URL (gitlabIssuer)


def github_issuer(config: StackConfig) -> str:
    """The OIDC issuer CI tokens come from: github.com's, or a GitHub Enterprise Server's
    (`githubEnterpriseHost`), which issues them under its own host name."""
    host = config.text(
        "githubEnterpriseHost",
        default="",
        pattern=r"|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+",
        example="github.acme-bank.example",
    )
    return f"https://{host}/_services/token" if host else GITHUB_ISSUER
