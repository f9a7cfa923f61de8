"""GitHub platform stack: the model-validation team, each ML repository's model-promotion
environment (its reviewers, no self-review, no admin bypass) and the organisation
variable GOLDPATH_GOVERNANCE that promotions read; with `deployStages`, what makes the
platform's deploy stage the way to staging and prod (PlatformStages). One stack per GitHub
organisation."""

from goldpath_infra import DEPLOY_STAGE, ConfigError, StackConfig
from goldpath_infra._governance import LOGIN, one_owner, read_people
from goldpath_infra.github import PlatformStages, PromotionGate

config = StackConfig()
owner = StackConfig("github").text("owner", pattern=r"[A-Za-z0-9-]{1,39}", example="acme-bank")
repositories = config.strings("githubRepositories", pattern=r"[\w.-]+/[\w.-]+")
one_owner(config, "githubRepositories", repositories, owner, "the organisation github:owner")
validators, identities = read_people(config)
names = [r.split("/")[1] for r in repositories]
PromotionGate("goldpath", repositories=names, validators=validators, identities=identities)

# Enforcement (#30): the platform's deploy stages at approved commits, newest first.
stages = config.strings("deployStages", required=False, pattern=DEPLOY_STAGE)
if stages:
    platform_repository = config.text(
        "platformRepository", default="goldpath", pattern=r"[\w.-]{1,100}"
    )
    one_owner(config, "deployStages", stages, owner, "the organisation github:owner")
    elsewhere = [s for s in stages if s.split("/")[1] != platform_repository]
    if elsewhere:
        raise ConfigError(
            f"configuration {config.namespace}:deployStages has {elsewhere[0]!r}, not a stage of"
            f" {owner}/{platform_repository} (platformRepository)"
        )
    approvers = config.strings("releaseApprovers", pattern=LOGIN)
    if not approvers:
        raise ConfigError(
            f"configuration {config.namespace}:releaseApprovers is empty; staging and prod"
            " need at least one approver"
        )
    PlatformStages(
        "goldpath", owner=owner, platform_repository=platform_repository,
        repositories=names, stages=stages, approvers=approvers,
    )  # fmt: skip
