"""What a project's service stack reads from its stack config, the same for every cloud:
each cloud's `ServiceStack(name, env=..., platform=..., config=...)` takes this, so a
generated `infra/__main__.py` has no per-cloud code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pulumi

from ._base import ENVIRONMENTS, ConfigError, Ownership, StackConfig


def current_environment() -> str:
    """The stack's name, which must be one of the environments."""
    env = pulumi.get_stack()
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"stack {env!r} is not an environment: name it one of {list(ENVIRONMENTS)}"
        )
    return env


KINDS = ("tabular", "llm")


@dataclass(frozen=True)
class LlmConfig:
    """The model an LLM service (project_kind=llm) calls, provisioned beside it as an
    `LlmEndpoint`: the model (an Azure OpenAI deployment or a Vertex model id), its version
    (Azure) and the deployment's capacity in thousands of tokens per minute (Azure)."""

    model: str
    model_version: str | None
    capacity: int
    # Azure, prod: the private network the service reaches its model through.
    address_space: str = "10.40.0.0/16"

    @classmethod
    def from_stack(cls, config: StackConfig) -> LlmConfig:
        return cls(
            model=config.text(
                "llmModel", pattern=r"[A-Za-z0-9][\w./-]{0,99}", example="gpt-4o-mini"
            ),
            model_version=config.optional("llmModelVersion"),
            capacity=config.integer("llmCapacity", default=10, minimum=1, maximum=100_000),
            address_space=config.text(
                "privateAddressSpace",
                default="10.40.0.0/16",
                pattern=r"10\.\d{1,3}\.\d{1,3}\.0/(1[6-9]|2[0-2])",
                example="10.52.0.0/16",
            ),
        )


@dataclass(frozen=True)
class ServiceConfig:
    """A service's settings: model name, ownership, scaling, ingress, alerts, image, and
    for an LLM service the model endpoint it calls."""

    model_name: str
    ownership: Ownership
    alert_email: str
    image: str | None
    public: bool = False
    min_instances: int = 0
    max_instances: int = 5
    llm: LlmConfig | None = None

    @classmethod
    def from_stack(
        cls,
        *,
        model_name: str,
        owner: str,
        project: str,
        env: str,
        alert_example: str,
        kind: str = "tabular",
    ) -> ServiceConfig:
        if kind not in KINDS:
            raise ConfigError(f"project kind {kind!r} is not one of {list(KINDS)}")
        config = StackConfig()
        return cls(
            model_name=model_name,
            ownership=Ownership(owner=owner, project=project, env=env, risk_tier=risk_tier(config)),
            alert_email=config.text(
                "alertEmail", pattern=r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", example=alert_example
            ),
            # Unset: the cloud's placeholder runs until CI deploys the project's own image.
            image=config.optional("image"),
            public=config.boolean("allowPublicIngress", default=False),
            min_instances=config.integer("minInstances", default=0, maximum=100),
            max_instances=config.integer("maxInstances", default=5, minimum=1, maximum=1000),
            llm=LlmConfig.from_stack(config) if kind == "llm" else None,
        )


def risk_tier(config: StackConfig) -> str | None:
    """The project's model risk tier (governance.yml's), labelled on its resources."""
    if config.optional("riskTier") is None:
        return None
    return config.text("riskTier", choices=("high", "medium", "low"))


# A batch job's smoke run (`python -m <package> smoke`): score a small generated sample, so
# the job proves it can load the model and write output without touching real data. It is
# also what an unconfigured job runs; `jobArgs` sets the real batch's arguments.
SMOKE_ARGS = ("smoke",)
_CRON = r"(\S+\s+){4}\S+"


@dataclass(frozen=True)
class JobConfig:
    """A batch-only project's job: model name, ownership, image, arguments, schedule."""

    model_name: str
    ownership: Ownership
    alert_email: str
    image: str | None
    args: tuple[str, ...] = SMOKE_ARGS
    schedule: str | None = None  # cron, in UTC; None: run on demand (CI, or by hand)
    timeout_s: int = 3600
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_stack(
        cls, *, model_name: str, owner: str, project: str, env: str, alert_example: str
    ) -> JobConfig:
        config = StackConfig()
        args = config.strings("jobArgs", required=False)
        schedule = config.optional("schedule")
        if schedule is not None:
            schedule = config.text("schedule", pattern=_CRON, example="'0 6 * * 1-5'")
        return cls(
            model_name=model_name,
            ownership=Ownership(owner=owner, project=project, env=env, risk_tier=risk_tier(config)),
            alert_email=config.text(
                "alertEmail", pattern=r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", example=alert_example
            ),
            image=config.optional("image"),
            args=tuple(args) if args else SMOKE_ARGS,
            schedule=schedule,
            timeout_s=config.integer("jobTimeoutSeconds", default=3600, minimum=60, maximum=86400),
        )


ConfigT = TypeVar("ConfigT", ServiceConfig, JobConfig)


def platform_stack(cloud: str) -> pulumi.StackReference:
    """The shared platform stack this service builds on (config `platformStack`)."""
    name = StackConfig().text(
        "platformStack",
        pattern=r"[\w.-]+/[\w.-]+/[\w.-]+",
        example=f"organization/goldpath-platform-{cloud}/dev",
    )
    return pulumi.StackReference(name)


def root_alias() -> pulumi.ResourceOptions:
    """Children that were top-level resources before ServiceStack existed keep their URNs."""
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])


class StackBase(pulumi.ComponentResource, Generic[ConfigT]):
    """One call for every cloud and both deployment shapes:
    `ServiceStack(name, env=..., platform=..., config=ServiceConfig)` for a web service,
    `BatchJobStack(name, env=..., platform=..., config=JobConfig)` for a batch-only project.
    Each cloud's subclass builds its resources in `_build` and returns its outputs."""

    TYPE = "goldpath:ServiceStack"
    exports: dict[str, pulumi.Input[Any]]

    def __init__(
        self,
        name: str,
        *,
        env: str,
        platform: pulumi.StackReference,
        config: ConfigT,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        children = pulumi.ResourceOptions.merge(root_alias(), pulumi.ResourceOptions(parent=self))
        outputs = self._build(name, env, platform, config, children)
        self.exports = {"serviceName": name, **outputs}
        self.register_outputs(self.exports)

    def _build(
        self,
        name: str,
        env: str,
        platform: pulumi.StackReference,
        config: ConfigT,
        children: pulumi.ResourceOptions,
    ) -> Mapping[str, pulumi.Input[Any]]:
        raise NotImplementedError


ServiceStackBase = StackBase[ServiceConfig]
BatchJobStackBase = StackBase[JobConfig]
